"""Plain drafts: a .docx of a title and paragraphs, built with python-docx.

For examples, tests and benchmarks that need a real Word file of known wording.
"""

from __future__ import annotations

import io


def plain_docx(paragraphs: list[str], title: str) -> bytes:
    """A real .docx: the title as a heading, then one paragraph per item."""
    import docx

    document = docx.Document()
    document.add_heading(title, level=0)
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
