"""GB/T 9704-2012 (党政机关公文格式) page layout, applied to a python-docx document.

Everything about the look of hefa's documents lives here: paper, margins, the line and
character grid, the fonts of each element, the page numbers, and how markup blocks
(:mod:`hefa.forms.markup`) become paragraphs and tables. Templates carry only wording.

Choices where the standard leaves room or python-docx has no API (set with lxml):

* Lines: every paragraph style has exact line spacing of 28.95 pt (579 twips) and the section
  has a ``w:docGrid w:type="lines" w:linePitch="579"`` grid, so 22 lines fill the 225 mm
  text block (版心).
* Characters: 28 per line. A ``linesAndChars`` grid with a negative ``w:charSpace`` does this
  in Word and WPS, but LibreOffice then gives each 三号 character two grid cells (14 per
  line), so body styles are condensed instead by 0.25 pt (``w:rPr/w:spacing w:val="-5"``):
  28 × 15.75 pt = 441 pt fits the 442.2 pt line in every word processor, 29 do not.
* Fonts: East-Asian fonts are set with ``w:rFonts/@w:eastAsia`` in the styles (Latin letters and
  digits use Times New Roman). Fallbacks for machines without the GB2312 fonts are declared in
  the font table (``word/fontTable.xml``): ``w:altName`` holds a comma-separated list of
  alternative names (ECMA-376 §17.8.3.1), e.g. 仿宋_GB2312 → 仿宋, FangSong, STFangsong, and
  ``w:charset`` 86 (GB2312) with ``w:panose1``/``w:family`` lets Word and WPS pick a
  similar face when none of the names is installed.
* Page numbers: "— 1 —" in 四号 宋体, on the outer side (odd pages right, even pages left, one
  character in from the margin), about 7 mm below the text block, via a PAGE field.
* Signature block (落款): right-aligned, two characters in from the right margin, kept on one page
  with the last lines of text before it (``keep_signature_with_text``: keepNext/keepLines).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from docx.document import Document as DocumentObject
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Mm, Twips
from docx.styles.style import ParagraphStyle
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from lxml import etree

from hefa.forms.markup import Block, Kind

# Paper and margins (GB/T 9704-2012 §5.2.1, §5.2.2), in millimetres.
PAGE_WIDTH_MM: Final = 210
PAGE_HEIGHT_MM: Final = 297
MARGIN_TOP_MM: Final = 37  # 天头
MARGIN_BOTTOM_MM: Final = 35
MARGIN_LEFT_MM: Final = 28  # 订口
MARGIN_RIGHT_MM: Final = 26
TEXT_WIDTH_MM: Final = PAGE_WIDTH_MM - MARGIN_LEFT_MM - MARGIN_RIGHT_MM  # 156 版心宽
TEXT_HEIGHT_MM: Final = PAGE_HEIGHT_MM - MARGIN_TOP_MM - MARGIN_BOTTOM_MM  # 225 版心高

# Grid (§5.2.4): 22 lines of 28 characters per page.
LINES_PER_PAGE: Final = 22
CHARS_PER_LINE: Final = 28
LINE_PITCH_TWIPS: Final = 579  # 28.95 pt; 225 mm / 22 = 28.99 pt, the customary value
LINE_PITCH_PT: Final = LINE_PITCH_TWIPS / 20

# Font sizes (字号) in points.
SIZE_2: Final = 22  # 二号: title
SIZE_3: Final = 16  # 三号: body and headings
SIZE_4: Final = 14  # 四号: page numbers, notes, tables

# Font names (字体).
FONT_TITLE: Final = "方正小标宋简体"
FONT_BODY: Final = "仿宋_GB2312"
FONT_HEADING1: Final = "黑体"
FONT_HEADING2: Final = "楷体_GB2312"
FONT_PAGE_NUMBER: Final = "宋体"
FONT_LATIN: Final = "Times New Roman"

# One character of 三号 in twips; the first-line indent is two characters.
_CHAR_TWIPS: Final = SIZE_3 * 20
_EM_DASH: Final = "\u2014"  # 一字线


@dataclass(frozen=True)
class FontFace:
    """A font-table entry: the name used in styles and what to use when it is missing."""

    name: str
    alt_names: str  # comma-separated, for w:altName
    panose: str
    family: str = "modern"
    pitch: str = "fixed"
    charset: str = "86"  # GB2312


FONT_TABLE: Final[tuple[FontFace, ...]] = (
    FontFace(FONT_BODY, "仿宋,FangSong,STFangsong", "02010609030101010101"),
    FontFace(FONT_HEADING2, "楷体,KaiTi,STKaiti", "02010609030101010101"),
    FontFace(FONT_TITLE, "方正小标宋_GBK,华文中宋,STZhongsong,宋体,SimSun", "02000000000000000000",
             family="auto", pitch="variable"),
    FontFace(FONT_HEADING1, "SimHei,STHeiti", "02010609060101010101"),
    FontFace(FONT_PAGE_NUMBER, "SimSun,STSong", "02010600030101010101", pitch="variable"),
    FontFace("仿宋", "FangSong,STFangsong", "02010609060101010101"),
    FontFace("楷体", "KaiTi,STKaiti", "02010609060101010101"),
    FontFace(FONT_LATIN, "", "02020603050405020304", family="roman", pitch="variable",
             charset="00"),
)


@dataclass(frozen=True)
class StyleSpec:
    """A paragraph style hefa defines: Chinese name (shown in Word), id, font and layout."""

    name: str
    style_id: str
    east_asia: str
    size: float
    align: str | None = None  # w:jc value
    first_line_chars: int | None = 0  # None: inherit Normal's two-character indent
    right_chars: int = 0
    left_chars: int = 0
    outline_level: int | None = None
    keep_next: bool = False
    snap_to_grid: bool = True
    line_twips: int = LINE_PITCH_TWIPS
    latin: str = FONT_LATIN
    char_spacing: int | None = None  # w:spacing in 1/20 pt; None: inherit Normal's


# Style per block kind. Normal (正文) carries the body font and the two-character indent.
STYLES: Final[dict[Kind, StyleSpec]] = {
    Kind.TITLE: StyleSpec("公文标题", "hefaTitle", FONT_TITLE, SIZE_2, "center",
                          snap_to_grid=False, char_spacing=0),
    Kind.DOC_NUMBER: StyleSpec("发文字号", "hefaDocNumber", FONT_BODY, SIZE_3, "center"),
    Kind.HEADING1: StyleSpec("一级标题", "hefaHeading1", FONT_HEADING1, SIZE_3,
                             first_line_chars=None, outline_level=0, keep_next=True),
    Kind.HEADING2: StyleSpec("二级标题", "hefaHeading2", FONT_HEADING2, SIZE_3,
                             first_line_chars=None, outline_level=1, keep_next=True),
    Kind.NOINDENT: StyleSpec("顶格正文", "hefaNoIndent", FONT_BODY, SIZE_3),
    Kind.RIGHT: StyleSpec("落款", "hefaSignature", FONT_BODY, SIZE_3, "right", right_chars=2),
    # Condensed by 0.2 pt so that a 64-digit SHA-256 fits on one 156 mm line.
    Kind.NOTE: StyleSpec("附注", "hefaNote", FONT_BODY, SIZE_4, "left", snap_to_grid=False,
                         char_spacing=-4),
}
TABLE_TEXT = StyleSpec("表格文字", "hefaTableText", FONT_BODY, SIZE_4, snap_to_grid=False,
                       line_twips=440, char_spacing=0)
TABLE_HEADER = StyleSpec("表头", "hefaTableHeader", FONT_HEADING1, SIZE_4, "center",
                         snap_to_grid=False, line_twips=440, char_spacing=0)
PAGE_NUMBER = StyleSpec("页码", "hefaPageNumber", FONT_PAGE_NUMBER, SIZE_4,
                        snap_to_grid=False, line_twips=SIZE_4 * 20, latin=FONT_PAGE_NUMBER,
                        char_spacing=0)


# --- low-level XML helpers --------------------------------------------------------------

# Schema order of the children we set (ECMA-376 CT_PPrBase, CT_RPr): Word rejects a file whose
# pPr/rPr children are out of order, so new children are inserted in place.
_CHILD_ORDER: Final[dict[str, tuple[str, ...]]] = {
    "w:pPr": ("w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr",
              "w:widowControl", "w:numPr", "w:suppressLineNumbers", "w:pBdr", "w:shd",
              "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
              "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi",
              "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
              "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection",
              "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId",
              "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange"),
    "w:rPr": ("w:rStyle", "w:rFonts", "w:b", "w:bCs", "w:i", "w:iCs", "w:caps",
              "w:smallCaps", "w:strike", "w:dstrike", "w:outline", "w:shadow", "w:emboss",
              "w:imprint", "w:noProof", "w:snapToGrid", "w:vanish", "w:webHidden", "w:color",
              "w:spacing", "w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight",
              "w:u", "w:effect", "w:bdr", "w:shd", "w:fitText", "w:vertAlign", "w:rtl",
              "w:cs", "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath"),
}


def _child(parent: etree._Element, tag: str) -> etree._Element:
    """Return ``parent``'s child ``tag`` (e.g. ``w:rFonts``), creating it in schema order."""
    found = parent.find(qn(tag))
    if found is not None:
        return found
    found = OxmlElement(tag)
    order = _CHILD_ORDER.get(parent.tag.replace(qn("w:"), "w:"), ())
    later = set(order[order.index(tag) + 1 :]) if tag in order else set()
    for sibling in parent:
        if sibling.tag in {qn(t) for t in later}:
            sibling.addprevious(found)
            return found
    parent.append(found)
    return found


