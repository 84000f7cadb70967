"""Measure 5: intake and pre-screen of a 3,000-paragraph .docx, in-process, against
python-docx reading the same file's paragraph texts."""

from __future__ import annotations

import io
import time

from .harness import Result, docx_bytes, median, ratio_target

CLEAN = (
    "本规定所称农家乐，是指利用农村自然环境和农业资源，为游客提供餐饮、住宿等服务的经营活动。",
    "镇人民政府负责本镇农家乐发展的统筹协调，村民委员会予以协助。",
    "经营者应当依法取得营业执照和食品经营许可证，遵守食品安全、消防安全等法律法规。",
    "违法行为由有关部门依照《中华人民共和国食品安全法》等法律、法规的规定处理。",
    "鼓励经营者参加职业技能培训，提高服务质量。",
)
PROBLEM = (
    "违反本办法第八条规定的，由镇综合执法队处五百元以上二千元以下罚款。",
    "开办农家乐的，应当向镇人民政府申请取得农家乐经营许可证。",
    "对拒不拆除违规广告牌的，镇政府可以先行扣押其广告设施。",
    "农家乐经营者每年应当向镇旅游服务中心缴纳服务费八百元。",
    "农家乐经营者采购食材的，应当在镇指定的配送企业处统一采购。",
    "对屡教不改的经营户，责令停业整顿一个月。",
)
DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 15 → 十五, 208 → 二百零八, 3000 → 三千."""
    if n < 10:
        return DIGITS[n]
    if n < 20:
        return "十" + (DIGITS[n % 10] if n % 10 else "")
    out = ""
    for value, unit in ((1000, "千"), (100, "百"), (10, "十")):
        digit = n // value % 10
        if digit:
            out += DIGITS[digit] + unit
        elif out and n % value and not out.endswith("零"):
            out += "零"
    if n % 10:
        out += DIGITS[n % 10]
    return out


def document(paragraphs: int = 3000) -> bytes:
    """Articles 第X条, one paragraph each; about one in five has problem wording."""
    texts = []
    for i in range(1, paragraphs + 1):
        body = PROBLEM[i % len(PROBLEM)] if i % 5 == 0 else CLEAN[i % len(CLEAN)]
        texts.append(f"第{chinese_number(i)}条 {body}")
    return docx_bytes(texts, title="河东镇农家乐管理若干规定")


def run(quick: bool) -> list[Result]:
    import docx

    from hefa.review.config import settings
    from hefa.review.documents.docx_intake import extract_document, validate_docx
    from hefa.review.documents.prescreen import prescreen_document

    data = document(3000)
    cfg = settings()
    repeat = 3 if quick else 5

    def hefa() -> int:
        validate_docx(data, max_upload_bytes=cfg.max_upload_bytes,
                      max_uncompressed_bytes=cfg.max_uncompressed_bytes,
                      max_zip_entries=cfg.max_zip_entries, max_compression_ratio=cfg.max_compression_ratio)
        return len(prescreen_document(extract_document(data)))

    def bare() -> int:
        return len([p.text for p in docx.Document(io.BytesIO(data)).paragraphs])

    findings, paragraphs = hefa(), bare()  # warm-up (rules compiled, modules loaded)
    hefa_t, bare_t = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        bare()
        bare_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        hefa()
        hefa_t.append(time.perf_counter() - t)
    return [ratio_target("5 pre-screen of a 3,000-paragraph .docx", median(hefa_t), median(bare_t), 2.0,
                         note=f"median of {repeat}; {paragraphs} paragraphs, {findings} findings, "
                              f"{len(data) // 1024} KB")]
