"""Time limits on the official PRC calendar (工作日 and 日).

A limit in 工作日 (working days) counts only the days on which government offices
work under the State Council's annual notice on public holidays (国务院办公厅关于
某年部分节假日安排的通知): Monday to Friday, minus the statutory holidays
(法定节假日, 《全国年节及纪念日放假办法》), plus the 调休 make-up working days
(Saturdays and Sundays declared working days). Examples of such limits:
公开征求意见 "一般不少于7个工作日" (国办发〔2018〕37号); 合法性审核 "原则上不少于5个
工作日，最长不超过15个工作日" (国办发〔2018〕115号); 《行政许可法》第八十二条 (许可
期限以工作日计算，不含法定节假日); 《行政处罚法》第八十五条 ("二日""三日""五日"
"七日"是指工作日，不含法定节假日).

Counting rule: the starting day is not counted (《民法典》第二百零一条: 按照年、月、
日、小时计算期间的，开始的当日不计入，自下一日开始计算). A limit of N working days
from day D ends on the N-th working day after D.

Where the law says 日/天 without 工作日, the limit is in calendar days: see
:func:`add_days` (and :func:`roll_to_workday` for the 《民法典》第二百零三条 rule that
a period whose last day is a statutory rest day ends on the day after the rest).

Data: the ``chinesecalendar`` package (years 2004-2026 in version 1.11), extended or
overridden per year by ``$HEFA_HOME/calendar/*.toml`` files (one per year; see
``review/law/data/calendar-example-2027.toml``). A day in a year that neither covers
raises :class:`CalendarOutOfRange`; nothing is ever guessed.
"""

from __future__ import annotations

import bisect
import datetime as dt
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import chinese_calendar

from hefa.review import errors
from hefa.review.config import hefa_home

__all__ = [
    "PACKAGE_YEARS",
    "Calendar",
    "CalendarDataError",
    "CalendarError",
    "CalendarOutOfRange",
    "YearData",
    "add_days",
    "add_workdays",
    "calendar",
    "is_workday",
    "known_years",
    "load_year_file",
    "reset_calendar_cache",
    "roll_to_workday",
    "workdays_between",
]

CALENDAR_DIR = "calendar"
EXAMPLE_FILE = "review/law/data/calendar-example-2027.toml"
_PACKAGE_ORIGIN = f"chinesecalendar {chinese_calendar.__version__}"
_PACKAGE_SOURCE = (
    "国务院办公厅历年部分节假日安排的通知（由 chinesecalendar "
    f"{chinese_calendar.__version__} 收录）"
)
_ALLOWED_KEYS = {"year", "source", "holidays", "workdays", "example"}


CalendarError = errors.CalendarError  # the base of the calendar errors, under hefa's one error root