def _set(element: etree._Element, **attrs: str) -> None:
    for key, value in attrs.items():
        element.set(qn(f"w:{key}"), value)


def set_fonts(rpr: etree._Element, east_asia: str, latin: str = FONT_LATIN) -> None:
    """Set ``w:rFonts`` explicitly (East-Asian and Latin), dropping theme-font references."""
    fonts = _child(rpr, "w:rFonts")
    for attr in list(fonts.attrib):
        if attr.endswith("Theme") or attr.endswith("theme"):
            del fonts.attrib[attr]
    _set(fonts, ascii=latin, hAnsi=latin, cs=latin, eastAsia=east_asia)


def body_char_spacing() -> int:
    """Character spacing (``w:spacing``, 1/20 pt) that fits 28 三号 characters in 156 mm.

    156 mm = 442.2 pt; 28 × 16 pt = 448 pt does not fit, 28 × 15.75 pt = 441 pt does and
    29 characters do not, so body text is condensed by 0.25 pt (-5).
    """
    width_pt = TEXT_WIDTH_MM / 25.4 * 72
    return math.floor((width_pt / CHARS_PER_LINE - SIZE_3) * 20)


def _set_size(rpr: etree._Element, points: float) -> None:
    half_points = str(round(points * 2))
    _set(_child(rpr, "w:sz"), val=half_points)
    _set(_child(rpr, "w:szCs"), val=half_points)


