"""Reading WHEN arguments (--since, --until, --at) and formatting times for display.

Returned datetimes are aware UTC. Calendar forms and naive times are read in the local
zone `tz`; None means the system zone, with the offset in force at the date concerned.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo

from memcli.errors import BadDate

HINT = (
    "use an ISO date (2025-03-14) or time (2025-03-14T09:12), a relative form "
    "(3d, 2w, 6mo, yesterday, last week), a weekday (monday) or a month (2025-03)"
)
_ISO_HINT = "expected an ISO time such as 2025-03-14T09:12:00Z"
_UNIT_HINT = "use s, min (or m), h, d, w, mo or y, e.g. 30min, 3d or 2 weeks ago"

_ISO_TIME = re.compile(
    r"(\d{4,})-(\d{2})-(\d{2})[t ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r" ?(z|[+-]\d{2}(?::?\d{2})?)?",
    re.IGNORECASE,
)
_ISO_DATE = re.compile(r"(\d{4,})(?:-(\d{2})(?:-(\d{2}))?)?")
_CALENDAR = re.compile(r"(last|this) (week|month|year)")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = re.compile(r"(?:last )?(" + "|".join(_WEEKDAYS) + ")")
_RELATIVE = re.compile(r"(-?)(\d+|an?) ?([a-z]+)(?: ago)?")
_BARE_NUMBER = re.compile(r"-?\d+")
_MAX_COUNT_DIGITS = 9  # longer counts are never a meaningful look-back

# Unit spellings -> seconds per unit, or "months"/"years" for calendar arithmetic.
_UNIT_NAMES: dict[int | str, str] = {
    1: "s sec secs second seconds",
    60: "m min mins minute minutes",
    3600: "h hr hrs hour hours",
    86400: "d day days",
    7 * 86400: "w wk wks week weeks",
    "months": "mo mos month months",
    "years": "y yr yrs year years",
}
_UNITS = {name: unit for unit, names in _UNIT_NAMES.items() for name in names.split()}

_MAX = datetime.max.replace(tzinfo=UTC)
_MIN = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class TimeSpan:
    """[start, end) in UTC; an instant has end == start. --until uses `end`."""

    start: datetime
    end: datetime


# The years a memory's time may fall in. Filters (--since, --until) take any year; a time
# that is stored or that decay is computed for must be one a person means: year 9999 or 0001
# is a typo or a broken export, and taking it would fade or freeze a memory for ever.
FIRST_YEAR, LAST_YEAR = 1900, 2200


def check_in_range(dt: datetime, shown: str) -> datetime:
    """`dt` if it falls in FIRST_YEAR..LAST_YEAR (in UTC), else BadDate naming the range."""
    if not FIRST_YEAR <= dt.astimezone(UTC).year <= LAST_YEAR:
        raise BadDate(
            f"{shown} is outside the years memcli keeps ({FIRST_YEAR} to {LAST_YEAR})",
            "check the date; give a time between those years",
        )
    return dt


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def to_utc_iso(dt: datetime) -> str:
    """`dt` as '2025-03-14T09:12:00Z' (UTC, whole seconds, truncated)."""
    _require_aware(dt, "dt")
    u = dt.astimezone(UTC)
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"


def parse_iso_utc(text: str) -> datetime:
    """Read a stored timestamp: the output of `to_utc_iso`, or ISO with an offset or none.

    A naive value is taken as UTC (stored values are always UTC). Raises BadDate.
    """
    s = text.strip()
    m = _ISO_TIME.fullmatch(s)
    if m is None:
        raise BadDate(f"cannot read {_show(s)} as a UTC timestamp", _ISO_HINT)
    try:
        return _iso_instant(m, UTC)
    except (ValueError, OverflowError) as exc:
        raise BadDate(f"{_show(s)} is not a valid timestamp ({exc})", _ISO_HINT) from None


def format_local(dt: datetime, tz: tzinfo | None = None) -> str:
    """`dt` as 'YYYY-MM-DD HH:MM' in `tz` (default: the system zone)."""
    _require_aware(dt, "dt")
    t = dt.astimezone(tz)
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}"


def humanize_age(then: datetime, now: datetime) -> str:
    """Compact floored age: 'just now', '5m', '3h', '2d', '3w', '4mo', '2y' ('in 5m' ahead).

    Months and years are whole calendar months.
    """
    _require_aware(then, "then")
    _require_aware(now, "now")
    delta = now - then
    if abs(delta) < timedelta(minutes=1):
        return "just now"
    if delta < timedelta(0):
        return "in " + humanize_age(now, then)
    secs = int(delta.total_seconds())
    if secs < 3600:
        return f"{secs // 60}m"
    if secs < 86400:
        return f"{secs // 3600}h"
    if delta.days < 7:
        return f"{delta.days}d"
    a, b = then.astimezone(UTC), now.astimezone(UTC)
    months = (b.year - a.year) * 12 + b.month - a.month
    if (b.day, b.time()) < (a.day, a.time()):
        months -= 1
    if months < 1:
        return f"{delta.days // 7}w"
    if months < 12:
        return f"{months}mo"
    return f"{months // 12}y"


def parse_when(text: str, now: datetime, tz: tzinfo | None = None) -> TimeSpan:
    """Read a WHEN argument relative to `now` (aware, any zone); raises BadDate.

    Calendar forms are spans of local time; times, 'now' and durations are instants.
    s/min/h/d/w are exact elapsed time; mo/y step back calendar months at the same
    local wall time, clamped to the month's end.
    """
    _require_aware(now, "now")
    s = " ".join(text.split()).lower()
    if not s:
        raise BadDate("empty date or time", HINT)
    shown = _show(text.strip())
    try:
        span = _parse(s, shown, now, tz)
    except (OverflowError, ValueError):
        raise BadDate(f"{shown} is outside the supported range (years 1 to 9999)", HINT) from None
    if span is None:
        raise BadDate(f"cannot read {shown} as a date or time", HINT)
    return span


def _parse(s: str, shown: str, now: datetime, tz: tzinfo | None) -> TimeSpan | None:
    local_now = now.astimezone(tz)
    today = local_now.date()
    if s == "now":
        at = now.astimezone(UTC)
        return TimeSpan(at, at)
    named = {"yesterday": -1, "today": 0, "tomorrow": 1}
    if s in named:
        return _days(today + timedelta(days=named[s]), 1, tz)
    if m := _ISO_TIME.fullmatch(s):
        try:
            at = _iso_instant(m, tz)
        except ValueError as exc:
            raise BadDate(f"{shown} is not a valid date and time ({exc})", HINT) from None
        return TimeSpan(at, at)
    if m := _ISO_DATE.fullmatch(s):
        return _iso_span(m, shown, tz)
    if m := _CALENDAR.fullmatch(s):
        back = 1 if m[1] == "last" else 0
        if m[2] == "week":
            return _days(today - timedelta(days=today.weekday() + 7 * back), 7, tz)
        if m[2] == "month":
            y, m0 = divmod(today.year * 12 + today.month - 1 - back, 12)
            return _months(y, m0 + 1, 1, tz)
        return _months(today.year - back, 1, 12, tz)
    if m := _WEEKDAY.fullmatch(s):
        back = (today.weekday() - _WEEKDAYS.index(m[1])) % 7 or 7
        return _days(today - timedelta(days=back), 1, tz)
    if m := _RELATIVE.fullmatch(s):
        return _relative(m, shown, local_now, tz)
    if _BARE_NUMBER.fullmatch(s):
        if s.startswith("-"):
            raise BadDate(f"{shown} is a negative number, not a date", HINT)
        raise BadDate(f"{shown} has no unit (or is not a 4-digit year)", _UNIT_HINT)
    return None


def _relative(
    m: re.Match[str], shown: str, local_now: datetime, tz: tzinfo | None
) -> TimeSpan | None:
    sign, count, word = m[1], m[2], m[3]
    unit = _UNITS.get(word)
    if unit is None:
        if count[0].isdigit():
            raise BadDate(f"unknown time unit {word!r} in {shown}", _UNIT_HINT)
        return None  # 'a'/'an' + unknown word: just unreadable ('august')
    if sign:
        raise BadDate(f"{shown} is negative; relative forms already count back", _UNIT_HINT)
    if len(count) > _MAX_COUNT_DIGITS:
        raise BadDate(f"{shown} is too far back to be a date", HINT)
    n = int(count) if count.isdigit() else 1
    if isinstance(unit, str):
        back = n * 12 if unit == "years" else n
        y, m0 = divmod(local_now.year * 12 + local_now.month - 1 - back, 12)
        if y < 1:
            raise BadDate(f"{shown} reaches back before year 1", HINT)
        day = min(local_now.day, calendar.monthrange(y, m0 + 1)[1])
        wall = local_now.replace(tzinfo=None, year=y, month=m0 + 1, day=day)
        at = _utc(_localize(wall, tz))
    else:
        try:
            at = local_now.astimezone(UTC) - timedelta(seconds=n * unit)
        except OverflowError:
            raise BadDate(f"{shown} reaches back before year 1", HINT) from None
    return TimeSpan(at, at)


def _iso_span(m: re.Match[str], shown: str, tz: tzinfo | None) -> TimeSpan:
    year, month, day = int(m[1]), m[2], m[3]
    try:
        first = date(year, int(month or 1), int(day or 1))
    except ValueError as exc:
        raise BadDate(f"{shown} is not a valid date ({exc})", HINT) from None
    if day is not None:
        return _days(first, 1, tz)
    return _months(year, first.month, 1 if month is not None else 12, tz)


def _iso_instant(m: re.Match[str], naive_tz: tzinfo | None) -> datetime:
    """The UTC instant of an _ISO_TIME match; no offset means local time in `naive_tz`."""
    micro = int((m[7] or "")[:6].ljust(6, "0"))
    fields = (int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6] or 0))
    naive = datetime(*fields, micro)
    offset = m[8]
    if offset is None:
        return _utc(_localize(naive, naive_tz))
    if offset.lower() == "z":
        return _utc(naive.replace(tzinfo=UTC))
    hours, minutes = int(offset[1:3]), int(offset[3:].lstrip(":") or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"UTC offset {offset} is out of range")
    delta = timedelta(hours=hours, minutes=minutes)
    return _utc(naive.replace(tzinfo=timezone(-delta if offset[0] == "-" else delta)))


def _days(first: date, count: int, tz: tzinfo | None) -> TimeSpan:
    """`count` local days from midnight of `first`."""
    try:
        end = _midnight(first + timedelta(days=count), tz)
    except OverflowError:  # the span ends after 9999-12-31
        end = _MAX
    return TimeSpan(_midnight(first, tz), end)


def _months(year: int, month: int, count: int, tz: tzinfo | None) -> TimeSpan:
    """`count` local calendar months from the 1st of `year`-`month`."""
    ey, em0 = divmod(year * 12 + month - 1 + count, 12)
    end = _midnight(date(ey, em0 + 1, 1), tz) if ey <= 9999 else _MAX
    return TimeSpan(_midnight(date(year, month, 1), tz), end)


def _midnight(d: date, tz: tzinfo | None) -> datetime:
    return _utc(_localize(datetime.combine(d, time()), tz))


def _localize(naive: datetime, tz: tzinfo | None) -> datetime:
    """Attach `tz` to a local wall time; None means the system zone at that date."""
    if tz is not None:
        return naive.replace(tzinfo=tz)
    try:
        return naive.astimezone()
    except (OverflowError, ValueError, OSError):  # outside the C library's range
        return naive.replace(tzinfo=datetime.now().astimezone().tzinfo)


def _utc(dt: datetime) -> datetime:
    """`dt` in UTC, clamped to datetime's range at the very ends of years 1 and 9999."""
    try:
        return dt.astimezone(UTC)
    except OverflowError:
        return _MAX if dt.year > 1 else _MIN


def _require_aware(dt: datetime, name: str) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {dt!r}")


def _show(text: str) -> str:
    """`text` quoted for a one-line message, shortened if long."""
    return repr(text if len(text) <= 40 else text[:37] + "...")
