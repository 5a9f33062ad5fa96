"""Tests for memcli.timeparse: WHEN arguments, stored timestamps, ages and local display."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from memcli.errors import BadDate, UsageError
from memcli.timeparse import (
    TimeSpan,
    format_local,
    humanize_age,
    parse_iso_utc,
    parse_when,
    to_utc_iso,
    utc_now,
)

BERLIN = ZoneInfo("Europe/Berlin")
# Friday 2025-03-14 10:00 in Berlin (CET, +01:00) = 09:00 UTC.
NOW = datetime(2025, 3, 14, 10, 0, tzinfo=BERLIN)
NOW_UTC = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def z(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    """A UTC datetime, for expected values."""
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def when(text: str, now: datetime = NOW) -> TimeSpan:
    return parse_when(text, now, BERLIN)


@pytest.fixture
def system_zone_berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make Europe/Berlin the process's system zone for the duration of a test."""
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is not available on this platform")
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


# --- calendar forms: spans of local time -------------------------------------------------


def test_iso_date_is_the_local_day() -> None:
    assert when("2025-03-14") == TimeSpan(z(2025, 3, 13, 23), z(2025, 3, 14, 23))


def test_iso_date_in_summer_uses_the_summer_offset() -> None:
    # Read in winter (NOW is CET) but July is CEST, +02:00.
    assert when("2025-07-01") == TimeSpan(z(2025, 6, 30, 22), z(2025, 7, 1, 22))


def test_iso_month_is_the_local_month_and_ends_after_the_dst_switch() -> None:
    # March 2025 starts in CET and ends in CEST.
    assert when("2025-03") == TimeSpan(z(2025, 2, 28, 23), z(2025, 3, 31, 22))


def test_iso_month_december_ends_at_next_new_year() -> None:
    assert when("2024-12") == TimeSpan(z(2024, 11, 30, 23), z(2024, 12, 31, 23))


def test_year_is_the_local_year() -> None:
    assert when("2025") == TimeSpan(z(2024, 12, 31, 23), z(2025, 12, 31, 23))


def test_until_includes_the_whole_day() -> None:
    span = when("2025-03-14")
    # The exclusive end is the next local midnight, expressed in UTC.
    assert span.end.tzinfo is UTC
    assert span.end.astimezone(BERLIN) == datetime(2025, 3, 15, 0, 0, tzinfo=BERLIN)
    late_that_day = datetime(2025, 3, 14, 23, 59, 59, tzinfo=BERLIN)
    assert span.start <= late_that_day < span.end
    assert not datetime(2025, 3, 15, 0, 0, tzinfo=BERLIN) < span.end


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("today", z(2025, 3, 13, 23), z(2025, 3, 14, 23)),
        ("yesterday", z(2025, 3, 12, 23), z(2025, 3, 13, 23)),
        ("tomorrow", z(2025, 3, 14, 23), z(2025, 3, 15, 23)),
        ("  TODAY  ", z(2025, 3, 13, 23), z(2025, 3, 14, 23)),
    ],
)
def test_named_days(text: str, start: datetime, end: datetime) -> None:
    assert when(text) == TimeSpan(start, end)


def test_today_follows_the_local_zone_not_the_zone_of_now() -> None:
    # 23:30 UTC on Friday is already 00:30 on Saturday in Berlin.
    now = datetime(2025, 3, 14, 23, 30, tzinfo=UTC)
    assert when("today", now) == TimeSpan(z(2025, 3, 14, 23), z(2025, 3, 15, 23))
    assert when("friday", now) == TimeSpan(z(2025, 3, 13, 23), z(2025, 3, 14, 23))


