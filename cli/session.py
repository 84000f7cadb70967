"""How the CLI finds an officer's credentials and prints answers.

A token is taken, in this order, from ``HEFA_TOKEN``, from the ``hefa login``
file (``$HEFA_HOME/login.json``, mode 0600), or from a hidden prompt. A token
given as ``--token`` works but is warned about loudly: it shows in the process
list and in shell history.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import typer

from hefa.review.paths import ensure_home, hefa_home
from hefa.review.people.identity import Credentials

TOKEN_WARNING = ("警告：--token 会出现在进程列表和命令历史中，请改用 HEFA_TOKEN 或 hefa login"
                 " / warning: --token is visible to other users; use HEFA_TOKEN or hefa login")


def clean_argv(argv: list[str]) -> list[str]:
    """The command line with bytes that are not UTF-8 made visible and refusable.

    Python hands undecodable bytes over as lone surrogates (U+DC80–U+DCFF), which
    cannot be encoded, stored, audited or printed. Each becomes U+FFFD (the
    replacement character), which the services' checks at the door refuse with one
    line — so the refusal is audited like any other. An argument naming an existing
    file is kept as it is, so that such a file can still be read.
    """
    cleaned = []
    for arg in argv:
        if any("\udc80" <= ch <= "\udcff" for ch in arg) and not os.path.exists(arg):
            arg = clean_text(arg)
        cleaned.append(arg)
    return cleaned


def clean_text(value: str) -> str:
    """A text (such as a file's name) with undecodable bytes as U+FFFD (see ``clean_argv``)."""
    try:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")


def login_file() -> Path:
    return hefa_home() / "login.json"


def saved_tokens() -> dict[str, str]:
    path = login_file()
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def save_token(name: str, token: str) -> Path:
    """Keep a token for ``name`` in the login file, readable by the owner only."""
    tokens = saved_tokens() | {name: token}
    ensure_home()
    path = login_file()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(tokens, f)
    os.chmod(path, 0o600)
    return path


def credentials(name: str | None, token: str | None = None, code: str | None = None) -> Credentials:
    """The acting officer's credentials, from the environment, the login file or a prompt."""
    if not name:
        fail("请用 --as 指定办理人员 / name the acting officer with --as", code="usage")
    if token:
        print(TOKEN_WARNING, file=sys.stderr)
    elif code:
        return Credentials(name, code=code)
    else:
        token = os.environ.get("HEFA_TOKEN") or saved_tokens().get(name)
        if not token and sys.stdin.isatty():
            token = getpass.getpass(f"{name} 的令牌 / token: ")
    return Credentials(name, token=token or None)


_json_mode = False


def set_json(enabled: bool) -> None:
    global _json_mode
    _json_mode = enabled



def emit(data: Any, human: str | None = None) -> None:
    """Print an answer: JSON when ``--json`` was given, otherwise the human text."""
    if _json_mode:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    elif human is not None:
        print(human)
    sys.stdout.flush()


def fail(message: str, *, code: str = "refused", exit_code: int = 2) -> NoReturn:
    """One line saying what was refused and why, then a non-zero exit."""
    if _json_mode:
        print(json.dumps({"accepted": False, "reason": message, "code": code}, ensure_ascii=False))
    else:
        print(f"拒绝 / refused: {message}", file=sys.stderr)
    raise typer.Exit(exit_code)


def guard(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a service; turn hefa's errors into one line and an exit code."""
    from hefa.review.errors import CalendarError, HefaError

    try:
        return fn(*args, **kwargs)
    except CalendarError as exc:
        fail(str(exc), code="calendar")
    except HefaError as exc:
        fail(str(exc), code=getattr(exc, "code", type(exc).__name__))
    except Exception as exc:
        fail_if_busy(exc)
        raise


def fail_if_busy(exc: Exception) -> None:
    """A database that stayed locked past its busy timeout: one line (exit 1), not a traceback.
    Nothing was recorded (the transaction rolled back); trying again is safe."""
    if type(exc).__name__ == "OperationalError" and ("locked" in str(exc) or "lock timeout" in str(exc)):
        fail("数据库正忙（另一写入长时间未结束），未作任何记录，请稍后重试 / the database stayed locked;"
             " nothing was recorded, try again", code="busy", exit_code=1)
