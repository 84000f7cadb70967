"""Which installation a process works on, told with the standard library only (the CLI's fast
path and the desk's handshake import it): the database's identity, the frozen date asked for,
and the law settings the environment or ``hefa.toml`` tries to set (which are refused).

The names of the law settings are read from the declaration of ``LawSettings``
(``review/law/settings.py``) with ``ast``, so that a field another engineer declares there is
known here without further code, and without importing pydantic (a test checks they agree).
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import tomllib
from functools import lru_cache
from pathlib import Path

from hefa.review.paths import hefa_home

_SETTINGS_SOURCE = Path(__file__).parent / "law" / "settings.py"
_PASSWORD = re.compile(r"^([a-z0-9+]+://[^:/@]*):[^@]*@", re.IGNORECASE)


@lru_cache(maxsize=1)
def law_setting_names() -> frozenset[str]:
    """The fields declared on ``LawSettings``, read from its source."""
    tree = ast.parse(_SETTINGS_SOURCE.read_text("utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "LawSettings":
            return frozenset(item.target.id for item in node.body
                             if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
                             and item.target.id != "model_config")
    return frozenset()


def _toml(home: Path) -> dict[str, object]:
    path = home / "hefa.toml"
    if not path.exists():
        return {}
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def law_overrides(home: Path | None = None, environ: dict[str, str] | None = None) -> list[str]:
    """Where the environment (``HEFA_<NAME>``) or ``hefa.toml`` names a law setting."""
    names = law_setting_names()
    env = os.environ if environ is None else environ
    found = [key for key in env if key.startswith("HEFA_") and key[5:].lower() in names]
    found += [f"hefa.toml: {k}" for k in _toml(home or hefa_home()) if k.lower() in names]
    return sorted(found)


def law_override_message(found: str) -> str:
    """The one line refusing a law setting named by the environment or ``hefa.toml``."""
    name = found.removeprefix("hefa.toml: ").removeprefix("HEFA_").lower()
    return (f"{found} 无效：{name} 是本机安装的法律设置（安装记录），只能由管理员用 hefa config set {name} 值 "
            f"--reason … 更改并留痕，不能由环境变量或 hefa.toml 改变，请删除它 / {name} is an installation record:"
            f" change it with `hefa config set {name} VALUE --reason …` (admin, audited), not the environment")


def database_url(home: Path | None = None, environ: dict[str, str] | None = None) -> str:
    """The database a process with this environment uses (as ``config.Settings.database``)."""
    env = os.environ if environ is None else environ
    home = home or hefa_home()
    named = env.get("HEFA_DATABASE_URL") or _toml(home).get("database_url")
    return str(named) if named else f"sqlite:///{home / 'hefa.db'}"


def database_identity(url: str) -> str:
    """A database's identity, safe to show: 16 hex digits of sha256 of its URL without password."""
    if url.startswith("postgres://") or url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return hashlib.sha256(_PASSWORD.sub(r"\1:***@", url).encode("utf-8")).hexdigest()[:16]


def frozen_date_asked(environ: dict[str, str] | None = None) -> str | None:
    """The frozen date this process asks for (``HEFA_TODAY``), as given."""
    env = os.environ if environ is None else environ
    return (env.get("HEFA_TODAY") or "").strip() or None
