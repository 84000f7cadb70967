"""Who acts. Standard library only: the CLI's fast path imports it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Credentials:
    """An officer's name and a token (CLI) or a one-time code (forms)."""

    name: str
    token: str | None = None
    code: str | None = None

    def __repr__(self) -> str:  # never print a secret
        return f"Credentials(name={self.name!r})"
