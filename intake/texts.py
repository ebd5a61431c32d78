"""Renders the Dutch texts in templates/ (Jinja2, StrictUndefined): the only place words come from."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, NamedTuple

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from intake.brussels import BRUSSELS

# The data package `templates` (no code of ours): found by import, in the checkout as in an installed wheel.
TEMPLATES_DIR = Path(str(files("templates")))


@cache
def environment() -> Environment:
    """One shared environment; HTML templates are autoescaped, text templates are not."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["example_date"] = example_date
    env.filters["brussels"] = brussels_time
    return env


def brussels_time(moment: datetime | str | None) -> str:
    """A moment as people read it: dd/mm/jjjj HH:MM in Brussels, or "-" when there is none.

    Also takes the ISO form a JSON-ready row keeps (store/views.py), so a template needs no second helper.
    """
    if moment is None:
        return "-"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(BRUSSELS).strftime("%d/%m/%Y %H:%M")


def example_date(day: date) -> str:
    """A date for a "ronde tafel" example in a mail of `day`: four weeks on, so it never lies in the past."""
    return (day + timedelta(weeks=4)).strftime("%d/%m/%Y")


def render(name: str, **context: Any) -> str:
    """Render a template by its path under templates/, without trailing white space."""
    return environment().get_template(name).render(**context).rstrip()


def message(name: str, /, *, source: str = "messages.txt.j2", **context: Any) -> str:
    """A short message: the macro `name` of templates/messages.txt.j2 (or of another macro file)."""
    macro = getattr(environment().get_template(source).make_module(), name)
    return str(macro(**context)).strip()


class Composed(NamedTuple):
    """A mail's subject, plain text and its HTML alternative."""

    subject: str
    text: str
    html: str


def compose_mail(name: str, **context: Any) -> Composed:
    """A mail from its template, which sets its subject with `{% set subject = … %}`; HTML follows the text."""
    module = environment().get_template(name).make_module(context)
    # A top-level {% set %} is exported as a module attribute, which mypy cannot know.
    subject = " ".join(str(module.subject).split())  # type: ignore[attr-defined]
    text = str(module).strip()
    blocks = [block.split("\n") for block in re.split(r"\n\s*\n", text)]
    html = environment().get_template("mail/layout.html.j2").render(subject=subject, blocks=blocks)
    return Composed(subject=subject, text=text, html=html)
