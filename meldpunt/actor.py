"""Who is at the keyboard of a CLI command, for the history and the audit trail."""

from __future__ import annotations

import os
import pwd


def cli_actor() -> str:
    """The operating-system account running the command: LOGNAME or USER can be set by anyone, the uid cannot."""
    try:
        name = pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a uid without an entry in the password database (some containers)
        name = f"uid {os.geteuid()}"
    return f"cli:{name}"
