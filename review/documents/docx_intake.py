"""Safe intake of uploaded Word (.docx) files: validation, then structured extraction.

``validate_docx`` rejects everything hefa should not open (legacy .doc, encrypted
OOXML, macro-enabled files, corrupt or truncated zips, zip bombs, oversized files)
with a one-line bilingual message, without ever reading an unbounded amount into
memory. ``extract_document`` then turns a validated file into paragraphs that carry
their place in the document: chapter (章), article (条) and item (项).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

__all__ = [
    "ExtractedDocument",
    "InvalidDocument",
    "Paragraph",
    "extract_document",
    "validate_docx",
]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # local file header; empty archive
ENCRYPTION_STREAM_NAMES = ("EncryptedPackage", "EncryptionInfo")
CONTENT_TYPES = "[Content_Types].xml"
MAIN_DOCUMENT = "word/document.xml"
READ_CHUNK = 64 * 1024
MAX_CONTENT_TYPES_BYTES = 1024 * 1024
# Entries smaller than this are not judged by their compression ratio alone:
# small, repetitive XML parts legitimately compress very well.
RATIO_MIN_ENTRY_BYTES = 1024 * 1024


class InvalidDocument(ValueError):
    """An uploaded file that hefa refuses to open; the message is Chinese / English."""


# ---------------------------------------------------------------------------
# Messages: Chinese first, then English, one line.

MSG_EMPTY = "文件为空 / the file is empty"
MSG_TOO_LARGE = "文件过大（超过 {limit} 字节） / the file is too large (over {limit} bytes)"
MSG_LEGACY_DOC = (
    "旧版 Word（.doc）文件不受支持，请另存为 .docx / "
    "legacy Word .doc files are not supported, save as .docx"
)
MSG_ENCRYPTED = "文件已加密（受密码保护），无法审查 / the file is encrypted (password-protected)"
MSG_NOT_ZIP = (
    "不是 Word（.docx）文件：不是 zip 格式 / not a Word (.docx) document: not a zip archive"
)
MSG_CORRUPT = "文件已损坏或不完整 / the file is corrupt or truncated"
MSG_CRC = "文件已损坏（校验和错误） / the file is corrupt (CRC check failed)"
MSG_TOO_MANY = (
    "文件包含的部件过多（超过 {limit} 个） / the file has too many zip entries (over {limit})"
)
MSG_BOMB_SIZE = (
    "文件解压后过大（疑似压缩炸弹） / the file is too large when uncompressed (suspected zip bomb)"
)
MSG_BOMB_RATIO = (
    "文件压缩比异常（疑似压缩炸弹） / suspicious compression ratio (suspected zip bomb)"
)
MSG_NOT_WORD = (
    "不是 Word（.docx）文档：缺少 {part} / not a Word (.docx) document: {part} is missing"
)
MSG_MACRO = "文件包含宏（启用宏的文档），无法审查 / the file contains macros (macro-enabled)"
MSG_UNREADABLE = "无法解析文档内容 / the document content could not be parsed"
MSG_TOO_MANY_PARAGRAPHS = (
    "文档段落过多（{count} 段，上限 {limit} 段），请拆分或精简后提交 / "
    "the document has too many paragraphs ({count}, limit {limit})"
)
# A paragraph's start tag, whatever the namespace prefix (<w:p>, <w:p w:rsidR=…>, <w:p/>).
_PARAGRAPH_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?p[\s>/]")


# ---------------------------------------------------------------------------
# Validation


def validate_docx(
    data: bytes,
    *,
    max_upload_bytes: int,
    max_uncompressed_bytes: int,
    max_zip_entries: int,
    max_compression_ratio: int,
) -> None:
    """Check that ``data`` is a safe, ordinary .docx file; raise ``InvalidDocument`` if not.

    Declared sizes in the zip central directory are checked before anything is
    decompressed; entries are then read in bounded chunks (verifying each CRC), and
    reading stops as soon as the actual bytes exceed ``max_uncompressed_bytes``.
    """
    _check_envelope(data, max_upload_bytes)
    archive = _open_zip(data)
    with archive:
        infos = archive.infolist()
        _check_entries(infos, max_zip_entries)
        _check_declared_sizes(infos, max_uncompressed_bytes, max_compression_ratio)
        _check_word_parts(archive, infos)
        _check_all_entries_readable(archive, infos, max_uncompressed_bytes)


def _check_envelope(data: bytes, max_upload_bytes: int) -> None:
    """Size and magic-number checks that need no parsing."""
    if not data:
        raise InvalidDocument(MSG_EMPTY)
    if len(data) > max_upload_bytes:
        raise InvalidDocument(MSG_TOO_LARGE.format(limit=max_upload_bytes))
    if data.startswith(OLE_MAGIC):
        if _looks_encrypted_ole(data):
            raise InvalidDocument(MSG_ENCRYPTED)
        raise InvalidDocument(MSG_LEGACY_DOC)
    if not data.startswith(ZIP_MAGICS):
        raise InvalidDocument(MSG_NOT_ZIP)


def _looks_encrypted_ole(data: bytes) -> bool:
    """An encrypted OOXML file is an OLE container with EncryptionInfo/EncryptedPackage."""
    for name in ENCRYPTION_STREAM_NAMES:
        if name.encode("utf-16-le") in data or name.encode("ascii") in data:
            return True
    return False


def _open_zip(data: bytes) -> zipfile.ZipFile:
    """Open the central directory; any parsing failure is a corrupt/truncated file."""
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise InvalidDocument(MSG_CORRUPT) from exc
    except Exception as exc:  # struct.error, NotImplementedError: still a corrupt file
        raise InvalidDocument(MSG_CORRUPT) from exc


def _check_entries(infos: list[zipfile.ZipInfo], max_zip_entries: int) -> None:
    """Entry count, duplicate names and zip-level encryption."""
    if len(infos) > max_zip_entries:
        raise InvalidDocument(MSG_TOO_MANY.format(limit=max_zip_entries))
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise InvalidDocument(MSG_CORRUPT)
    if any(info.flag_bits & 0x1 for info in infos):
        raise InvalidDocument(MSG_ENCRYPTED)


def _check_declared_sizes(
    infos: list[zipfile.ZipInfo], max_uncompressed_bytes: int, max_compression_ratio: int
) -> None:
    """Zip-bomb check on the sizes the central directory declares (nothing is read yet)."""
    total = sum(info.file_size for info in infos)
    if total > max_uncompressed_bytes:
        raise InvalidDocument(MSG_BOMB_SIZE)
    for info in infos:
        if info.file_size < RATIO_MIN_ENTRY_BYTES:
            continue
        if info.file_size > max_compression_ratio * max(info.compress_size, 1):
            raise InvalidDocument(MSG_BOMB_RATIO)
    compressed = sum(info.compress_size for info in infos)
    if total >= RATIO_MIN_ENTRY_BYTES and total > max_compression_ratio * max(compressed, 1):
        raise InvalidDocument(MSG_BOMB_RATIO)


def _check_word_parts(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    """Required Word parts present; no VBA project, no macro-enabled content type."""
    names = {info.filename for info in infos}
    for part in (CONTENT_TYPES, MAIN_DOCUMENT):
        if part not in names:
            raise InvalidDocument(MSG_NOT_WORD.format(part=part))
    if any(name.lower().rsplit("/", 1)[-1] == "vbaproject.bin" for name in names):
        raise InvalidDocument(MSG_MACRO)
    content_types = _read_bounded(archive, archive.getinfo(CONTENT_TYPES), MAX_CONTENT_TYPES_BYTES)
    if b"macroenabled" in content_types.lower():
        raise InvalidDocument(MSG_MACRO)


def _read_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """Read one entry in chunks; refuse if it yields more than ``limit`` bytes."""
    buffer = bytearray()
    for chunk in _iter_entry(archive, info):
        buffer += chunk
        if len(buffer) > limit:
            raise InvalidDocument(MSG_BOMB_SIZE)
    return bytes(buffer)


def _check_all_entries_readable(
    archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], max_uncompressed_bytes: int
) -> None:
    """Decompress every entry in bounded chunks, verifying CRCs (a bounded ``testzip``)."""
    produced = 0
    for info in infos:
        entry_bytes = 0
        for chunk in _iter_entry(archive, info):
            entry_bytes += len(chunk)
            produced += len(chunk)
            if produced > max_uncompressed_bytes or entry_bytes > info.file_size:
                raise InvalidDocument(MSG_BOMB_SIZE)


def _iter_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """Yield an entry's decompressed bytes chunk by chunk; map zip errors to messages."""
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(READ_CHUNK):
                yield chunk
    except zipfile.BadZipFile as exc:
        message = MSG_CRC if "CRC" in str(exc) else MSG_CORRUPT
        raise InvalidDocument(message) from exc
    except RuntimeError as exc:  # "File is encrypted, password required"
        raise InvalidDocument(MSG_ENCRYPTED) from exc
    except InvalidDocument:
        raise
    except Exception as exc:  # zlib.error, EOFError, NotImplementedError, struct.error
        raise InvalidDocument(MSG_CORRUPT) from exc


