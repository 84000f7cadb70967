"""Named errors and refusal reasons. ``review/`` raises them; the CLI and the flows report them.

Every message is one line, Chinese first, and names the bad value, so that a
person can act on it without reading a traceback. Code decides on ``Reason``
(an enum), never on message text: lockout, the CLI's exit status, ``--json``
output and the tests all read ``error.code``.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why something was refused. Every refusal the gate decides is one of these;
    ``review/law/gate.py`` is where each of the gate's reasons is decided."""

    # decided by the gate (review/law/gate.py)
    CLOSED = "closed"  # the matter is closed or rejected
    NOT_APPLICABLE = "not-applicable"  # the kind does not pass this step
    WRONG_ROLE = "wrong-role"
    SEPARATION_OF_DUTIES = "separation-of-duties"
    NO_CURRENT_OPINION = "no-current-opinion"  # no lawful opinion on the current version
    OUT_OF_ORDER = "out-of-order"
    NEEDS_REVISION = "needs-revision"  # 退回修改: the drafter must revise first
    STALE_VERSION = "stale-version"  # the step is about a version that is no longer current
    IDENTICAL_REVISION = "identical-revision"  # a "revision" identical to an earlier version
    ISSUED = "issued"  # already issued: no revision, no extension
    ALREADY_EXTENDED = "already-extended"
    HEAD_LAST = "head-last"  # 行政首长最后发表意见
    DUPLICATE_NUMBER = "duplicate-number"  # 发文字号 already used
    FUTURE_DATE = "future-date"  # a date a person gives lies in the future
    PERIOD_TOO_SHORT = "period-too-short"  # comment period under its minimum, no reason given
    HEARING_WINDOW = "hearing-window"  # the hearing request window is still open
    REVIEW_TIME = "review-time"  # deliberation too soon after the draft went to counsel
    UNKNOWN_FLAG = "unknown-flag"  # a flag the kind does not have
    CALENDAR = "calendar"  # a date beyond the official calendar data
    CONTROLS_UNCONFIRMED = "controls-unconfirmed"  # counsel (or the head) has not confirmed the flags yet
    FLAG_REQUIRED = "flag-required"  # a flag the law makes (重大合同 by amount) may not be removed
    ENFORCEMENT_OFFICERS = "enforcement-officers"  # fewer than two certified enforcement officers (持证)
    LEGAL_QUALIFICATION = "legal-qualification"  # 法制审核 without 法律职业资格 (行政处罚法 第五十八条)
    MEETING_KIND = "meeting-kind"  # a meeting that may not decide this kind (常务会议或者全体会议)
    EXTENSION_NOTICE = "extension-notice"  # an extension without telling the applicant its reason
    CHECKLIST_INCOMPLETE = "checklist-incomplete"  # an item of the kind's checklist unanswered (or unknown)
    CHECKLIST_NOTE = "checklist-note"  # 不符合 without a note saying why
    CHECKLIST_CONFLICT = "checklist-conflict"  # a 合法 conclusion over an item found 不符合
    NOT_IN_FORCE = "not-in-force"  # a register decision on a document not (or no longer) in force
    CORRECTION_OPEN = "correction-open"  # 继续有效 while a 督促整改 is open
    FOLLOW_UP = "follow-up"  # the revise-or-repeal matter named is not a fit follow-up
    UNKNOWN_SETTING = "unknown-setting"  # hefa config set: no law setting of that name
    SETTING_VALUE = "setting-value"  # hefa config set: a value not of the setting's type
    # decided at the door, before the gate
    CREDENTIALS = "credentials"  # see CredentialsRefused.why
    INVALID_INPUT = "invalid-input"
    NOT_FOUND = "not-found"
    EXISTS = "exists"  # an officer of that name exists
    SELF = "self"  # an admin acting on themselves where that is not allowed
    USAGE = "usage"  # a request the desk does not know
    DESK = "desk"  # the desk failed to answer


class CredentialFailure(StrEnum):
    """Why credentials were refused (kept apart from the message, which never says which part was wrong)."""

    FAILED = "failed"  # unknown officer, wrong token or wrong code
    REPLAYED = "replayed"  # a one-time code already used
    MISSING = "missing"  # no token or code given
    LOCKED = "locked"  # too many failures: locked for a while
    DISABLED = "disabled"  # 停用 by an admin
    EXPIRED = "expired"  # a web session past its idle or absolute expiry (or signed out)

    @property
    def counts_toward_lockout(self) -> bool:
        """A failure that could be a guess counts; a refusal of a locked or disabled account does not."""
        return self not in (CredentialFailure.LOCKED, CredentialFailure.DISABLED, CredentialFailure.EXPIRED)


class HefaError(Exception):
    """The root of every error hefa reports to a person as one line."""


class Refused(HefaError):
    """A step refused by the gate or by a check at the door; always audited."""

    def __init__(self, message: str, *, code: Reason | str = Reason.INVALID_INPUT) -> None:
        super().__init__(message)
        self.code = Reason(code)


class CredentialsRefused(Refused):
    """Unknown officer, wrong token or code, disabled or locked account.

    The message never says which part was wrong; ``why`` says it to the code.
    """

    def __init__(self, message: str, *, why: CredentialFailure, officer_name: str | None = None) -> None:
        super().__init__(message, code=Reason.CREDENTIALS)
        self.why = why
        self.officer_name = officer_name


class InvalidInput(Refused):
    """Input that can never be valid (over-long, control characters, bad date …)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code=Reason.INVALID_INPUT)


class NotFound(HefaError):
    """An unknown matter, officer or document id."""

    code = Reason.NOT_FOUND


class ChainBroken(HefaError):
    """The audit chain does not verify; the message names the first bad event."""


class ConfigurationError(HefaError):
    """hefa is not set up as a command needs (no key file, server unreachable …)."""


class CalendarError(HefaError):
    """A date the official calendar data cannot answer for (a year beyond the data, a bad data file)."""


class RulesTableError(HefaError):
    """The rules table itself is malformed (checked at import and in a test)."""
