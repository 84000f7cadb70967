"""Child-process entry points for ``test_concurrency.py`` (spawned: kept light to import)."""

from __future__ import annotations

import json
import os
import traceback
from pathlib import Path
from typing import Any

ENV_KEYS = ("HEFA_HOME", "HEFA_DATABASE_URL", "HEFA_TODAY", "HEFA_SECRET_KEY")


def enter(env: dict[str, str]) -> None:
    """Point this child at the parent's installation and forget anything cached."""
    for key in ENV_KEYS:
        os.environ.pop(key, None)
    os.environ.update(env)
    from hefa.review.config import reset_settings
    from hefa.review.records import db

    reset_settings()
    db.dispose_all()


def _write(out: Path, result: dict[str, Any]) -> None:
    out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")


def submit_worker(env: dict[str, str], name: str, token: str, count: int, data: bytes, barrier: Any,
                  out: Path) -> None:
    enter(env)
    from hefa.review.services import steps

    barrier.wait(timeout=60)
    ids, errors = [], []
    for i in range(count):
        try:
            ids.append(steps.submit(steps.Credentials(name, token=token), kind="contract",
                                    title=f"合同 {name} {i}", data=data, filename="c.docx").matter_id)
        except Exception:
            errors.append(traceback.format_exc())
    _write(out, {"ids": ids, "errors": errors})


def opinion_worker(env: dict[str, str], name: str, token: str, matter: str, barrier: Any, out: Path) -> None:
    enter(env)
    from hefa.review.errors import Refused
    from hefa.review.records.queries import status_of
    from hefa.review.services import steps
    from tests.conftest import checklist_answers

    status_of(matter)  # warm up: engine, schema check, imports
    items = checklist_answers(matter)
    barrier.wait(timeout=60)
    try:
        steps.record_opinion(steps.Credentials(name, token=token), matter, conclusion="lawful", reasons="合法。",
                             items=items)
        _write(out, {"accepted": True})
    except Refused as exc:
        _write(out, {"accepted": False, "code": exc.code, "reason": str(exc)})
    except Exception:
        _write(out, {"accepted": False, "code": "error", "reason": traceback.format_exc()})


def refusal_worker(env: dict[str, str], name: str, count: int, barrier: Any, out: Path) -> None:
    enter(env)
    from hefa.review.errors import Refused
    from hefa.review.people import officers
    from hefa.review.services import steps

    barrier.wait(timeout=60)
    codes, errors = [], []
    for i in range(count):
        try:
            officers.whoami(steps.Credentials(name, token=f"hefa_wrong_{i}"))
            codes.append("accepted")
        except Refused as exc:
            codes.append(exc.code)
        except Exception:
            errors.append(traceback.format_exc())
    _write(out, {"codes": codes, "errors": errors})
