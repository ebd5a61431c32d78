"""Benchmark: how long `meldpunt` takes to answer, next to `python -c pass` measured in the same run.

Run by hand: `.venv/bin/python bench/cli_startup.py [--runs 7]`.
Each command runs as a fresh process (`python -m meldpunt …`, as a person or a script starts it) on an
embedded installation in a temp folder: its SQLite database made first with `db upgrade` (not timed),
one staff member and one referral submitted through a piped `meldpunt chat`, so the read commands read a
real, migrated database and list, show and review a real referral. The figure
is the median wall time over --runs runs, and its ratio to the median of `python -c pass`. A second
baseline is the floor of the stack a read command needs: importing SQLAlchemy's ORM, pydantic-settings,
Jinja2 and click, and nothing of ours.
Targets of issue 12: `--help` ≤ 0.3 s, `referrals list`, `referrals show`, `review list` ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_workflow import FULL  # noqa: E402  the answers of a whole referral, as the CLI tests type them

COMMANDS: tuple[tuple[str, ...], ...] = (
    ("--help",),
    ("staff", "list"),
    ("referrals", "list"),
    ("referrals", "show", "MSI-2026-0001"),
    ("review", "list"),
    ("status",),
)

# What any read command must import: the ORM, the settings reader, the templates, the command line.
FLOOR = "import sqlalchemy.orm, pydantic_settings, jinja2, click"


def _median_seconds(args: list[str], env: dict[str, str], runs: int) -> float:
    """Median wall time of running args as a fresh process."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Prepare an installation, then time each command and the baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "MELDPUNT_VAR_DIR": str(Path(folder) / "var")}
        python = sys.executable
        subprocess.run([python, "-m", "meldpunt", "db", "upgrade"], env=env, capture_output=True, check=True)
        subprocess.run([python, "-m", "meldpunt", "staff", "add", "els@clb-halle.example", "--name", "Els Janssens",
                        "--clb", "Vrij CLB Halle"], env=env, capture_output=True, check=True)
        chat = subprocess.run([python, "-m", "meldpunt", "chat", "--as", "els@clb-halle.example"], input="\n".join(FULL) + "\n",
                              env=env, capture_output=True, text=True, check=True)
        assert "MSI-2026-0001" in chat.stdout, "the referral the read commands show was not submitted"
        baseline = _median_seconds([python, "-c", "pass"], env, runs)
        print(f"{'python -c pass':32} {baseline:6.3f} s   1.0 x")
        floor = _median_seconds([python, "-c", FLOOR], env, runs)
        print(f"{'the floor: ' + FLOOR[7:]:32} {floor:6.3f} s {floor / baseline:5.1f} x")
        for command in COMMANDS:
            seconds = _median_seconds([python, "-m", "meldpunt", *command], env, runs)
            print(f"{'meldpunt ' + ' '.join(command):32} {seconds:6.3f} s {seconds / baseline:5.1f} x   {seconds / floor:4.2f} x the floor")


if __name__ == "__main__":
    main()