def test_now_is_the_instant_in_utc() -> None:
    span = when("now")
    assert span == TimeSpan(NOW_UTC, NOW_UTC)
    assert span.start.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        # Friday 2025-03-14: this ISO week runs Mon 10th .. Mon 17th (local midnight).
        ("this week", z(2025, 3, 9, 23), z(2025, 3, 16, 23)),
        ("last week", z(2025, 3, 2, 23), z(2025, 3, 9, 23)),
        ("this month", z(2025, 2, 28, 23), z(2025, 3, 31, 22)),
        ("last month", z(2025, 1, 31, 23), z(2025, 2, 28, 23)),
        ("this year", z(2024, 12, 31, 23), z(2025, 12, 31, 23)),
        ("last year", z(2023, 12, 31, 23), z(2024, 12, 31, 23)),
        ("Last  Week", z(2025, 3, 2, 23), z(2025, 3, 9, 23)),
    ],
)
def test_this_and_last_periods(text: str, start: datetime, end: datetime) -> None:
    assert when(text) == TimeSpan(start, end)


def test_last_month_in_january_is_december_of_the_previous_year() -> None:
    now = datetime(2025, 1, 10, 12, tzinfo=BERLIN)
    assert when("last month", now) == TimeSpan(z(2024, 11, 30, 23), z(2024, 12, 31, 23))


def test_this_week_across_the_dst_switch_is_167_hours() -> None:
    now = datetime(2025, 3, 28, 12, tzinfo=BERLIN)  # Friday; DST starts Sunday 30th
    span = when("this week", now)
    assert span == TimeSpan(z(2025, 3, 23, 23), z(2025, 3, 30, 22))
    assert span.end - span.start == timedelta(hours=167)


@pytest.mark.parametrize(
    ("day", "hours"),
    [("2025-03-30", 23), ("2025-10-26", 25), ("2025-03-29", 24)],
)
def test_day_spans_across_dst_boundaries(day: str, hours: int) -> None:
    span = when(day)
    assert span.end - span.start == timedelta(hours=hours)
    assert span.start.astimezone(BERLIN).hour == 0
    assert span.end.astimezone(BERLIN).hour == 0


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("monday", 10),
        ("thursday", 13),
        ("saturday", 8),
        ("sunday", 9),
        ("friday", 7),  # today is Friday: strictly before today means a week ago
        ("last monday", 10),
        ("Last Friday", 7),
    ],
)
def test_weekdays_are_the_most_recent_such_day_before_today(text: str, day: int) -> None:
    # Local midnight in March before the DST switch is 23:00 UTC the day before.
    assert when(text) == TimeSpan(z(2025, 3, day - 1, 23), z(2025, 3, day, 23))


# --- times: instants ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-14T09:12", z(2025, 3, 14, 8, 12)),
        ("2025-03-14 09:12:30", z(2025, 3, 14, 8, 12, 30)),
        ("2025-03-14T09:12Z", z(2025, 3, 14, 9, 12)),
        ("2025-03-14t09:12:00z", z(2025, 3, 14, 9, 12)),
        ("2025-03-14T09:12+02:00", z(2025, 3, 14, 7, 12)),
        ("2025-03-14T09:12:00-0530", z(2025, 3, 14, 14, 42)),
        ("2025-03-14T09:12:30.25", z(2025, 3, 14, 8, 12, 30, 250000)),
        ("2025-03-14T09:12:30.123456789Z", z(2025, 3, 14, 9, 12, 30, 123456)),
        ("2025-07-01T12:00", z(2025, 7, 1, 10, 0)),  # naive summer time is CEST
    ],
)
def test_iso_datetimes_are_instants(text: str, expected: datetime) -> None:
    span = when(text)
    assert span == TimeSpan(expected, expected)
    assert span.start.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "back"),
    [
        ("30s", timedelta(seconds=30)),
        ("10min", timedelta(minutes=10)),
        ("5m", timedelta(minutes=5)),
        ("3h", timedelta(hours=3)),
        ("3d", timedelta(days=3)),
        ("2w", timedelta(weeks=2)),
        ("0d", timedelta(0)),
        ("3 days", timedelta(days=3)),
        ("3 days ago", timedelta(days=3)),
        ("3d ago", timedelta(days=3)),
        ("2 weeks ago", timedelta(weeks=2)),
        ("an hour ago", timedelta(hours=1)),
        ("a week ago", timedelta(weeks=1)),
        ("45 seconds", timedelta(seconds=45)),
        ("1 minute ago", timedelta(minutes=1)),
        ("3 DAYS  AGO", timedelta(days=3)),
    ],
)
def test_relative_durations_are_instants_that_long_ago(text: str, back: timedelta) -> None:
    assert when(text) == TimeSpan(NOW_UTC - back, NOW_UTC - back)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6mo", z(2024, 9, 14, 8)),  # 10:00 CEST on 2024-09-14
        ("1 month ago", z(2025, 2, 14, 9)),
        ("1y", z(2024, 3, 14, 9)),
        ("2 years ago", z(2023, 3, 14, 9)),
        ("a month ago", z(2025, 2, 14, 9)),
    ],
)
def test_months_and_years_are_calendar_steps(text: str, expected: datetime) -> None:
    assert when(text) == TimeSpan(expected, expected)


