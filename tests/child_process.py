"""A `python -m tests.<module>` child for crash tests: started without our settings, its output read line by line."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Kept from the test run: the data the parent wrote is encrypted (and sealed) with the first two, and the website
# stays off (tests/conftest.py) unless a test turns it on.
SHARED_SETTINGS = ("MELDPUNT_ENCRYPTION_KEY", "MELDPUNT_RAPPORT_SLEUTEL", "MELDPUNT_SITE_LISTEN")


def without_our_settings() -> dict[str, str]:
    """This process's environment without the machine's MELDPUNT_* settings, but for the suite's SHARED_SETTINGS."""
    return {key: value for key, value in os.environ.items() if not key.startswith("MELDPUNT_") or key in SHARED_SETTINGS}


class ChildProcess:
    """The child's combined output, kept whole (for failure texts) and queued line by line (None at its end)."""

    def __init__(self, module: str, *args: str, stdin: bool = False) -> None:
        """Start `python -m module args…` from the checkout, without the caller's MELDPUNT_ settings."""
        env = without_our_settings()
        env.update({"PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)})
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args], cwd=ROOT, env=env, stdin=subprocess.PIPE if stdin else None,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace",
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def tail(self) -> str:
        """The last lines the child printed."""
        return "".join(self.output[-40:])
