"""What the command modules share: the App of the command, and Dutch checks of typed values."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import click

from meldpunt.cli_errors import say

if TYPE_CHECKING:
    from meldpunt.app import App


def app_of(ctx: click.Context) -> App:
    """The App the `main` group made for this command."""
    app: App = ctx.find_root().obj
    return app


def required(value: str, label: str) -> str:
    """value without surrounding blanks; a Dutch usage error when nothing is left."""
    value = value.strip()
    if not value:
        raise click.UsageError(say("field_empty", label=label))
    return value


def address(value: str) -> str:
    """A real e-mail address (one @, a domain with a dot, no spaces or controls), lower-case; else a Dutch usage error."""
    from intake.answers import email_address

    found = email_address(value)
    if found is None:
        raise click.UsageError(say("address_invalid", value=value.strip()[:100].encode("unicode_escape").decode("ascii")))
    return found


def typed_date(value: str | None, *, option: str) -> date | None:
    """A date typed as dd/mm/jjjj (the one way people here write it), None when not given; a Dutch usage error naming the option otherwise."""
    if value is None:
        return None
    try:
        return datetime.strptime(value.strip(), "%d/%m/%Y").date()
    except ValueError:
        raise click.BadParameter(say("date_invalid", value=value), param_hint=option) from None
