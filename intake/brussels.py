"""The Meldpunt's time zone: every time a person reads is Brussels time (a light module: listings import it)."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")


def brussels_midnight(day: date) -> datetime:
    """The start of a Brussels day, in UTC (the store keeps UTC): a day's first moment for periods and dates without a time."""
    return datetime.combine(day, time(), tzinfo=BRUSSELS).astimezone(UTC)
