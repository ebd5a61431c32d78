"""Click's own words (usage, errors, "Aborted!") in Dutch: the command line speaks one language."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click  # noqa: F401 — loads the click modules install() rebinds

# Click's English message ids (its gettext catalogue keys) and what a Dutch reader sees instead.
DUTCH: dict[str, str] = {
    "Usage:": "Gebruik:",
    "Options": "Opties",
    "Commands": "Opdrachten",
    "Positional arguments": "Argumenten",
    "Show this message and exit.": "Toon deze hulp en stop.",
    "Show the version and exit.": "Toon de versie en stop.",
    "Error: {message}": "Fout: {message}",
    "Aborted!": "Afgebroken.",
    "Try '{command} {option}' for help.": "Typ '{command} {option}' voor hulp.",
    "required": "verplicht",
    "default: {default}": "standaard: {default}",
    "env var: {var}": "omgevingsvariabele: {var}",
    "deprecated": "verouderd",
    "Missing command.": "Er ontbreekt een opdracht.",
    "Missing argument": "Ontbrekend argument",
    "Missing option": "Ontbrekende optie",
    "Missing parameter": "Ontbrekende waarde",
    "Missing {param_type}": "Ontbrekende waarde",
    "Missing parameter: {param_name}": "Ontbrekende waarde: {param_name}",
    "No such command {name!r}.": "Onbekende opdracht {name!r}.",
    "No such option {name!r}.": "Onbekende optie {name!r}.",
    "Option {name!r} does not take a value.": "Optie {name!r} neemt geen waarde.",
    "Option {name!r} requires an argument.": "Optie {name!r} heeft een waarde nodig.",
    "Option {name!r} requires {nargs} arguments.": "Optie {name!r} heeft {nargs} waarden nodig.",
    "Got unexpected extra argument ({args})": "Onverwacht extra argument ({args})",
    "Got unexpected extra arguments ({args})": "Onverwachte extra argumenten ({args})",
    "Did you mean {possibility}?": "Bedoel je {possibility}?",
    "(Did you mean one of: {possibilities}?)": "(Bedoel je een van: {possibilities}?)",
    "Invalid value for {param_hint}: {message}": "Ongeldige waarde voor {param_hint}: {message}",
    "Invalid value: {message}": "Ongeldige waarde: {message}",
    "{value!r} is not a valid {number_type}.": "{value!r} is geen geldig getal.",
    "{value!r} is not {choice}.": "{value!r} is niet {choice}.",
    "{value!r} is not one of {choices}.": "{value!r} is niet een van {choices}.",
    "{value} is not in the range {range}.": "{value} ligt niet binnen {range}.",
    "{name} {filename!r} does not exist.": "{filename!r} bestaat niet.",
    "{name} {filename!r} is a directory.": "{filename!r} is een map.",
    "{name} {filename!r} is a file.": "{filename!r} is een bestand.",
    "{name} {filename!r} is not readable.": "{filename!r} is niet leesbaar.",
    "{name} {filename!r} is not writable.": "{filename!r} is niet schrijfbaar.",
    "Could not open file {filename!r}: {message}": "Kan {filename!r} niet openen: {message}",
    "Do you want to continue?": "Wil je verdergaan?",
    "Error: invalid input": "Fout: ongeldige invoer",
    "Repeat for confirmation": "Herhaal ter bevestiging",
    "Error: The two entered values do not match.": "Fout: de twee waarden verschillen.",
    "Press any key to continue...": "Druk op een toets om verder te gaan...",
}

# Every click module that took `gettext`/`ngettext` by name at import (`from gettext import gettext as _`).
_CLICK_MODULES = ("core", "exceptions", "formatting", "parser", "types", "termui", "decorators", "utils", "shell_completion")


def dutch(text: str) -> str:
    """Click's text in Dutch; a text without a translation stays as it is."""
    return DUTCH.get(text, text)


def dutch_plural(singular: str, plural: str, count: int) -> str:
    """Click's singular or plural text, in Dutch."""
    return dutch(singular if count == 1 else plural)


def install() -> None:
    """Make click speak Dutch in this process.

    Click translates through gettext, but a .mo catalogue would need a Dutch locale in the
    environment of whoever runs `meldpunt`; binding its lookup functions works for everyone.
    """
    for name in _CLICK_MODULES:
        module = sys.modules.get(f"click.{name}")
        if module is None:
            continue
        _rebind(module, "_", dutch)
        _rebind(module, "ngettext", dutch_plural)


def _rebind(module: object, name: str, function: Callable[..., str]) -> None:
    """Replace module.name when click defines it there (not every module uses both functions)."""
    if hasattr(module, name):
        setattr(module, name, function)

