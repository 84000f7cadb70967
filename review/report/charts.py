"""The report's charts (图表), rendered with matplotlib (Agg, no display), CJK labels in a Noto CJK
font when one is installed (fonts-noto-cjk); PNG bytes for the .docx and the artifact."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

CJK_FONT_FILES = ("NotoSansCJK-Regular.ttc", "NotoSerifCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf")


@lru_cache(maxsize=1)
def _font() -> str | None:
    """Register a Noto CJK font with matplotlib; its family name, or None (labels then fall back)."""
    from matplotlib import font_manager

    for path in font_manager.findSystemFonts():
        if Path(path).name in CJK_FONT_FILES:
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    return None


def _figure():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    family = _font()
    if family:
        plt.rcParams["font.family"] = [family, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _png(plt, fig) -> bytes:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=150)
    plt.close(fig)
    return buffer.getvalue()


def review_times(rows: list[tuple[str, float, int, int | None]]) -> bytes:
    """审查用时（工作日）by kind: median and longest bars, the limit as a mark.
    rows: (label, median, longest, limit)."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(6.3, 3.2))
    labels = [r[0] for r in rows] or ["（无）"]
    positions = range(len(labels))
    ax.bar([p - 0.2 for p in positions], [r[1] for r in rows] or [0], width=0.4, label="中位数")
    ax.bar([p + 0.2 for p in positions], [r[2] for r in rows] or [0], width=0.4, label="最长")
    for p, row in zip(positions, rows, strict=False):
        if row[3] is not None:
            ax.hlines(row[3], p - 0.45, p + 0.45, colors="red", linestyles="dashed")
    ax.set_xticks(list(positions), labels)
    ax.set_ylabel("工作日")
    ax.set_ylim(bottom=0)
    ax.set_title("合法性审查用时（红线为时限）")
    ax.legend()
    return _png(plt, fig)


def monthly_volume(counts: dict[int, int]) -> bytes:
    """月度受理量: matters opened per month."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(6.3, 2.8))
    months = list(range(1, 13))
    ax.bar(months, [counts.get(m, 0) for m in months])
    ax.set_xticks(months, [f"{m}月" for m in months])
    ax.set_ylabel("件")
    ax.set_ylim(bottom=0)
    ax.set_title("各月审查事项数量")
    return _png(plt, fig)
