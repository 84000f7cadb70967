"""Named errors. ``review/`` raises them; the CLI and the flows report them.

Every message is one line, Chinese first, and names the bad value, so that a
person can act on it without reading a traceback.
"""

from __future__ import annotations


class HefaError(Exception):
    """Base of every error that hefa reports to a person as one line."""


class Refused(HefaError):
    """A step refused by the gate or by a check at the door; always audited.

    ``code`` is a short machine-readable reason (``out-of-order``, ``wrong-role``,
    ``stale-opinion``, ``credentials`` …) used by tests and ``--json`` output.
    """

    def __init__(self, message: str, *, code: str = "refused") -> None:
        super().__init__(message)
        self.code = code


class CredentialsRefused(Refused):
    """Unknown officer, wrong token or code, disabled or locked account.

    The message never says which part was wrong.
    """

    def __init__(self, message: str, *, officer_name: str | None = None) -> None:
        super().__init__(message, code="credentials")
        self.officer_name = officer_name


class NotFound(HefaError):
    """An unknown matter, officer or document id."""


class InvalidInput(Refused):
    """Input that can never be valid (over-long, control characters, bad date …)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="invalid-input")


class ChainBroken(HefaError):
    """The audit chain does not verify; the message names the first bad event."""


class ConfigurationError(HefaError):
    """hefa is not set up as a command needs (no key file, server unreachable …)."""