class CalendarDataError(CalendarError, ValueError):
    """A calendar data file (``$HEFA_HOME/calendar/*.toml``) is invalid."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"日历数据文件 {self.path} 有误：{problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.problem))


class CalendarOutOfRange(CalendarError, LookupError):
    """A computation needs a day of a year for which no holiday schedule is known."""

    def __init__(
        self, year: int, home: Path | str | None = None, known: Iterable[int] = ()
    ) -> None:
        self.year = year
        self.home = str(home) if home is not None else None
        self.known = tuple(sorted(known))
        folder = Path(self.home) if self.home else Path("$HEFA_HOME")
        target = folder / CALENDAR_DIR / f"{year}.toml"
        have = _describe_years(self.known) or "无"
        super().__init__(
            f"没有 {year} 年的节假日安排数据，无法计算工作日期限（已有数据的年份：{have}）。"
            f"请管理员依据国务院办公厅公布的《关于{year}年部分节假日安排的通知》新建 {target}，"
            f"写明 year = {year}、source（通知文号）、holidays（放假日期）和 workdays"
            f"（调休上班的周六、周日），格式见 {EXAMPLE_FILE}。"
            f" / No public-holiday data for {year}: add {target} "
            f"(year, source, holidays, workdays; see {EXAMPLE_FILE})."
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.year, self.home, self.known))


def _describe_years(years: Iterable[int]) -> str:
    """``2004-2026, 2028`` for a set of years."""
    runs: list[list[int]] = []
    for y in sorted(years):
        if runs and runs[-1][1] == y - 1:
            runs[-1][1] = y
        else:
            runs.append([y, y])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


@dataclass(frozen=True)
class YearData:
    """One year's schedule: statutory holidays and 调休 make-up working days.

    ``holidays`` maps each rest day of a holiday period (weekend days inside the period
    included) to the holiday's name; ``workdays`` maps each make-up working weekend day
    to the holiday it serves (or ``None``). ``source`` is the State Council notice;
    ``origin`` is where hefa read it (the package, or a data file's path).
    """

    year: int
    source: str
    origin: str
    holidays: Mapping[dt.date, str] = field(default_factory=dict)
    workdays: Mapping[dt.date, str | None] = field(default_factory=dict)

    def is_workday(self, day: dt.date) -> bool:
        """Whether ``day`` (in this year) is a working day."""
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


def _package_years() -> dict[int, YearData]:
    """The package's data, split by year (its range: first to last holiday year)."""
    names = {h.value: h.chinese for h in chinese_calendar.Holiday}
    first = min(chinese_calendar.holidays).year
    last = max(chinese_calendar.holidays).year
    hol: dict[int, dict[dt.date, str]] = {y: {} for y in range(first, last + 1)}
    work: dict[int, dict[dt.date, str | None]] = {y: {} for y in range(first, last + 1)}
    for day, name in chinese_calendar.holidays.items():
        hol[day.year][day] = names.get(name, name)
    for day, name in chinese_calendar.workdays.items():
        if day.year in work:
            work[day.year][day] = names.get(name, name)
    return {
        y: YearData(y, _PACKAGE_SOURCE, _PACKAGE_ORIGIN, hol[y], work[y])
        for y in range(first, last + 1)
    }


def _as_date(value: Any, path: Path, where: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise CalendarDataError(
            path,
            f"{where} 应为不带引号的 TOML 日期（如 2027-01-01），实际为 {value!r} / "
            "expected a bare TOML date",
        )
    return value


def _check_year(day: dt.date, year: int, path: Path, where: str) -> None:
    # A year's notice may also fix days at the end of the previous December
    # (e.g. the 2019 notice: 2018-12-29 上班, 2018-12-30/31 放假).
    if day.year == year or (day.year == year - 1 and day.month == 12):
        return
    raise CalendarDataError(
        path,
        f"{where} 的日期 {day} 不属于 {year} 年（只允许 {year} 年的日期，"
        f"或 {year - 1} 年 12 月因元旦调休的日期） / date outside year {year}",
    )


def _name(value: Any, path: Path, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CalendarDataError(path, f"{where} 缺少节日名称 name / missing holiday name")
    return value.strip()


def load_year_file(path: Path) -> YearData:
    """Read and strictly validate one ``$HEFA_HOME/calendar/*.toml`` file.

    Returns the data for the file's ``year``; dates it lists in the previous December
    are kept in the result too (the :class:`Calendar` applies them to that year).
    Raises :class:`CalendarDataError` naming the file and the problem.
    """
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise CalendarDataError(path, f"TOML 格式错误：{exc} / invalid TOML") from exc
    except OSError as exc:
        raise CalendarDataError(path, f"无法读取：{exc} / cannot read") from exc

    unknown = sorted(set(data) - _ALLOWED_KEYS)
    if unknown:
        raise CalendarDataError(
            path,
            f"未知的键 {', '.join(unknown)}（允许：year, source, holidays, workdays） / "
            "unknown keys",
        )
    if data.get("example"):
        raise CalendarDataError(
            path,
            "这是示例文件（example = true），不能作为正式日历数据；请按国务院办公厅通知填写"
            "真实日期和文号并删除 example 一行 / this is the example file",
        )
    year = data.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1949 < year < 3000:
        raise CalendarDataError(path, f"year 应为年份整数，实际为 {year!r} / bad year")
    if path.stem.isdigit() and int(path.stem) != year:
        raise CalendarDataError(
            path, f"文件名年份 {path.stem} 与 year = {year} 不符 / file name does not match year"
        )
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise CalendarDataError(
            path,
            "source 不能为空，应写明国务院办公厅通知的标题和文号 / source (the notice) is required",
        )

    raw_holidays = data.get("holidays")
    if not isinstance(raw_holidays, list) or not raw_holidays:
        raise CalendarDataError(
            path, "缺少 holidays（放假日期列表） / holidays must be a non-empty list"
        )
    holidays: dict[dt.date, str] = {}
    for i, item in enumerate(raw_holidays, 1):
        where = f"holidays 第 {i} 项"
        if not isinstance(item, dict):
            raise CalendarDataError(
                path,
                f"{where} 应为 {{date = ..., name = ...}} 或 {{start = ..., end = ..., "
                "name = ...}} / bad holiday entry",
            )
        extra = sorted(set(item) - {"date", "start", "end", "name"})
        if extra or ("date" in item) == ("start" in item or "end" in item):
            raise CalendarDataError(
                path,
                f"{where} 应为 {{date = ..., name = ...}} 或 {{start = ..., end = ..., "
                "name = ...}} / bad holiday entry",
            )
        name = _name(item.get("name"), path, where)
        if "date" in item:
            first = last = _as_date(item["date"], path, where)
        else:
            if "start" not in item or "end" not in item:
                raise CalendarDataError(path, f"{where} 需同时写 start 和 end / start and end")
            first = _as_date(item["start"], path, where)
            last = _as_date(item["end"], path, where)
            if last < first:
                raise CalendarDataError(
                    path, f"{where} 的 end {last} 早于 start {first} / end before start"
                )
        day = first
        while day <= last:
            _check_year(day, year, path, where)
            if day in holidays:
                raise CalendarDataError(path, f"{where}：{day} 重复列为假日 / duplicate holiday")
            holidays[day] = name
            day += dt.timedelta(days=1)

    raw_workdays = data.get("workdays", [])
    if not isinstance(raw_workdays, list):
        raise CalendarDataError(path, "workdays 应为日期列表 / workdays must be a list of dates")
    workdays: dict[dt.date, str | None] = {}
    for i, item in enumerate(raw_workdays, 1):
        where = f"workdays 第 {i} 项"
        name: str | None = None
        if isinstance(item, dict):
            if set(item) - {"date", "name"} or "date" not in item:
                raise CalendarDataError(
                    path, f"{where} 应为日期或 {{date = ..., name = ...}} / bad workday entry"
                )
            name = _name(item["name"], path, where) if "name" in item else None
            item = item["date"]
        day = _as_date(item, path, where)
        _check_year(day, year, path, where)
        if day in holidays:
            raise CalendarDataError(
                path,
                f"{day} 既列为假日又列为调休上班日 / a day cannot be both holiday and workday",
            )
        if day.weekday() < 5:
            raise CalendarDataError(
                path,
                f"{where}：{day} 是星期{'一二三四五'[day.weekday()]}，调休上班日必须是周六或周日"
                " / a make-up workday is by definition a weekend day",
            )
        if day in workdays:
            raise CalendarDataError(path, f"{where}：{day} 重复 / duplicate workday")
        workdays[day] = name

    return YearData(year, source.strip(), str(path), holidays, workdays)


class Calendar:
    """The working-day calendar: package data plus configured years.

    Build it with :meth:`load` (cached per home folder). Every query that needs a day
    of an unknown year raises :class:`CalendarOutOfRange`.
    """

    _cache: ClassVar[dict[Path, Calendar]] = {}

    def __init__(self, years: Mapping[int, YearData], home: Path | None = None) -> None:
        self.home = home
        self._years: dict[int, YearData] = dict(years)
        # Per year: sorted ordinals of the working days (for bisect) and their set.
        self._ordinals: dict[int, list[int]] = {}
        self._sets: dict[int, frozenset[int]] = {}
        for y, data in self._years.items():
            start = dt.date(y, 1, 1).toordinal()
            stop = dt.date(y + 1, 1, 1).toordinal()
            ords = [o for o in range(start, stop) if data.is_workday(dt.date.fromordinal(o))]
            self._ordinals[y] = ords
            self._sets[y] = frozenset(ords)

    @classmethod
    def load(cls, home: Path | None = None) -> Calendar:
        """The calendar for ``home`` (default: ``hefa_home()``), cached per folder.

        Reads the package data and every ``home/calendar/*.toml`` file; a configured
        year replaces the package data for that year (the file is the whole notice).
        """
        home = Path(home).expanduser() if home is not None else hefa_home()
        key = home  # not resolve()d: that costs file-system calls on every query
        cal = cls._cache.get(key)
        if cal is None:
            cal = cls._cache[key] = cls._build(home)
        return cal

    @classmethod
    def _build(cls, home: Path) -> Calendar:
        years = _package_years()
        folder = home / CALENDAR_DIR
        files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
        configured: dict[int, YearData] = {}
        for path in files:
            data = load_year_file(path)
            if data.year in configured:
                raise CalendarDataError(
                    path,
                    f"{data.year} 年已由 {configured[data.year].origin} 定义，每年只能有一个文件"
                    " / duplicate year",
                )
            configured[data.year] = data
        for y, data in configured.items():
            years[y] = YearData(
                y,
                data.source,
                data.origin,
                {d: n for d, n in data.holidays.items() if d.year == y},
                {d: n for d, n in data.workdays.items() if d.year == y},
            )
        # Days of the previous December fixed by a year's notice amend that year.
        for y, data in sorted(configured.items()):
            prev = years.get(y - 1)
            if prev is None:
                continue
            hol = dict(prev.holidays)
            work = dict(prev.workdays)
            for d, n in data.holidays.items():
                if d.year == y - 1:
                    work.pop(d, None)
                    hol[d] = n
            for d, wn in data.workdays.items():
                if d.year == y - 1:
                    hol.pop(d, None)
                    work[d] = wn
            years[y - 1] = YearData(prev.year, prev.source, prev.origin, hol, work)
        return cls(years, home)

    # -- data ----------------------------------------------------------------------

    def known_years(self) -> frozenset[int]:
        """The years for which a holiday schedule is known."""
        return frozenset(self._years)

    def year(self, year: int) -> YearData:
        """The schedule of ``year`` (source and origin recorded); raises if unknown."""
        try:
            return self._years[year]
        except KeyError:
            raise CalendarOutOfRange(year, self.home, self._years) from None

    def _workdays_of(self, year: int) -> list[int]:
        try:
            return self._ordinals[year]
        except KeyError:
            raise CalendarOutOfRange(year, self.home, self._years) from None

    def holiday_name(self, day: dt.date) -> str | None:
        """The holiday whose rest period contains ``day`` (e.g. ``国庆节``), else None."""
        return self.year(_check_date(day).year).holidays.get(day)

    # -- queries -------------------------------------------------------------------

    def is_workday(self, day: dt.date) -> bool:
        """Whether ``day`` is a 工作日 (incl. 调休 make-up days; excl. 法定节假日)."""
        day = _check_date(day)
        if day.year not in self._sets:
            raise CalendarOutOfRange(day.year, self.home, self._years)
        return day.toordinal() in self._sets[day.year]

    def add_workdays(self, start: dt.date, n: int) -> dt.date:
        """The N-th working day after ``start`` (the starting day is not counted).

        ``n = 0`` returns ``start`` unchanged (nothing is counted).
        """
        start = _check_date(start)
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, not {type(n).__name__}")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return start
        first = start + dt.timedelta(days=1)
        year = first.year
        ords = self._workdays_of(year)
        idx = bisect.bisect_left(ords, first.toordinal())
        remaining = n
        while True:
            available = len(ords) - idx
            if remaining <= available:
                return dt.date.fromordinal(ords[idx + remaining - 1])
            remaining -= available
            year += 1
            ords = self._workdays_of(year)
            idx = 0

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end``.

        Negative (minus the count from ``end`` to ``start``) when ``end < start``; so
        ``workdays_between(d, add_workdays(d, n)) == n``.
        """
        start, end = _check_date(start), _check_date(end)
        if end < start:
            return -self.workdays_between(end, start)
        if end == start:
            return 0
        first, last = start + dt.timedelta(days=1), end
        count = 0
        for year in range(first.year, last.year + 1):
            ords = self._workdays_of(year)
            lo = bisect.bisect_left(ords, first.toordinal()) if year == first.year else 0
            hi = bisect.bisect_right(ords, last.toordinal()) if year == last.year else len(ords)
            count += hi - lo
        return count

    def roll_to_workday(self, day: dt.date) -> dt.date:
        """``day`` if a working day, else the next working day.

        For a limit in 日 whose last day is a statutory rest day: 《民法典》第二百零三条
        (期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日).
        """
        day = _check_date(day)
        if self.is_workday(day):
            return day
        return self.add_workdays(day, 1)


def _check_date(day: dt.date) -> dt.date:
    # datetime is a date subclass, but its calendar day depends on the time zone.
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise TypeError(
            f"expected a datetime.date (the Beijing-time calendar day), got {type(day).__name__}"
        )
    return day


# The default calendar by raw HEFA_HOME value, so module-level queries skip the Path work.
_default: dict[str | None, Calendar] = {}


def calendar() -> Calendar:
    """The default calendar: package data plus ``hefa_home()/calendar/*.toml``."""
    raw = os.environ.get("HEFA_HOME")
    cal = _default.get(raw)
    if cal is None:
        cal = _default[raw] = Calendar.load()
    return cal


def reset_calendar_cache() -> None:
    """Forget loaded calendars (tests; or after an administrator added a year file)."""
    Calendar._cache.clear()
    _default.clear()


def is_workday(day: dt.date) -> bool:
    """Whether ``day`` is a 工作日 on the official calendar (调休 included)."""
    return calendar().is_workday(day)


def add_workdays(start: dt.date, n: int) -> dt.date:
    """The last day of a limit of ``n`` 工作日 from ``start`` (start not counted).

    E.g. 合法性审核 "不少于5个工作日" (国办发〔2018〕115号): ``add_workdays(sent, 5)``.
    """
    return calendar().add_workdays(start, n)


def workdays_between(start: dt.date, end: dt.date) -> int:
    """工作日 after ``start`` up to and including ``end`` (negative if ``end < start``)."""
    return calendar().workdays_between(start, end)


def add_days(start: dt.date, n: int) -> dt.date:
    """``start`` plus ``n`` calendar days, for limits the law states in 日/天.

    The starting day is not counted (《民法典》第二百零一条), so a limit of 30 日 from
    D ends on ``add_days(D, 30)``. Needs no holiday data; see :func:`roll_to_workday`
    where the last day falling on a rest day extends the limit.
    """
    _check_date(start)
    return start + dt.timedelta(days=n)


def roll_to_workday(day: dt.date) -> dt.date:
    """``day`` or, if a rest day, the next 工作日 (《民法典》第二百零三条)."""
    return calendar().roll_to_workday(day)


def known_years() -> frozenset[int]:
    """The years the default calendar covers (package years plus configured files)."""
    return calendar().known_years()


#: The years carried by the installed ``chinesecalendar`` (2004-2026 in version 1.11).
PACKAGE_YEARS: range = range(
    min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1
)
