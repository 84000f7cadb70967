"""归档 (国务院令第713号 art. 33): a matter's whole dossier written to a folder.

The target folder is the caller's; every file name is made here from ids and
hashes, and each path is checked to stay inside the folder, so a hostile
matter title or file name can never write elsewhere.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

from hefa.review.documents import generated
from hefa.review.errors import InvalidInput
from hefa.review.records import queries, storage
from hefa.review.records.audit import head
from hefa.review.records.db import read_session

_SAFE = re.compile(r"[^\w\u4e00-\u9fff.\-]+")


def _safe_name(name: str) -> str:
    cleaned = _SAFE.sub("_", name).strip("._") or "file"
    return cleaned[:80]


def _inside(root: Path, name: str) -> Path:
    path = (root / _safe_name(name)).resolve()
    if path.parent != root:
        raise InvalidInput(f"文件名不安全 / unsafe file name: {name!r}")
    return path


def export(matter_id: str, directory: Path) -> dict[str, Any]:
    """Write versions, documents, status and the audit trail (CSV) into ``directory/<matter>``."""
    generated.generate_pending(matter_id)
    with read_session() as session:
        view = queries.status(session, matter_id)
        trail = queries.trail(session, matter_id)
        chain = head(session)
    root = (Path(directory).expanduser().resolve() / _safe_name(matter_id))
    root.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    for version in view["versions"]:
        name = f"v{version['number']}-{version['sha256'][:12]}-{version['filename']}"
        _inside(root, name).write_bytes(storage.read(version["sha256"]))
        files.append(_safe_name(name))
    for doc in generated.documents_of(matter_id):
        name = f"{doc['source']}-{doc['name']}-{doc['sha256'][:12]}.docx"
        _inside(root, name).write_bytes(storage.read(doc["sha256"]))
        files.append(_safe_name(name))
    with _inside(root, "audit.csv").open("w", newline="", encoding="utf-8-sig") as f:
        writer = csv.DictWriter(f, fieldnames=list(trail[0].keys()) if trail else ["seq"])
        writer.writeheader()
        writer.writerows(trail)
    files.append("audit.csv")
    manifest = {"matter": view, "chain_head": str(chain), "files": files}
    _inside(root, "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2,
                                                         default=str), "utf-8")
    files.append("manifest.json")
    return {"directory": str(root), "files": files, "chain_head": str(chain)}
