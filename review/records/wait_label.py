"""The wait label (等待标记): where a matter waits, as the text its run is keyed by.

``review-v2``: waiting for the legality review of version 2; ``revise-v2``: version 2
went back to the drafter (退回修改); ``closed`` / ``rejected``: nothing to wait for.
A run that waits adds a nonce (``review-v2-1a2b3c4d``), so that every wait has a fresh
key; a run whose label no longer matches its matter is behind and must be woken.

Made and read only here (a round-trip test pins it). Standard library only: the flow
process and the reconciler import it without the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REVISE = "revise"
_LABEL = re.compile(r"^(?P<stage>[a-z_]+)(?:-v(?P<version>\d+))?$")


@dataclass(frozen=True)
class WaitLabel:
    stage: str  # a step of the rules table, ``revise``, or a final status (closed / rejected)
    version: int | None = None

    def __str__(self) -> str:
        return self.stage if self.version is None else f"{self.stage}-v{self.version}"

    @classmethod
    def of(cls, *, status: str, stage: str, needs_revision: bool, version: int) -> WaitLabel:
        """The label of a matter from its row: status, stage, revision flag, current version."""
        if status != "open":
            return cls(status)
        return cls(REVISE if needs_revision else stage, version)

    @classmethod
    def parse(cls, text: str) -> WaitLabel | None:
        match = _LABEL.match(text)
        if match is None:
            return None
        version = match.group("version")
        return cls(match.group("stage"), int(version) if version else None)

    def keyed(self, nonce: str) -> str:
        """The key of one wait: the label and a fresh nonce (hex, no dashes)."""
        if not nonce.isalnum():
            raise ValueError(f"nonce must be alphanumeric: {nonce!r}")
        return f"{self}-{nonce}"


def label_in(key: str) -> WaitLabel | None:
    """The label a wait key was made from (``keyed``), or None for a key hefa did not make."""
    base, _, nonce = key.rpartition("-")
    if not base or not nonce.isalnum():
        return None
    return WaitLabel.parse(base)
