"""The clock every use case, runner and channel is given: the core never reads the time itself."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """Now, as an aware UTC datetime (tests pass a fixed or stepping one)."""

    def __call__(self) -> datetime: ...