# ---------------------------------------------------------------------------
# Extraction

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
NSMAP = {"w": W_NS, "mc": MC_NS}


def _w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


W_P, W_TBL, W_TR, W_TC, W_SDT = _w("p"), _w("tbl"), _w("tr"), _w("tc"), _w("sdt")
W_SDT_CONTENT, W_VAL = _w("sdtContent"), _w("val")
W_T, W_TAB, W_BR, W_CR = _w("t"), _w("tab"), _w("br"), _w("cr")

# Run content only (w:pPr/w:tabs/w:tab are tab stops, not text); skip the duplicate
# mc:Fallback rendering of text boxes.
_TEXT_NODES = etree.XPath(
    "(.//w:r/w:t | .//w:r/w:tab | .//w:r/w:br | .//w:r/w:cr)[not(ancestor::mc:Fallback)]",
    namespaces=NSMAP,
)
_STYLE_ID = etree.XPath("string(w:pPr/w:pStyle/@w:val)", namespaces=NSMAP)
_JUSTIFICATION = etree.XPath("string(w:pPr/w:jc/@w:val)", namespaces=NSMAP)
_RUN_BOLD = etree.XPath("w:r[w:t]/w:rPr/w:b", namespaces=NSMAP)
_TEXT_RUNS = etree.XPath("w:r[w:t]", namespaces=NSMAP)