def _set_spacing(ppr: etree._Element, line_twips: int) -> None:
    _set(_child(ppr, "w:spacing"), before="0", after="0", line=str(line_twips),
         lineRule="exact")


def _set_indent(ppr: etree._Element, spec: StyleSpec) -> None:
    ind = _child(ppr, "w:ind")
    if spec.first_line_chars is not None:
        _set(ind, firstLineChars=str(spec.first_line_chars * 100),
             firstLine=str(spec.first_line_chars * _CHAR_TWIPS))
    _set(ind, rightChars=str(spec.right_chars * 100), right=str(spec.right_chars * _CHAR_TWIPS),
         leftChars=str(spec.left_chars * 100), left=str(spec.left_chars * _CHAR_TWIPS))


# --- document-wide settings -----------------------------------------------------------

def _set_doc_defaults(document: DocumentObject) -> None:
    """docDefaults: body font and size, Chinese language, exact line pitch."""
    defaults = document.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_fonts(rpr, FONT_BODY)
    _set_size(rpr, SIZE_3)
    _set(_child(rpr, "w:lang"), val="en-US", eastAsia="zh-CN", bidi="ar-SA")
    ppr = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    _set_spacing(ppr, LINE_PITCH_TWIPS)


def _set_normal_style(document: DocumentObject) -> None:
    """Normal (正文): 仿宋_GB2312 三号, justified, first line indented two characters."""
    normal = document.styles["Normal"]
    rpr = normal.element.get_or_add_rPr()
    set_fonts(rpr, FONT_BODY)
    _set_size(rpr, SIZE_3)
    _set(_child(rpr, "w:spacing"), val=str(body_char_spacing()))
    ppr = normal.element.get_or_add_pPr()
    _set_spacing(ppr, LINE_PITCH_TWIPS)
    _set_indent(ppr, StyleSpec("正文", "Normal", FONT_BODY, SIZE_3, first_line_chars=2))
    _set(_child(ppr, "w:jc"), val="both")


