"""归档 (国务院令第713号 art. 33): a matter's whole dossier written to a folder.

The target folder is the caller's; every file name is made here from ids and
hashes, and each path is checked to stay inside the folder, so a hostile
matter title or file name can never write elsewhere.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import tempfile
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


def _target(target: Path) -> Path:
    """The folder the dossier goes into: created if missing; refused if it is not a folder."""
    if target.exists() and not target.is_dir():
        raise InvalidInput(f"导出目标 {target} 不是文件夹 / export target is not a folder")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"无法创建导出文件夹 {target}：{exc.strerror} / cannot create the folder") from exc
    return target.resolve()


def export(matter_id: str, directory: Path) -> dict[str, Any]:
    """Write versions, documents, status and the audit trail (CSV) into ``directory/<matter>``.

    Everything is written into a temporary folder beside it, then renamed into place: a
    failed export leaves no half-written dossier (no versions without a manifest).
    """
    target = Path(directory).expanduser()
    if target.exists() and not target.is_dir():
        raise InvalidInput(f"导出目标 {target} 不是文件夹 / export target is not a folder")
    with read_session() as session:
        queries.get_matter(session, matter_id)  # an unknown matter is refused before anything is made
    generated.generate_pending(matter_id)
    with read_session() as session:
        view = queries.status(session, matter_id)
        trail = queries.trail(session, matter_id)
        chain = head(session)
    target = _target(target)
    final = target / _safe_name(matter_id)
    if final.exists() and not final.is_dir():
        raise InvalidInput(f"导出目标 {final} 已存在且不是文件夹 / {final} exists and is not a folder")
    try:
        root = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".part", dir=target))
    except OSError as exc:
        raise InvalidInput(f"无法写入导出文件夹 {target}：{exc.strerror} / cannot write there") from exc
    try:
        files = _write(root, matter_id, view, trail, str(chain))
        os.chmod(root, 0o755 & ~_umask())
        if final.exists():  # an earlier export of the matter: replaced whole
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=target))
            final.rename(old / final.name)
            root.rename(final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            root.rename(final)
    except OSError as exc:
        raise InvalidInput(f"导出失败 / export failed: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(root, ignore_errors=True)  # gone already after the rename
    return {"directory": str(final), "files": files, "chain_head": str(chain)}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write(root: Path, matter_id: str, view: dict[str, Any], trail: list[dict[str, Any]],
           chain: str) -> list[str]:
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
    manifest = {"matter": view, "chain_head": chain, "files": files}
    _inside(root, "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2,
                                                         default=str), "utf-8")
    files.append("manifest.json")
    return files
