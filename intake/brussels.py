"""The Meldpunt's time zone: every time a person reads is Brussels time (a light module: listings import it)."""

from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")
