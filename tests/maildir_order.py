"""The mails a Maildir holds in the order they were delivered (names do not sort that way)."""

from __future__ import annotations

import re
from pathlib import Path

# Python's mailbox names a file "<seconds>.M<microseconds>P<pid>Q<count>.<host>" with the microseconds not
# zero-padded, so M99999 sorts after M123456 within one second: sorting names is not delivery order.
_UNIQUE_NAME = re.compile(r"(\d+)\.M(\d+)P\d+Q(\d+)\.")


def delivery_order(path: Path) -> tuple[int, int, int, str]:
    """The sort key of a Maildir file: its second, microsecond and the writer's counter (then the name)."""
    found = _UNIQUE_NAME.match(path.name)
    if found is None:
        return (0, 0, 0, path.name)
    return (int(found[1]), int(found[2]), int(found[3]), path.name)


def delivered(folder: Path) -> list[Path]:
    """The files in folder (a Maildir's new/), oldest delivery first; none when the folder is not there."""
    return sorted(folder.iterdir(), key=delivery_order) if folder.exists() else []
