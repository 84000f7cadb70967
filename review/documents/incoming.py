"""Documents in: a submitted file is validated as a safe .docx, then pre-screened.

Nothing is stored until this has passed; a bad file is refused with one line
(Chinese and English) naming the problem. The work is bounded: a document of
more paragraphs than ``max_paragraphs`` is refused before it is parsed, and at
most ``max_stored_findings`` findings (预审提示) are kept one by one — when there
are more, one last entry of category ``omitted`` says how many more and the total.
"""

from __future__ import annotations

from typing import Any

from hefa.review.config import settings
from hefa.review.errors import InvalidInput

OMITTED = "omitted"  # the category of the entry that counts the findings not kept one by one


def screen_upload(data: bytes, filename: str, kind: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """Validate and pre-screen an upload: (sha256, findings as dicts, capped; see module doc).

    ``kind`` is the matter's kind (事项类型, a ``Kind`` value): the pre-screen applies the checks
    that matter for it (the 七个不得 rules to normative documents and major decisions; the
    decision or contract checks to the others). ``None`` screens as a normative document."""
    from hefa.review.documents.docx_intake import InvalidDocument, extract_document, validate_docx
    from hefa.review.documents.prescreen import prescreen_document
    from hefa.review.records.storage import sha256_of

    cfg = settings()
    if not filename.lower().endswith(".docx"):
        raise InvalidInput(f"只接受 .docx 文件，收到 {filename!r} / only .docx files are accepted")
    try:
        validate_docx(data, max_upload_bytes=cfg.max_upload_bytes,
                      max_uncompressed_bytes=cfg.max_uncompressed_bytes,
                      max_zip_entries=cfg.max_zip_entries,
                      max_compression_ratio=cfg.max_compression_ratio)
        document = extract_document(data, max_paragraphs=cfg.max_paragraphs)
    except InvalidDocument as exc:
        raise InvalidInput(str(exc)) from exc
    try:
        screened = prescreen_document(document, kind=kind)
    except ValueError as exc:  # an unknown kind
        raise InvalidInput(str(exc)) from exc
    findings = [f.to_dict() for f in screened]
    return sha256_of(data), cap_findings(findings, cfg.max_stored_findings)


def cap_findings(findings: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` findings, then (if there were more) one entry counting the rest."""
    if len(findings) <= limit:
        return findings
    rest = len(findings) - limit
    first = findings[limit]
    summary = {
        "category": OMITTED, "article": first.get("article"), "paragraph_index": first["paragraph_index"],
        "matched_text": "…", "basis": "",
        "explanation": f"另有 {rest} 条预审提示未逐条保存（共 {len(findings)} 条），请对照原文逐条审查"
                       f" / {rest} more findings not kept one by one ({len(findings)} in all)",
        "omitted": rest, "total": len(findings),
    }
    return [*findings[:limit], summary]


def listed_findings(findings: list[dict[str, Any]], limit: int) -> tuple[list[dict[str, Any]], int, int]:
    """For a document: (the first ``limit`` findings, how many more, the total)."""
    real = [f for f in findings if f.get("category") != OMITTED]
    total = len(real) + sum(int(f.get("omitted", 0)) for f in findings if f.get("category") == OMITTED)
    shown = real[:limit]
    return shown, total - len(shown), total
