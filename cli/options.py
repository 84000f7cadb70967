"""The options every command shares (--as, --token, --code, --json and the matter id), declared once.

``cli/main.py``, ``cli/per_kind.py`` and ``cli/after_filing.py`` import them, so each reads and is
described the same in every command's help.
"""

from __future__ import annotations

from typing import Annotated

import typer

AsOpt = Annotated[str | None, typer.Option("--as", help="办理人员姓名 / acting officer")]
TokenOpt = Annotated[str | None, typer.Option(
    "--token", help="令牌（不推荐：会出现在进程列表中；请用 HEFA_TOKEN 或 hefa login）")]
CodeOpt = Annotated[str | None, typer.Option("--code", help="动态码（6位，代替令牌） / one-time code")]
JsonOpt = Annotated[bool, typer.Option("--json", help="输出 JSON / machine-readable output")]
MatterArg = Annotated[str, typer.Argument(help="事项编号，如 2026-0007 / matter id")]
