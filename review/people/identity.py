"""Who acts. Standard library only: the CLI's fast path imports it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Credentials:
    """An officer's name and a token (CLI), a one-time code (forms), a password with a
    one-time code (web sign-in, 登录), or a web session (the front door, once signed in)."""

    name: str
    token: str | None = None
    code: str | None = None
    password: str | None = None
    session: str | None = None

    def __repr__(self) -> str:  # never print a secret
        return f"Credentials(name={self.name!r})"