def test_months_back_clamp_to_the_end_of_a_shorter_month() -> None:
    now = datetime(2025, 8, 31, 12, 0, tzinfo=BERLIN)
    expected = datetime(2025, 2, 28, 12, 0, tzinfo=BERLIN).astimezone(UTC)
    assert when("6mo", now).start == expected


def test_month_back_clamps_to_a_30_day_month() -> None:
    now = datetime(2025, 5, 31, 12, 0, tzinfo=BERLIN)
    assert when("1mo", now).start == datetime(2025, 4, 30, 12, 0, tzinfo=BERLIN).astimezone(UTC)


def test_year_back_from_leap_day_clamps_to_february_28() -> None:
    now = datetime(2024, 2, 29, 8, 0, tzinfo=BERLIN)
    assert when("1y", now).start == datetime(2023, 2, 28, 8, 0, tzinfo=BERLIN).astimezone(UTC)


def test_month_back_across_dst_keeps_the_local_wall_time() -> None:
    now = datetime(2025, 4, 15, 12, 0, tzinfo=BERLIN)  # CEST, 10:00 UTC
    assert when("1mo", now).start == z(2025, 3, 15, 11, 0)  # 12:00 CET


def test_days_back_across_dst_are_exact_elapsed_time() -> None:
    now = datetime(2025, 3, 31, 12, 0, tzinfo=BERLIN)  # CEST, 10:00 UTC
    assert when("2d", now).start == z(2025, 3, 29, 10, 0)  # 11:00 CET


def test_now_in_another_zone_gives_the_same_instant() -> None:
    tokyo_now = NOW.astimezone(ZoneInfo("Asia/Tokyo"))
    assert when("3h", tokyo_now) == when("3h", NOW)
    assert when("last week", tokyo_now) == when("last week", NOW)


def test_default_zone_is_the_system_zone_with_dst(system_zone_berlin: None) -> None:
    now = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)  # winter, CET
    assert parse_when("2025-07-01", now) == TimeSpan(z(2025, 6, 30, 22), z(2025, 7, 1, 22))
    assert parse_when("2025-07-01T12:00", now).start == z(2025, 7, 1, 10)
    # A month back from summer lands in winter: same wall time, winter offset.
    assert parse_when("1mo", z(2025, 4, 15, 10)).start == z(2025, 3, 15, 11)


def test_years_back_stop_at_year_1() -> None:
    assert when("2024y").start.year == 1
    with pytest.raises(BadDate, match="reaches back before year 1"):
        when("2025y")


