"""Renders the Dutch texts in templates/ (Jinja2, StrictUndefined): the only place words come from."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from intake.questionnaire import TEMPLATES_DIR


@cache
def environment() -> Environment:
    """One shared environment; HTML templates are autoescaped, text templates are not."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render(name: str, **context: Any) -> str:
    """Render a template by its path under templates/, without trailing white space."""
    return environment().get_template(name).render(**context).rstrip()


def message(name: str, **context: Any) -> str:
    """A short message: the macro `name` of templates/messages.txt.j2."""
    macro = getattr(environment().get_template("messages.txt.j2").make_module(), name)
    return str(macro(**context)).strip()


def compose_mail(name: str, **context: Any) -> tuple[str, str]:
    """(subject, body) of a mail template; the template sets its subject with `{% set subject = … %}`."""
    module = environment().get_template(name).make_module(context)
    # A top-level {% set %} is exported as a module attribute, which mypy cannot know.
    subject = str(module.subject)  # type: ignore[attr-defined]
    return " ".join(subject.split()), str(module).strip()
