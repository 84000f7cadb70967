"""Form bodies of the front door's plain HTML forms, parsed with the standard library
(``application/x-www-form-urlencoded`` and ``multipart/form-data``), bounded in size."""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from starlette.requests import Request

from hefa.review.config import settings
from hefa.review.errors import InvalidInput

FORM_LIMIT = 64 * 1024  # a form without a file


@dataclass
class Upload:
    filename: str
    data: bytes


@dataclass
class Form:
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return self.fields.get(name, [])


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise InvalidInput(f"提交内容过大（上限 {limit // 1024 // 1024 or 1} MB）/ request too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InvalidInput(f"提交内容过大（上限 {limit // 1024 // 1024 or 1} MB）/ request too large")
        chunks.append(chunk)
    return b"".join(chunks)


async def parse_form(request: Request) -> Form:
    """The form's fields (and files); refuses a body over the upload limit."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        body = await read_body(request, settings().max_upload_bytes + FORM_LIMIT)
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body)
        form = Form()
        if not message.is_multipart():
            raise InvalidInput("表单格式不正确 / malformed form")
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not name:
                continue
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            if filename is not None:
                form.files[str(name)] = Upload(str(filename), payload)
            else:
                charset = part.get_content_charset() or "utf-8"
                form.fields.setdefault(str(name), []).append(payload.decode(charset, "replace"))
        return form
    body = await read_body(request, FORM_LIMIT)
    return Form(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))