@pytest.mark.parametrize("text", ["9999", "9999-12", "9999-12-31"])
def test_spans_ending_after_year_9999_end_at_the_largest_datetime(text: str) -> None:
    span = when(text)
    assert span.end == datetime.max.replace(tzinfo=UTC)
    assert span.start < span.end


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("3d", datetime(2025, 3, 14, 10, 0), BERLIN)


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty date or time"),
        ("   ", "empty date or time"),
        ("tomorow", "cannot read 'tomorow' as a date or time"),
        ("next week", "cannot read 'next week' as a date or time"),
        ("3 days from now", "cannot read '3 days from now'"),
        ("-3d", "'-3d' is negative"),
        ("-5", "'-5' is a negative number"),
        ("30", "'30' has no unit"),
        ("3x", "unknown time unit 'x' in '3x'"),
        ("99999y", "'99999y' reaches back before year 1"),
        ("99999999d", "'99999999d' reaches back before year 1"),
        ("1000000000000d", "too far back"),
        ("10000", "year 10000 is out of range"),
        ("0000", "year 0 is out of range"),
        ("2025-02-30", "'2025-02-30' is not a valid date (day is out of range for month)"),
        ("2025-13", "'2025-13' is not a valid date (month must be in 1..12)"),
        ("2025-03-14T25:00", "is not a valid date and time (hour must be in 0..23)"),
        ("2025-03-14T10:00+24:00", "UTC offset +24:00 is out of range"),
        ("9" * 5000, "outside the supported range"),
    ],
)
def test_bad_dates_raise_with_a_clear_one_line_message(text: str, fragment: str) -> None:
    with pytest.raises(BadDate) as info:
        when(text)
    err = info.value
    assert fragment in err.message
    assert "\n" not in err.message
    assert len(err.message) < 200
    assert err.hint is not None
    assert "2025-03-14" in err.hint or "3d" in err.hint
    assert isinstance(err, UsageError)
    assert err.exit_code == 2


def test_bad_date_hint_lists_the_accepted_forms() -> None:
    with pytest.raises(BadDate) as info:
        when("tomorow")
    hint = info.value.hint or ""
    for form in ("2025-03-14", "3d", "6mo", "yesterday", "last week", "2025-03"):
        assert form in hint


def test_long_input_is_shortened_in_the_message() -> None:
    with pytest.raises(BadDate) as info:
        when("x" * 500)
    assert len(info.value.message) < 100


# --- stored timestamps -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dt", "text"),
    [
        (z(2025, 3, 14, 9, 12), "2025-03-14T09:12:00Z"),
        (datetime(2025, 3, 14, 10, 12, 5, tzinfo=BERLIN), "2025-03-14T09:12:05Z"),
        (datetime(2025, 7, 1, 0, 30, tzinfo=BERLIN), "2025-06-30T22:30:00Z"),
        (z(2025, 3, 14, 9, 12, 5, 999999), "2025-03-14T09:12:05Z"),  # truncated
        (z(999, 1, 2, 3, 4, 5), "0999-01-02T03:04:05Z"),
    ],
)
def test_to_utc_iso(dt: datetime, text: str) -> None:
    assert to_utc_iso(dt) == text


def test_to_utc_iso_rejects_naive() -> None:
    with pytest.raises(ValueError, match="aware"):
        to_utc_iso(datetime(2025, 3, 14, 9, 12))


@pytest.mark.parametrize(
    "dt",
    [z(2025, 3, 14, 9, 12, 0), z(1999, 12, 31, 23, 59, 59), datetime(2025, 7, 1, tzinfo=BERLIN)],
)
def test_round_trip_datetime_to_text_and_back(dt: datetime) -> None:
    back = parse_iso_utc(to_utc_iso(dt))
    assert back == dt
    assert back.tzinfo is UTC


