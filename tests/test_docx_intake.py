"""Tests for hefa.review.documents.docx_intake: every bad-input class, and structured extraction."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH

from hefa.review.documents.docx_intake import (
    OLE_MAGIC,
    InvalidDocument,
    extract_document,
    validate_docx,
)

SAMPLES = sorted((Path(__file__).resolve().parents[1] / "forms" / "samples").glob("*.docx"))
LIMITS = {
    "max_upload_bytes": 20 * 1024 * 1024,
    "max_uncompressed_bytes": 100 * 1024 * 1024,
    "max_zip_entries": 2000,
    "max_compression_ratio": 200,
}


def _validate(data: bytes, **overrides: int) -> None:
    validate_docx(data, **{**LIMITS, **overrides})


def _expect(data: bytes, fragment: str, **overrides: int) -> str:
    with pytest.raises(InvalidDocument) as caught:
        _validate(data, **overrides)
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message and " / " in message  # one line, Chinese / English
    return message


def _docx_bytes(document: docx.document.Document | None = None) -> bytes:
    document = document or _simple_document()
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _simple_document() -> docx.document.Document:
    document = docx.Document()
    document.add_heading("河市镇测试办法", level=1)
    document.add_paragraph("第一条  为规范管理，制定本办法。")
    return document


def _rezip(
    data: bytes,
    *,
    drop: tuple[str, ...] = (),
    add: dict[str, bytes] | None = None,
    replace: dict[str, bytes] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """Copy a zip, dropping, adding or replacing entries."""
    replace = replace or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", compression) as dst:
        for info in source.infolist():
            if info.filename in drop:
                continue
            dst.writestr(info.filename, replace.get(info.filename, source.read(info.filename)))
        for name, content in (add or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


# --- bad inputs ------------------------------------------------------------------------


def test_empty_file() -> None:
    _expect(b"", "文件为空")


def test_text_file_is_not_a_zip() -> None:
    _expect("这是一个文本文件，不是 Word 文档。\n".encode(), "not a zip archive")


def test_file_too_large() -> None:
    _expect(_docx_bytes(), "too large", max_upload_bytes=1000)


def test_truncated_zip() -> None:
    data = _docx_bytes()
    _expect(data[: len(data) // 2], "corrupt or truncated")


def test_corrupted_crc() -> None:
    data = bytearray(_rezip(_docx_bytes(), compression=zipfile.ZIP_STORED))
    position = data.find("为规范管理".encode())
    assert position > 0
    data[position] ^= 0x01  # same length, different content: only the CRC notices
    _expect(bytes(data), "CRC")


def test_legacy_doc_ole_magic() -> None:
    _expect(OLE_MAGIC + b"\x00" * 1024, ".doc")


def test_encrypted_ooxml_is_reported_as_encrypted_not_doc() -> None:
    data = OLE_MAGIC + b"\x00" * 512 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 512
    message = _expect(data, "encrypted")
    assert ".doc" not in message


def test_encryption_info_stream_is_encrypted() -> None:
    data = OLE_MAGIC + b"\x00" * 64 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 64
    _expect(data, "已加密")


def test_vba_project_in_renamed_docx() -> None:
    data = _rezip(_docx_bytes(), add={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0 fake vba"})
    _expect(data, "macro")


def test_macro_enabled_content_type() -> None:
    original = _docx_bytes()
    with zipfile.ZipFile(io.BytesIO(original)) as archive:
        types = archive.read("[Content_Types].xml")
    macro_types = types.replace(
        b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        b"application/vnd.ms-word.document.macroEnabled.main+xml",
    )
    assert macro_types != types
    _expect(_rezip(original, replace={"[Content_Types].xml": macro_types}), "macro")


def test_zip_bomb_declared_size() -> None:
    data = _rezip(_docx_bytes(), add={"word/media/blob.bin": b"\x00" * (2 * 1024 * 1024)})
    _expect(data, "zip bomb", max_uncompressed_bytes=1024 * 1024)


def test_zip_bomb_compression_ratio() -> None:
    data = _rezip(_docx_bytes(), add={"word/media/zeros.bin": b"\x00" * (8 * 1024 * 1024)})
    _expect(data, "compression ratio")


def test_too_many_entries() -> None:
    extra = {f"customXml/extra{i}.xml": b"<a/>" for i in range(30)}
    _expect(_rezip(_docx_bytes(), add=extra), "too many", max_zip_entries=20)


def test_zip_without_main_document() -> None:
    _expect(_rezip(_docx_bytes(), drop=("word/document.xml",)), "word/document.xml")


def test_zip_without_content_types() -> None:
    _expect(_rezip(_docx_bytes(), drop=("[Content_Types].xml",)), "[Content_Types].xml")


def test_plain_zip_is_not_a_word_document() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    _expect(out.getvalue(), "not a Word")


def test_valid_docx_passes() -> None:
    _validate(_docx_bytes())


# --- extraction ----------------------------------------------------------------------


def _structured_document() -> docx.document.Document:
    document = docx.Document()
    document.add_heading("河市镇农村人居环境整治办法", level=0)
    document.add_paragraph("第一章  总则", style="Heading 1")
    document.add_paragraph("第一条  为改善农村人居环境，制定本办法。")
    document.add_paragraph("第二条  镇人民政府履行下列职责：")
    document.add_paragraph("（一）组织实施整治工作；")
    document.add_paragraph("(二)安排专项资金。")
    document.add_paragraph("上述职责由镇综合办具体承担。")
    document.add_paragraph("第二章  管理措施", style="Heading 1")
    document.add_paragraph("第十二条  各村应当建立保洁制度。")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "事项"
    table.cell(0, 1).text = "标准"
    table.cell(1, 0).text = "乱倒垃圾"
    table.cell(1, 1).text = "处五百元罚款"
    document.add_paragraph("第一百零三条  本办法自公布之日起施行。")
    return document


def test_extract_structure() -> None:
    extracted = extract_document(_docx_bytes(_structured_document()))
    assert extracted.title == "河市镇农村人居环境整治办法"
    by_text = {p.text: p for p in extracted.paragraphs}

    assert by_text["第一章  总则"].is_heading
    assert by_text["第一章  总则"].chapter == "第一章"
    first = by_text["第一条  为改善农村人居环境，制定本办法。"]
    assert (first.chapter, first.article, first.item) == ("第一章", "第一条", None)
    assert by_text["（一）组织实施整治工作；"].item == "（一）"
    assert by_text["（一）组织实施整治工作；"].article == "第二条"
    assert by_text["(二)安排专项资金。"].item == "（二）"
    carried = by_text["上述职责由镇综合办具体承担。"]
    assert carried.article == "第二条"
    assert by_text["第十二条  各村应当建立保洁制度。"].chapter == "第二章"
    assert by_text["第一百零三条  本办法自公布之日起施行。"].article == "第一百零三条"

    assert extracted.tables == [[["事项", "标准"], ["乱倒垃圾", "处五百元罚款"]]]
    cell = by_text["处五百元罚款"]
    assert (cell.chapter, cell.article) == ("第二章", "第十二条")
    assert [p.index for p in extracted.paragraphs] == list(range(len(extracted.paragraphs)))


def test_cross_reference_does_not_start_an_article() -> None:
    document = docx.Document()
    document.add_paragraph("第三条  经营者应当遵守本办法。")
    document.add_paragraph("第八条规定的情形，按照有关规定处理。")
    extracted = extract_document(_docx_bytes(document))
    assert [p.article for p in extracted.paragraphs] == ["第三条", "第三条"]


def test_title_from_centered_paragraph_without_heading_style() -> None:
    document = docx.Document()
    document.add_paragraph("")
    title = document.add_paragraph("关于规范村级财务管理的通知")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph("各村：现将有关事项通知如下。")
    assert extract_document(_docx_bytes(document)).title == "关于规范村级财务管理的通知"


def test_title_from_bold_paragraph() -> None:
    document = docx.Document()
    document.add_paragraph("河政办发〔2024〕3号")
    document.add_paragraph().add_run("河市镇集贸市场管理办法").bold = True
    assert extract_document(_docx_bytes(document)).title == "河市镇集贸市场管理办法"


def test_title_falls_back_to_first_text() -> None:
    document = docx.Document()
    document.add_paragraph("   ")
    document.add_paragraph("一份没有标题样式的文件")
    assert extract_document(_docx_bytes(document)).title == "一份没有标题样式的文件"


def test_paragraph_text_matches_python_docx() -> None:
    document = _structured_document()
    expected = [p.text for p in document.paragraphs]
    extracted = extract_document(_docx_bytes(document))
    body = [p.text for p in extracted.paragraphs if p.text not in {"事项", "标准", "乱倒垃圾"}]
    assert [t for t in body if t != "处五百元罚款"] == expected


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_samples_validate_and_extract(path: Path) -> None:
    data = path.read_bytes()
    _validate(data)
    extracted = extract_document(data)
    assert extracted.title
    assert extracted.paragraphs
    expected = [p.text for p in docx.Document(path).paragraphs]
    assert [p.text for p in extracted.paragraphs] == expected


def test_sample_articles() -> None:
    path = Path(__file__).resolve().parents[1] / "forms" / "samples" / "normative_agritourism_draft.docx"
    extracted = extract_document(path.read_bytes())
    articles = [p.article for p in extracted.paragraphs if p.article]
    assert articles[0] == "第一条" and articles[-1] == "第十五条"
    assert extracted.title == "河市镇农家乐经营管理暂行办法（征求意见稿）"
