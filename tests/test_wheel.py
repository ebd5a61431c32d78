"""The wheel ships every file the application reads at run time: templates, questionnaire, catalogue, migrations.

Builds the wheel from a copy of the source tree (so no build/ or egg-info lands in the checkout) and lists
its files; scripts/check-wheel installs that wheel in a clean venv and runs it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What a build never needs: caches, local state and the tests.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "var", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", "tests", "meldpunt.env"
)
# Files read from disk at run time, relative to the repository (and to site-packages once installed).
DATA_GLOBS = ("templates/**/*.j2", "templates/**/*.css", "templates/**/*.js", "templates/questionnaire.yaml", "store/catalogue.yaml", "store/migrations/**/*")


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The names inside a freshly built wheel of this checkout."""
    source = tmp_path_factory.mktemp("source") / "meldpunt"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)],
        capture_output=True, text=True, check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = out.glob("meldpunt-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def _data_files() -> set[str]:
    """Every run-time data file of the checkout, as a path inside the wheel."""
    found = {path for pattern in DATA_GLOBS for path in ROOT.glob(pattern) if path.is_file()}
    return {path.relative_to(ROOT).as_posix() for path in found if "__pycache__" not in path.parts}


def test_the_wheel_holds_every_template_and_data_file(wheel_files: set[str]) -> None:
    """Installed with `pip install .`, the program finds each template and data file it reads."""
    expected = _data_files()
    assert {"templates/questionnaire.yaml", "store/catalogue.yaml", "store/migrations/script.py.mako"} <= expected
    assert any(name.startswith("templates/mail/") for name in expected)
    assert sorted(expected - wheel_files) == []


def test_the_templates_are_a_package_the_program_finds_by_import(wheel_files: set[str]) -> None:
    """templates/ is found through importlib.resources, so it works from a wheel as from the checkout."""
    assert "templates/__init__.py" in wheel_files


def test_the_wheel_holds_every_module_of_every_room(wheel_files: set[str]) -> None:
    """A new sub-package (bot/handlers/, say) is in the wheel too: else an installed `meldpunt serve` fails to import."""
    rooms = ("intake", "desk", "store", "bot", "mail", "meldpunt")
    modules = {path.relative_to(ROOT).as_posix() for room in rooms for path in (ROOT / room).rglob("*.py") if "__pycache__" not in path.parts}
    assert "bot/handlers/referral.py" in modules
    assert sorted(modules - wheel_files) == []