@pytest.mark.parametrize("text", ["2025-03-14T09:12:00Z", "0001-01-01T00:00:00Z"])
def test_round_trip_text_to_datetime_and_back(text: str) -> None:
    assert to_utc_iso(parse_iso_utc(text)) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-14T09:12:00", z(2025, 3, 14, 9, 12)),  # naive is UTC, not local
        ("2025-03-14 09:12:00", z(2025, 3, 14, 9, 12)),
        ("2025-03-14T09:12:00+02:00", z(2025, 3, 14, 7, 12)),
        ("2025-03-14T09:12:00.123456+00:00", z(2025, 3, 14, 9, 12, 0, 123456)),
        ("  2025-03-14t09:12:00z ", z(2025, 3, 14, 9, 12)),
    ],
)
def test_parse_iso_utc_accepts_offsets_and_naive(text: str, expected: datetime) -> None:
    got = parse_iso_utc(text)
    assert got == expected
    assert got.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "cannot read '' as a UTC timestamp"),
        ("yesterday", "cannot read 'yesterday' as a UTC timestamp"),
        ("2025-03-14", "cannot read '2025-03-14' as a UTC timestamp"),
        ("2025-02-30T00:00:00Z", "is not a valid timestamp (day is out of range for month)"),
        ("2025-03-14T09:12:00+25:00", "UTC offset +25:00 is out of range"),
    ],
)
def test_parse_iso_utc_errors(text: str, fragment: str) -> None:
    with pytest.raises(BadDate) as info:
        parse_iso_utc(text)
    assert fragment in info.value.message
    assert "\n" not in info.value.message


# --- ages and display --------------------------------------------------------------------

THEN = z(2025, 1, 15, 12, 0)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(0), "just now"),
        (timedelta(seconds=59), "just now"),
        (timedelta(seconds=60), "1m"),
        (timedelta(minutes=59, seconds=59), "59m"),
        (timedelta(hours=1), "1h"),
        (timedelta(hours=23, minutes=59), "23h"),
        (timedelta(hours=24), "1d"),
        (timedelta(days=6, hours=23), "6d"),
        (timedelta(days=7), "1w"),
        (timedelta(days=13), "1w"),
        (timedelta(days=14), "2w"),
        (timedelta(days=31, minutes=-1), "4w"),  # 2025-02-15 11:59, not yet a month
        (timedelta(days=31), "1mo"),  # 2025-02-15 12:00
        (timedelta(days=365, minutes=-1), "11mo"),
        (timedelta(days=365), "1y"),
        (timedelta(days=800), "2y"),
        (timedelta(seconds=-30), "just now"),  # small clock skew
        (timedelta(hours=-2), "in 2h"),
    ],
)
def test_humanize_age_boundaries(delta: timedelta, expected: str) -> None:
    assert humanize_age(THEN, THEN + delta) == expected


def test_humanize_age_compares_instants_across_zones() -> None:
    then = datetime(2025, 3, 14, 10, 0, tzinfo=BERLIN)  # 09:00 UTC
    assert humanize_age(then, z(2025, 3, 14, 12, 0)) == "3h"


def test_humanize_age_rejects_naive() -> None:
    with pytest.raises(ValueError, match="aware"):
        humanize_age(datetime(2025, 1, 1), THEN)


@pytest.mark.parametrize(
    ("dt", "expected"),
    [
        (z(2025, 3, 14, 9, 12, 59), "2025-03-14 10:12"),
        (z(2025, 7, 1, 22, 30), "2025-07-02 00:30"),
        (datetime(2025, 3, 14, 9, 12, tzinfo=timezone(timedelta(hours=-5))), "2025-03-14 15:12"),
    ],
)
def test_format_local(dt: datetime, expected: str) -> None:
    assert format_local(dt, BERLIN) == expected


def test_format_local_defaults_to_the_system_zone(system_zone_berlin: None) -> None:
    assert format_local(z(2025, 7, 1, 22, 30)) == "2025-07-02 00:30"
    assert format_local(z(2025, 1, 1, 22, 30)) == "2025-01-01 23:30"


def test_utc_now_is_aware_utc_and_current() -> None:
    got = utc_now()
    assert got.tzinfo is UTC
    assert abs(got.timestamp() - time.time()) < 5