def _add_style(document: DocumentObject, spec: StyleSpec) -> ParagraphStyle:
    """Define one paragraph style based on Normal."""
    style = document.styles.add_style(spec.name, WD_STYLE_TYPE.PARAGRAPH)
    style.style_id = spec.style_id
    style.base_style = document.styles["Normal"]
    style.quick_style = True
    rpr = style.element.get_or_add_rPr()
    set_fonts(rpr, spec.east_asia, spec.latin)
    _set_size(rpr, spec.size)
    if spec.char_spacing is not None:
        _set(_child(rpr, "w:spacing"), val=str(spec.char_spacing))
    ppr = style.element.get_or_add_pPr()
    if spec.keep_next:
        _child(ppr, "w:keepNext")
    if not spec.snap_to_grid:
        _set(_child(ppr, "w:snapToGrid"), val="0")
    _set_spacing(ppr, spec.line_twips)
    _set_indent(ppr, spec)
    if spec.align:
        _set(_child(ppr, "w:jc"), val=spec.align)
    if spec.outline_level is not None:
        _set(_child(ppr, "w:outlineLvl"), val=str(spec.outline_level))
    return style


def _set_font_table(document: DocumentObject) -> None:
    """Replace word/fontTable.xml with hefa's fonts and their fallbacks (w:altName)."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    root = etree.Element(f"{{{w}}}fonts", nsmap={"w": w})
    for face in FONT_TABLE:
        font = etree.SubElement(root, f"{{{w}}}font", {f"{{{w}}}name": face.name})
        if face.alt_names:
            etree.SubElement(font, f"{{{w}}}altName", {f"{{{w}}}val": face.alt_names})
        for tag, value in (("panose1", face.panose), ("charset", face.charset),
                           ("family", face.family), ("pitch", face.pitch)):
            etree.SubElement(font, f"{{{w}}}{tag}", {f"{{{w}}}val": value})
    for rel in document.part.rels.values():
        if rel.reltype.endswith("/fontTable"):
            rel.target_part._blob = etree.tostring(  # python-docx keeps this part as bytes
                root, xml_declaration=True, encoding="UTF-8", standalone=True
            )


def _set_page(section: Section) -> None:
    """A4 paper, GB/T 9704 margins, and the 22-line document grid (w:docGrid)."""
    section.page_width, section.page_height = Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM)
    section.top_margin, section.bottom_margin = Mm(MARGIN_TOP_MM), Mm(MARGIN_BOTTOM_MM)
    section.left_margin, section.right_margin = Mm(MARGIN_LEFT_MM), Mm(MARGIN_RIGHT_MM)
    section.header_distance = Mm(15)
    # The page number's top sits 7 mm below the text block: 35 - 7 - 4.9 (四号) ≈ 23 mm.
    section.footer_distance = Mm(23)
    grid = _child(section._sectPr, "w:docGrid")
    for attr in list(grid.attrib):
        del grid.attrib[attr]
    _set(grid, type="lines", linePitch=str(LINE_PITCH_TWIPS))


def _add_page_field(paragraph: Paragraph) -> None:
    """Append a PAGE field (complex field, cached value 1) to ``paragraph``."""
    for kind, text in (("begin", None), ("instr", " PAGE "), ("separate", None),
                       ("text", "1"), ("end", None)):
        run = paragraph.add_run()
        if kind == "instr":
            instr = OxmlElement("w:instrText")
            instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            instr.text = text
            run._r.append(instr)
        elif kind == "text":
            run.text = text
        else:
            char = OxmlElement("w:fldChar")
            _set(char, fldCharType=kind)
            run._r.append(char)


def _fill_page_number(paragraph: Paragraph, outer: str) -> None:
    """"— N —" on the outer side, one character in (单页码居右空一字, 双页码居左空一字)."""
    paragraph.style = PAGE_NUMBER.name
    ppr = paragraph._p.get_or_add_pPr()
    _set(_child(ppr, "w:jc"), val=outer)
    one_char = str(SIZE_4 * 20)
    _set(_child(ppr, "w:ind"), firstLine="0", firstLineChars="0",
         **({"right": one_char} if outer == "right" else {"left": one_char}))
    paragraph.add_run(f"{_EM_DASH} ")
    _add_page_field(paragraph)
    paragraph.add_run(f" {_EM_DASH}")


def _set_footers(document: DocumentObject, section: Section) -> None:
    """Page numbers in odd (default) and even footers; no header."""
    document.settings.odd_and_even_pages_header_footer = True
    _fill_page_number(section.footer.paragraphs[0], "right")
    _fill_page_number(section.even_page_footer.paragraphs[0], "left")


def set_up(document: DocumentObject) -> None:
    """Apply GB/T 9704-2012 page, grid, styles, fonts and page numbers to a new document."""
    _set_doc_defaults(document)
    _set_normal_style(document)
    for spec in (*STYLES.values(), TABLE_TEXT, TABLE_HEADER, PAGE_NUMBER):
        _add_style(document, spec)
    _set_font_table(document)
    settings = document.settings.element
    _set(_child(settings, "w:themeFontLang"), val="en-US", eastAsia="zh-CN")
    section = document.sections[0]
    _set_page(section)
    _set_footers(document, section)


# --- content ----------------------------------------------------------------------------

def _fill_cell(cell: _Cell, value: str, style: str, align: str | None) -> None:
    """Write ``value`` into a cell, one paragraph per line, aligned as the column says."""
    for i, line in enumerate(value.split("\n")):
        paragraph = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
        paragraph.style = style
        paragraph.add_run(line)
        if align:
            _set(_child(paragraph._p.get_or_add_pPr(), "w:jc"), val=align)


def _add_table(document: DocumentObject, block: Block) -> Table:
    """A bordered table the width of the text block; first row is a repeated header."""
    table = document.add_table(rows=len(block.rows), cols=len(block.rows[0]))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    total = Mm(TEXT_WIDTH_MM)
    widths = [Twips(round(total.twips * w / sum(block.widths))) for w in block.widths]
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for r, (row, values) in enumerate(zip(table.rows, block.rows, strict=True)):
        style = TABLE_HEADER.name if r == 0 else TABLE_TEXT.name
        for cell, width, align, value in zip(row.cells, widths, block.aligns, values,
                                             strict=True):
            cell.width = width
            _fill_cell(cell, value, style, None if r == 0 else align)
    header = table.rows[0]._tr.get_or_add_trPr()
    header.append(OxmlElement("w:tblHeader"))
    return table


def add_block(document: DocumentObject, block: Block) -> None:
    """Append one markup block to the document body."""
    if block.kind is Kind.TABLE:
        _add_table(document, block)
    elif block.kind is Kind.BLANK:
        document.add_paragraph(style="Normal")
    elif block.kind is Kind.BODY:
        document.add_paragraph(block.text, style="Normal")
    else:
        document.add_paragraph(block.text, style=STYLES[block.kind].name)


def keep_signature_with_text(document: DocumentObject) -> None:
    """Keep the signature block (落款) on one page with the last lines of text before it.

    GB/T 9704 practice: a signature never stands alone on a page. The last body paragraph before
    the last run of 落款 lines is kept in one piece (``keep_together``) and kept with what
    follows (``keep_with_next``), as are the blank lines between and every 落款 line but the
    last; a word processor then moves them to the next page together.
    """
    paragraphs = document.paragraphs
    signature = STYLES[Kind.RIGHT].name
    lines = [i for i, p in enumerate(paragraphs) if p.style is not None and p.style.name == signature]
    if not lines:
        return
    last = first = lines[-1]
    while first - 1 in lines:
        first -= 1
    text = first - 1
    while text >= 0 and not paragraphs[text].text.strip():
        text -= 1
    for paragraph in paragraphs[max(text, 0):last]:
        paragraph.paragraph_format.keep_with_next = True
    if text >= 0:
        paragraphs[text].paragraph_format.keep_together = True