CN_NUMERAL = "零〇一二三四五六七八九十百千两0-9０-９"
CHAPTER_RE = re.compile(rf"^\s*(第[{CN_NUMERAL}]+章)")
# 第X条 begins an article unless it is a cross-reference ("第八条规定的…", "第三条第二款").
ARTICLE_RE = re.compile(rf"^\s*(第[{CN_NUMERAL}]+条)(?![规所中之第款至和及、的])")
ITEM_RE = re.compile(r"^\s*[（(]([一二三四五六七八九十]+)[）)]")
HEADING_STYLE_RE = re.compile(r"^(heading|title|subtitle|标题|题目)", re.IGNORECASE)
TITLE_STYLE_RE = re.compile(r"^(title|标题)$", re.IGNORECASE)


@dataclass
class Paragraph:
    """One paragraph (or table-cell paragraph) with its structural position.

    ``chapter`` is the current 章 (e.g. ``第一章``), ``article`` the current 条
    (e.g. ``第十二条``), ``item`` the current 项 (normalised to ``（一）``).
    """

    index: int
    text: str
    style: str
    is_heading: bool
    chapter: str | None = None
    article: str | None = None
    item: str | None = None


@dataclass
class ExtractedDocument:
    """A validated document's title, paragraphs (body and table cells) and tables."""

    title: str
    paragraphs: list[Paragraph] = field(default_factory=list)
    tables: list[list[list[str]]] = field(default_factory=list)


@dataclass
class _Position:
    """The running 章/条/项 context while walking the body."""

    chapter: str | None = None
    article: str | None = None
    item: str | None = None

    def advance(self, text: str) -> None:
        """Update the context from the start of a paragraph's text."""
        if match := CHAPTER_RE.match(text):
            self.chapter, self.article, self.item = match.group(1), None, None
        elif match := ARTICLE_RE.match(text):
            self.article, self.item = match.group(1), None
        elif match := ITEM_RE.match(text):
            self.item = f"（{match.group(1)}）"

    def copy(self) -> _Position:
        return _Position(self.chapter, self.article, self.item)


class _Walker:
    """Walks the document body with lxml, building paragraphs and tables."""

    def __init__(self, style_names: dict[str, str], default_style: str) -> None:
        self.style_names = style_names
        self.default_style = default_style
        self.paragraphs: list[Paragraph] = []
        self.tables: list[list[list[str]]] = []
        self.body_elements: list[tuple[etree._Element, Paragraph]] = []

    def walk_body(self, body: etree._Element) -> None:
        position = _Position()
        for child in _block_children(body):
            if child.tag == W_P:
                paragraph = self._paragraph(child, position, advance=True)
                self.body_elements.append((child, paragraph))
            elif child.tag == W_TBL:
                self.tables.append(self._table(child, position))

    def _paragraph(
        self, element: etree._Element, position: _Position, *, advance: bool
    ) -> Paragraph:
        text = _paragraph_text(element)
        style_id = _STYLE_ID(element)
        style = self.style_names.get(style_id, style_id) if style_id else self.default_style
        if advance:
            position.advance(text)
        is_heading = bool(HEADING_STYLE_RE.match(style)) or bool(CHAPTER_RE.match(text))
        paragraph = Paragraph(
            index=len(self.paragraphs),
            text=text,
            style=style,
            is_heading=is_heading,
            chapter=position.chapter,
            article=position.article,
            item=position.item,
        )
        self.paragraphs.append(paragraph)
        return paragraph

    def _table(self, table: etree._Element, position: _Position) -> list[list[str]]:
        rows: list[list[str]] = []
        for row in table.iterchildren(W_TR):
            cells: list[str] = []
            for cell in row.iterchildren(W_TC):
                # A cell may start its own 第X条 (e.g. a before/after comparison table);
                # that context stays inside the cell.
                cell_position = position.copy()
                texts = [p.text for p in self._cell_paragraphs(cell, cell_position)]
                cells.append("\n".join(texts))
            rows.append(cells)
        return rows

    def _cell_paragraphs(self, cell: etree._Element, position: _Position) -> Iterator[Paragraph]:
        for child in _block_children(cell):
            if child.tag == W_P:
                yield self._paragraph(child, position, advance=True)
            elif child.tag == W_TBL:
                nested = self._table(child, position)
                self.tables.append(nested)


