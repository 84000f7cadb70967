"""Documents in: a submitted file is validated as a safe .docx, then pre-screened.

Nothing is stored until this has passed; a bad file is refused with one line
(Chinese and English) naming the problem.
"""

from __future__ import annotations

from typing import Any

from hefa.review.config import settings
from hefa.review.errors import InvalidInput


def screen_upload(data: bytes, filename: str) -> tuple[str, list[dict[str, Any]]]:
    """Validate and pre-screen an upload: (sha256, findings as dicts)."""
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
        document = extract_document(data)
    except InvalidDocument as exc:
        raise InvalidInput(str(exc)) from exc
    return sha256_of(data), [f.to_dict() for f in prescreen_document(document)]
