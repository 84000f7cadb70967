"""The installation's own records (本机安装记录): what kind of installation it is, and the
law settings an administrator changed. Imported by ``models.py`` so the schema reads in one
place; the migration is ``0005_installation``.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel


class Installation(SQLModel, table=True):
    """The installation itself (本机安装), one row: a normal installation, or a drill (演练)
    created as such by ``hefa init --drill``. Only a drill honours a frozen date
    (``HEFA_TODAY``), and every audit event of a drill says so."""

    id: int = Field(default=1, primary_key=True)
    drill: bool = False
    created_at: dt.datetime
    event_seq: int  # the audit event that recorded the installation
    # The first audit event keyed with the chain key (HMAC), when the chain is keyed.
    chain_keyed_from: int | None = None


class LawSettingChange(SQLModel, table=True):
    """A change of one law setting (法律设置变更) by an administrator: name, value (JSON), who,
    why, and the audit event that recorded it; in force from that event on. The settings in
    force are the defaults of ``review/law/settings.py`` overlaid with these, in event order."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, max_length=64)
    value: str  # canonical JSON of the new value
    officer: str = Field(max_length=64)
    reason: str
    event_seq: int = Field(unique=True)  # the audit event that recorded it: effective from there
    recorded_at: dt.datetime