def _block_children(parent: etree._Element) -> Iterator[etree._Element]:
    """Paragraphs and tables under ``parent``, looking through content controls (w:sdt)."""
    for child in parent:
        if child.tag == W_SDT:
            content = child.find(W_SDT_CONTENT)
            if content is not None:
                yield from _block_children(content)
        elif child.tag in (W_P, W_TBL):
            yield child


def _paragraph_text(element: etree._Element) -> str:
    """Visible text of a paragraph: runs' text, tabs and breaks (deleted text excluded)."""
    parts: list[str] = []
    for node in _TEXT_NODES(element):
        tag = node.tag
        if tag == W_T:
            parts.append(node.text or "")
        elif tag == W_TAB:
            parts.append("\t")
        else:
            parts.append("\n")
    return "".join(parts)


def _style_names(document: object) -> tuple[dict[str, str], str]:
    """Map style id -> style name (read once), and the default paragraph style's name."""
    names: dict[str, str] = {}
    default = "Normal"
    styles_element = document.styles.element  # type: ignore[attr-defined]
    for style in styles_element.iterchildren(_w("style")):
        style_id = style.get(_w("styleId"))
        name_element = style.find(_w("name"))
        name = name_element.get(W_VAL) if name_element is not None else style_id
        if style_id:
            names[style_id] = _builtin_style_name(name or style_id)
        if style.get(_w("type")) == "paragraph" and style.get(_w("default")) in ("1", "true"):
            default = names.get(style_id or "", default)
    return names, default


def _builtin_style_name(name: str) -> str:
    """python-docx's UI names for the lowercase built-in names ("heading 1" -> "Heading 1")."""
    lowered = name.lower()
    if lowered.startswith("heading") or lowered in ("title", "subtitle", "normal"):
        return name[:1].upper() + name[1:]
    return name


def _is_emphasised(element: etree._Element) -> bool:
    """Centered, or every text run bold (a typical unstyled title)."""
    if _JUSTIFICATION(element) == "center":
        return True
    runs = _TEXT_RUNS(element)
    bold = [b for b in _RUN_BOLD(element) if b.get(W_VAL) not in ("0", "false", "off")]
    return bool(runs) and len(bold) == len(runs)


def _find_title(body_elements: list[tuple[etree._Element, Paragraph]]) -> str:
    """Title style anywhere, else first heading-styled or centered/bold, else first text."""
    non_empty = [(el, p) for el, p in body_elements if p.text.strip()]
    for _, paragraph in non_empty:
        if TITLE_STYLE_RE.match(paragraph.style):
            return paragraph.text.strip()
    for element, paragraph in non_empty:
        if paragraph.is_heading or _is_emphasised(element):
            return paragraph.text.strip()
    return non_empty[0][1].text.strip() if non_empty else ""


def count_paragraphs(data: bytes) -> int:
    """How many paragraphs (body, tables, text boxes) a validated .docx holds, counted on the
    raw XML without parsing it: cheap enough to refuse a huge document before any work."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("word/document.xml")
    return sum(1 for _ in _PARAGRAPH_TAG.finditer(xml))


def extract_document(data: bytes, *, max_paragraphs: int | None = None) -> ExtractedDocument:
    """Extract title, paragraphs (with 章/条/项 context) and tables from a validated .docx.

    Call ``validate_docx`` first. Table-cell paragraphs are included in
    ``paragraphs`` (after the paragraphs preceding their table) so the pre-screen
    sees them. A document of more than ``max_paragraphs`` paragraphs is refused before
    it is parsed (the work of parsing and pre-screening grows with it).
    """
    import docx  # python-docx; imported here so validation alone stays light

    if max_paragraphs is not None:
        try:
            count = count_paragraphs(data)
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise InvalidDocument(MSG_UNREADABLE) from exc
        if count > max_paragraphs:
            raise InvalidDocument(MSG_TOO_MANY_PARAGRAPHS.format(count=count, limit=max_paragraphs))
    try:
        document = docx.Document(io.BytesIO(data))
        style_names, default_style = _style_names(document)
        walker = _Walker(style_names, default_style)
        walker.walk_body(document.element.body)
    except InvalidDocument:
        raise
    except Exception as exc:
        raise InvalidDocument(MSG_UNREADABLE) from exc
    return ExtractedDocument(
        title=_find_title(walker.body_elements),
        paragraphs=walker.paragraphs,
        tables=walker.tables,
    )
