"""Working days on the official PRC calendar (review/workdays.py).

Every concrete date below was checked against chinesecalendar 1.11's data:
- 2025 国庆节+中秋节: rest 2025-10-01..10-08; make-up workdays Sun 2025-09-28, Sat 2025-10-11.
- 2026 春节: rest 2026-02-15..02-23; make-up workdays Sat 2026-02-14, Sat 2026-02-28.
- 2026 中秋节 rest 2026-09-25..09-27; 国庆节 rest 2026-10-01..10-07;
  make-up workdays Sun 2026-09-20, Sat 2026-10-10.
"""

from __future__ import annotations

import pickle
import time
from datetime import date, datetime
from pathlib import Path

import chinese_calendar
import pytest

from hefa.review.config import reset_settings
from hefa.review.law import workdays as wd
from hefa.review.law.workdays import (
    Calendar,
    CalendarDataError,
    CalendarOutOfRange,
    add_days,
    add_workdays,
    is_workday,
    known_years,
    reset_calendar_cache,
    workdays_between,
)

EXAMPLE = Path(wd.__file__).parent / "data" / "calendar-example-2027.toml"

GOOD_2027 = """\
year = 2027
source = "测试用：国务院办公厅关于2027年部分节假日安排的通知（测试占位）"
holidays = [
    { date = 2027-01-01, name = "元旦" },
    { start = 2027-02-06, end = 2027-02-12, name = "春节" },
]
workdays = [2027-02-13, { date = 2027-02-14, name = "春节" }]
"""


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An empty HEFA_HOME per test, and fresh caches."""
    monkeypatch.setenv("HEFA_HOME", str(tmp_path))
    monkeypatch.delenv("HEFA_TODAY", raising=False)
    reset_settings()
    reset_calendar_cache()
    yield tmp_path
    reset_settings()
    reset_calendar_cache()


def write_year(home: Path, text: str, name: str = "2027.toml") -> Path:
    folder = home / "calendar"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- package data ---------------------------------------------------------------------


def test_package_covers_2004_to_2026():
    assert chinese_calendar.__version__ == "1.11.0"
    assert wd.PACKAGE_YEARS == range(2004, 2027)
    assert known_years() == frozenset(range(2004, 2027))


def test_weekday_weekend_and_holidays():
    assert is_workday(date(2026, 3, 3))  # an ordinary Tuesday
    assert not is_workday(date(2026, 3, 7))  # an ordinary Saturday
    assert not is_workday(date(2026, 10, 1))  # 国庆节
    assert not is_workday(date(2026, 2, 17))  # 春节 (Tuesday)
    assert not is_workday(date(2026, 2, 23))  # last day of the 春节 rest (Monday)
    assert not is_workday(date(2026, 9, 25))  # 中秋节 (Friday)


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 9, 28),
        date(2025, 10, 11),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ],
)
def test_tiaoxiu_weekend_is_a_workday(day: date):
    assert day.weekday() >= 5
    assert is_workday(day)


def test_national_day_2026_sent_on_last_workday_before_holiday():
    # 2026-09-30 (Wednesday) is the last working day before the 国庆节 rest.
    sent = date(2026, 9, 30)
    assert is_workday(sent)
    assert add_workdays(sent, 1) == date(2026, 10, 8)  # Thursday after the rest
    assert add_workdays(sent, 3) == date(2026, 10, 10)  # the 调休 Saturday counts
    # 国办发〔2018〕115号: not less than 5, at most 15 working days for 合法性审核.
    assert add_workdays(sent, 5) == date(2026, 10, 13)
    assert add_workdays(sent, 15) == date(2026, 10, 27)
    assert workdays_between(sent, date(2026, 10, 13)) == 5
    assert workdays_between(sent, date(2026, 10, 27)) == 15


def test_national_day_2025():
    sent = date(2025, 9, 30)  # Tuesday, last working day before the rest
    assert add_workdays(sent, 1) == date(2025, 10, 9)
    assert add_workdays(sent, 5) == date(2025, 10, 14)
    assert add_workdays(sent, 15) == date(2025, 10, 28)
    # From the Friday before: the 调休 Sunday 2025-09-28 is the first working day.
    assert add_workdays(date(2025, 9, 26), 1) == date(2025, 9, 28)
    assert add_workdays(date(2025, 9, 26), 5) == date(2025, 10, 10)


def test_spring_festival_2026():
    friday = date(2026, 2, 13)
    assert add_workdays(friday, 1) == date(2026, 2, 14)  # 调休 Saturday
    assert add_workdays(friday, 2) == date(2026, 2, 24)  # first day after the rest
    assert add_workdays(friday, 5) == date(2026, 2, 27)
    assert add_workdays(friday, 15) == date(2026, 3, 12)
    # 37号文 comment period of 7 working days ending on the 调休 Saturday 2026-02-28.
    assert add_workdays(date(2026, 2, 12), 7) == date(2026, 2, 28)


def test_mid_autumn_and_september_tiaoxiu_2026():
    assert add_workdays(date(2026, 9, 18), 1) == date(2026, 9, 20)  # 调休 Sunday
    assert add_workdays(date(2026, 9, 24), 1) == date(2026, 9, 28)  # skips 中秋 Fri-Sun
    assert add_workdays(date(2026, 9, 24), 5) == date(2026, 10, 9)


def test_start_day_not_counted_and_boundary():
    start = date(2026, 3, 2)  # Monday
    assert add_workdays(start, 1) == date(2026, 3, 3)
    assert add_workdays(start, 5) == date(2026, 3, 9)  # the weekend is skipped
    due = add_workdays(start, 5)
    assert workdays_between(start, due) == 5  # the boundary day is the 5th, inside the limit
    assert workdays_between(start, date(2026, 3, 6)) == 4
    assert workdays_between(start, date(2026, 3, 10)) == 6  # one day late
    # Starting on a rest day: the count begins with the next working day.
    assert add_workdays(date(2026, 10, 3), 1) == date(2026, 10, 8)


def test_n_zero_and_negative():
    assert add_workdays(date(2026, 10, 1), 0) == date(2026, 10, 1)
    with pytest.raises(ValueError):
        add_workdays(date(2026, 3, 2), -1)


def test_workdays_between_signs_and_round_trip():
    a, b = date(2026, 9, 30), date(2026, 10, 27)
    assert workdays_between(a, a) == 0
    assert workdays_between(b, a) == -15
    # 元旦 rest 2026-01-01..01-03; 调休 Sunday 01-04 and Monday 01-05 count.
    assert workdays_between(date(2025, 12, 31), date(2026, 1, 5)) == 2
    assert is_workday(date(2026, 1, 4))
    for n in range(0, 400, 7):
        assert workdays_between(date(2025, 1, 10), add_workdays(date(2025, 1, 10), n)) == n


def test_matches_chinese_calendar_every_day():
    cal = Calendar.load()
    day = date(2004, 1, 1)
    while day.year <= 2026:
        assert cal.is_workday(day) == chinese_calendar.is_workday(day), day
        day = date.fromordinal(day.toordinal() + 1)


def test_add_days_calendar_days():
    assert add_days(date(2026, 9, 30), 30) == date(2026, 10, 30)
    assert add_days(date(2030, 1, 1), 5) == date(2030, 1, 6)  # needs no holiday data
    assert wd.roll_to_workday(date(2026, 10, 3)) == date(2026, 10, 8)  # 民法典 art. 203
    assert wd.roll_to_workday(date(2026, 10, 10)) == date(2026, 10, 10)


def test_datetime_rejected():
    with pytest.raises(TypeError):
        is_workday(datetime(2026, 3, 2, 12, 0))  # type: ignore[arg-type]


# -- beyond the data ------------------------------------------------------------------


def test_year_beyond_data_raises(home: Path):
    with pytest.raises(CalendarOutOfRange) as info:
        is_workday(date(2027, 3, 1))
    assert info.value.year == 2027
    message = str(info.value)
    assert "2027" in message
    assert str(home / "calendar" / "2027.toml") in message
    assert "source" in message and "workdays" in message


def test_computation_crossing_into_unknown_year_raises():
    with pytest.raises(CalendarOutOfRange, match="2027"):
        add_workdays(date(2026, 12, 24), 15)
    with pytest.raises(CalendarOutOfRange, match="2027"):
        workdays_between(date(2026, 12, 1), date(2027, 1, 5))
    with pytest.raises(CalendarOutOfRange, match="2003"):
        is_workday(date(2003, 12, 31))
    # The last day of 2026 needs nothing of 2027.
    assert add_workdays(date(2026, 12, 30), 1) == date(2026, 12, 31)


def test_out_of_range_pickles():
    err = pickle.loads(pickle.dumps(CalendarOutOfRange(2027, "/srv/hefa", range(2004, 2027))))
    assert err.year == 2027 and "2027" in str(err)


# -- configured years -----------------------------------------------------------------


def test_configured_2027_extends_range(home: Path):
    write_year(home, GOOD_2027)
    reset_calendar_cache()
    assert 2027 in known_years()
    assert not is_workday(date(2027, 1, 1))
    assert is_workday(date(2027, 2, 13))  # configured make-up Saturday
    assert not is_workday(date(2027, 2, 8))  # configured 春节 Monday
    # 2026-12-31 (Thursday) + 1 → 2027-01-04 (Monday; 01-01 holiday, 01-02/03 weekend).
    assert add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert add_workdays(date(2026, 12, 24), 15) == date(2027, 1, 15)
    assert Calendar.load().year(2027).source.startswith("测试用")
    with pytest.raises(CalendarOutOfRange, match="2028"):
        add_workdays(date(2027, 12, 20), 30)


def test_calendar_is_cached_per_home(home: Path, tmp_path_factory):
    assert Calendar.load() is Calendar.load(home)
    other = tmp_path_factory.mktemp("other")
    write_year(other, GOOD_2027)
    assert 2027 in Calendar.load(other).known_years()
    assert 2027 not in Calendar.load(home).known_years()


def test_configured_year_overrides_package(home: Path):
    # A (fictitious) file for 2026 replaces the package's 2026 data entirely.
    write_year(
        home,
        'year = 2026\nsource = "测试"\nholidays = [{date = 2026-03-03, name = "测试假日"}]\n',
        "2026.toml",
    )
    cal = Calendar.load()
    assert not cal.is_workday(date(2026, 3, 3))
    assert cal.is_workday(date(2026, 10, 1))  # the package's 国庆节 is gone
    assert cal.year(2026).origin.endswith("2026.toml")


def test_previous_december_dates_amend_previous_year(home: Path):
    # E.g. the 2019 notice: 2018-12-29 上班, 2018-12-30/31 放假.
    write_year(
        home,
        'year = 2027\nsource = "测试"\n'
        'holidays = [{start = 2026-12-31, end = 2027-01-01, name = "元旦"}]\n'
        "workdays = [2026-12-26]\n",
    )
    cal = Calendar.load()
    assert not cal.is_workday(date(2026, 12, 31))
    assert cal.is_workday(date(2026, 12, 26))  # a Saturday
    assert cal.holiday_name(date(2026, 12, 31)) == "元旦"


def test_example_file_is_not_loaded_and_rejected_if_copied(home: Path):
    assert 2027 not in known_years()
    write_year(home, EXAMPLE.read_text(encoding="utf-8"))
    reset_calendar_cache()
    with pytest.raises(CalendarDataError, match="示例"):
        Calendar.load()
    # Without the example marker, the example's format is valid.
    text = "\n".join(
        line
        for line in EXAMPLE.read_text(encoding="utf-8").splitlines()
        if not line.startswith("example")
    )
    write_year(home, text)
    reset_calendar_cache()
    assert 2027 in Calendar.load().known_years()


BAD_FILES = {
    "year mismatch": (
        GOOD_2027.replace("2027-01-01", "2028-01-01"),
        "不属于 2027 年",
    ),
    "file name mismatch": (GOOD_2027.replace("year = 2027", "year = 2028"), "文件名"),
    "holiday also workday": (
        GOOD_2027.replace("workdays = [2027-02-13", "workdays = [2027-02-06"),
        "既列为假日又列为调休上班日",
    ),
    "weekday make-up day": (
        GOOD_2027.replace("workdays = [2027-02-13", "workdays = [2027-02-15"),
        "必须是周六或周日",
    ),
    "empty source": (GOOD_2027.replace(GOOD_2027.splitlines()[1], 'source = "  "'), "source"),
    "missing source": (GOOD_2027.replace(GOOD_2027.splitlines()[1], ""), "source"),
    "quoted date": (GOOD_2027.replace("2027-01-01", '"2027-01-01"'), "不带引号"),
    "end before start": (GOOD_2027.replace("end = 2027-02-12", "end = 2027-02-01"), "早于"),
    "duplicate holiday": (GOOD_2027.replace("{ date = 2027-01-01", "{ date = 2027-02-07"), "重复"),
    "missing holiday name": (GOOD_2027.replace(', name = "元旦"', ""), "名称"),
    "no holidays": (GOOD_2027.split("holidays")[0] + "workdays = [2027-02-13]\n", "holidays"),
    "unknown key": (GOOD_2027 + "holiday = []\n", "未知的键"),
    "invalid toml": (GOOD_2027 + "year = \n", "TOML"),
    "bad year": (GOOD_2027.replace("year = 2027", 'year = "2027"'), "year"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_validation_errors(home: Path, case: str):
    text, fragment = BAD_FILES[case]
    path = write_year(home, text)
    with pytest.raises(CalendarDataError) as info:
        Calendar.load()
    message = str(info.value)
    assert message.startswith("日历数据文件")  # Chinese first
    assert str(path) in message
    assert fragment in message


def test_duplicate_year_files(home: Path):
    write_year(home, GOOD_2027)
    write_year(home, GOOD_2027, "2027-copy.toml")
    with pytest.raises(CalendarDataError, match="每年只能有一个文件"):
        Calendar.load()


def test_data_error_pickles():
    err = pickle.loads(pickle.dumps(CalendarDataError("/x/2027.toml", "问题")))
    assert "/x/2027.toml" in str(err) and err.problem == "问题"


# -- speed ----------------------------------------------------------------------------


def test_ten_thousand_due_dates_fast():
    starts = [date.fromordinal(date(2024, 1, 1).toordinal() + i % 900) for i in range(10_000)]
    add_workdays(starts[0], 1)  # load once
    t0 = time.perf_counter()
    for i, s in enumerate(starts):
        add_workdays(s, 5 + i % 11)
        workdays_between(s, date(2026, 6, 30))
    assert time.perf_counter() - t0 < 0.5
