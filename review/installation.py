"""The installation (本机安装): its database schema, its key, its first administrator.

``hefa init`` calls ``initialise``; it is idempotent.
"""

from __future__ import annotations

from hefa.review.config import settings
from hefa.review.people import officers
from hefa.review.people.credentials import installation_key
from hefa.review.records import db


def initialise(admin: str = "admin") -> tuple[str, officers.Enrolment | None]:
    """Create or upgrade the schema, create the installation key if missing, and enrol the
    first administrator if there is none. Returns the database in use and the new admin's
    credentials (to show once), or None when an admin exists already."""
    db.upgrade(db.engine_for(settings().database))
    installation_key(create=True)
    return settings().database, officers.bootstrap_admin(admin)
