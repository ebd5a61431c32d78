"""A provider's update of its own offer by mail: read "Label: waarde" lines and check them (the form: intake/offer_form.py). Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from intake.answers import NO_WORDS, YES_WORDS, fold
from intake.catalogue import Service
from intake.catalogue_loader import error_reasons
from intake.offer_form import EDITABLE, EDITABLE_FIELDS, MARK, RULE, SERVICE_LABEL, Editable, Kind, display_value

TEXT_MAX = 2000  # a description longer than this is a pasted brochure, not a catalogue entry
_RECEIVED_MAX = 300
_UNANSWERED = {"", "-", "--", "–", "—"}
_UNKNOWN = {"niet gekend", "onbekend", "niet bekend", "weet niet", "null", "nvt", "n.v.t."}
_NOT_KEY = re.compile(r"[^a-z0-9]")
_LABELLED = re.compile(r"^\s*(?:[*\-•·]\s+)?(?P<label>[^:]{1,40}):(?P<value>.*)$")
_SPLIT = re.compile(r"[,;/+\n]|\ben\b")  # pieces are stripped: "\s*" around it was quadratic on long blanks
_COUNT = re.compile(r"^(\d{1,4})(?:\s*(?:vrije\s*)?plaats(?:en)?)?$")
_AGE = re.compile(r"^(\d{1,2})(?:\s*jaar)?$")
_SCHEME = re.compile(r"https?://")
_WHITE = re.compile(r"\s")
# A greeting ends a value: replies put it right below the last line typed.
_CLOSING = re.compile(
    r"^(?:(?:met )?(?:vriendelijke|hartelijke|beste|warme|collegiale) groet(?:en)?\b|groet(?:en|jes)?\b|mvg\b|"
    r"(?:alvast )?(?:bedankt|dank (?:je|u)(?: wel)?)\b|(?:kind |best )?regards\b)"
)


# Labels of the catalogue a provider may name but not change here: noted in the reply, never refused.
_OTHER_LABELS = {
    "naam": "naam", "organisatie": "organisatie", "soort aanbod": "soort aanbod", "werkgebied": "werkgebied",
    "regio": "werkgebied", "financiering": "financiering", "aanmeldingsweg": "aanmeldingsweg",
    "verzendadres": "verzendadres", "leeftijd": "leeftijd",
}


def _key(text: str) -> str:
    """A label compared without case, accents, spacing or punctuation."""
    return _NOT_KEY.sub("", fold(text))


_BY_KEY: dict[str, Editable] = {_key(n): e for e in EDITABLE for n in (e.label, *e.aliases)}
_OTHER_BY_KEY = {_key(label): name for label, name in _OTHER_LABELS.items()}


class OfferProblem(BaseModel):
    """A line of the provider's mail that cannot be used: the label, what was received, why (Dutch)."""

    model_config = ConfigDict(frozen=True)

    label: str
    received: str
    reason: str


class OfferProposal(BaseModel):
    """What one section of the mail (one service) proposes: field updates (JSON values) or problems."""

    model_config = ConfigDict(frozen=True)

    service_id: str | None
    service_received: str | None = None
    updates: dict[str, Any] = {}
    problems: tuple[OfferProblem, ...] = ()
    ignored: tuple[str, ...] = ()
    fields_found: int = 0

    @property
    def needs_service(self) -> bool:
        """Lines were found, but it is not said which of several services they are for."""
        return self.service_id is None and self.service_received is None and self.fields_found > 0


class OfferMail(BaseModel):
    """Everything a provider's mail proposes, section by section (a "Dienst:" line starts one)."""

    model_config = ConfigDict(frozen=True)

    proposals: tuple[OfferProposal, ...]

    @property
    def recognised(self) -> bool:
        """Whether the mail holds any line of the form at all."""
        return bool(self.proposals)

    @property
    def problems(self) -> tuple[OfferProblem, ...]:
        """All problems, in the order of the mail."""
        return tuple(p for proposal in self.proposals for p in proposal.problems)

    @property
    def needs_service(self) -> bool:
        """Some lines belong to no service yet."""
        return any(p.needs_service for p in self.proposals)


@dataclass
class _Section:
    """The raw text found under one "Dienst:" line (or before the first)."""

    service_received: str | None = None
    found: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    # Lines continuing a value, joined once at the end: adding each to the value copied it every time.
    more: dict[str, list[str]] = field(default_factory=dict)


def services_for_address(services: Sequence[Service], address: str) -> tuple[Service, ...]:
    """The services whose dispatch address is this one (case and angle brackets forgiven)."""
    wanted = address.strip().strip("<>").lower()
    return tuple(s for s in services if s.dispatch_email and s.dispatch_email.lower() == wanted)


def match_service(candidates: Sequence[Service], received: str) -> Service | None:
    """The candidate named by its id or its name (as the form shows them, or typed)."""
    folded = fold(received)
    first = folded.split(" ", 1)[0] if folded else ""
    return next((s for s in candidates if folded in (s.id, fold(s.name)) or first == s.id), None)


def _split_sections(text: str) -> list[_Section]:
    """Group the labelled lines of the mail by "Dienst:" line; values may continue on the next lines."""
    sections, current = [_Section()], None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith((MARK, RULE)) or _CLOSING.match(fold(line)):
            current = None
            continue
        labelled = _LABELLED.match(line)
        key = _key(labelled["label"]) if labelled else ""
        if labelled and key == _key(SERVICE_LABEL):
            sections.append(_Section(service_received=labelled["value"].strip()))
            current = None
        elif labelled and key in _BY_KEY:
            editable = _BY_KEY[key]
            if sections[-1].found.get(editable.key) or sections[-1].more.get(editable.key):
                current = None  # the first answer wins: a reply has the newest text on top
                continue
            sections[-1].found[editable.key] = labelled["value"].strip()
            current = editable if editable.kind in (Kind.TEXT, Kind.CHOICES) else None
        elif labelled and key in _OTHER_BY_KEY:
            sections[-1].ignored.append(_OTHER_BY_KEY[key])
            current = None
        elif current is not None:
            sections[-1].more.setdefault(current.key, []).append(line)
    for section in sections:
        for key, lines in section.more.items():
            section.found[key] = " ".join([section.found[key], *lines]).strip()
    return [s for s in sections if s.found or s.service_received is not None]


def _choices(editable: Editable, value: str) -> list[str] | str:
    """The stored values of a list of choices, or a Dutch reason."""
    assert editable.choices is not None
    folded = fold(value)
    # Full labels first: some hold a comma or a slash ("Schoolmoeheid, weinig motivatie").
    for choice in sorted(editable.choices, key=lambda c: -len(c.label)):
        folded = re.sub(rf"(?<!\w){re.escape(fold(choice.label))}(?!\w)", choice.value, folded)
    picked: list[str] = []
    for part in (p.strip().strip(" .") for p in _SPLIT.split(folded)):
        if not part:
            continue
        starts = [c for c in editable.choices if fold(c.label).startswith(part)]
        exact = [c for c in editable.choices if part == c.value]
        match = exact or (starts if len(starts) == 1 else [])
        if not match:
            return f"'{part[:40]}' is geen keuze. Kies uit: " + "; ".join(c.label for c in editable.choices) + "."
        if match[0].value not in picked:
            picked.append(match[0].value)
    return picked or "Geef minstens één keuze, of schrijf 'niet gekend'."


def _read(editable: Editable, value: str) -> tuple[Any, str | None]:
    """The JSON value of one answer, or None and the Dutch reason it cannot be used."""
    folded = fold(value).rstrip(".!")
    if folded in _UNKNOWN:
        return (None, None) if editable.nullable else (None, "Antwoord met ja of nee.")
    if editable.kind is Kind.TEXT:
        return (value, None) if len(value) <= TEXT_MAX else (None, f"Deze tekst is te lang: hou hem onder {TEXT_MAX} tekens.")
    if editable.kind is Kind.YES_NO:
        return (folded in YES_WORDS, None) if folded in YES_WORDS | NO_WORDS else (None, "Antwoord met ja of nee.")
    if editable.kind is Kind.COUNT:
        if folded in {"volzet", "geen", "vol"}:
            return 0, None
        found = _COUNT.match(folded)
        return (int(found[1]), None) if found else (None, "Geef een geheel getal van 0 of meer (0 = volzet).")
    if editable.kind is Kind.AGE:
        found = _AGE.match(folded)
        return (int(found[1]), None) if found else (None, "Geef een leeftijd in hele jaren, bijvoorbeeld 12.")
    if editable.kind is Kind.URL:
        # "www.x.be" is what people type; the catalogue needs an address a browser opens as is.
        url = f"https://{value}" if value.lower().startswith("www.") else value
        return (url, None) if _is_web_address(url) else (None, "Een webadres begint met http:// of https://.")
    picked = _choices(editable, value)
    return (picked, None) if isinstance(picked, list) else (None, picked)


def _is_web_address(url: str) -> bool:
    """Like re.fullmatch(r"https?://\\S+\\.\\S+", url), without its backtracking over every dot (quadratic)."""
    scheme = _SCHEME.match(url)
    if scheme is None or _WHITE.search(url):
        return False
    rest = url[scheme.end():]
    return "." in rest[1:-1]


def _received(value: str) -> str:
    """What was received, clipped for quoting back."""
    return value if len(value) <= _RECEIVED_MAX else value[:_RECEIVED_MAX] + "…"


def _values(section: _Section) -> tuple[dict[str, Any], list[OfferProblem]]:
    """The parsed value per editable key (left-empty lines skipped) and the problems."""
    values: dict[str, Any] = {}
    problems: list[OfferProblem] = []
    for editable in EDITABLE:
        raw = (section.found.get(editable.key) or "").strip()
        if raw in _UNANSWERED:
            continue  # an empty line keeps what we have
        value, reason = _read(editable, raw)
        if reason is None:
            values[editable.key] = value
        else:
            problems.append(OfferProblem(label=editable.label, received=_received(raw), reason=reason))
    return values, problems


def _updates(service: Service, values: dict[str, Any]) -> dict[str, Any]:
    """The Service fields (JSON values) that differ from what the catalogue holds now."""
    current = service.model_dump(mode="json")
    proposed: dict[str, Any] = {}
    for editable in EDITABLE:
        if editable.key in values and editable.field != "age_range":
            proposed[editable.field] = values[editable.key]
    if "minimum" in values or "maximum" in values:
        bounds = dict(current["age_range"] or {"minimum": None, "maximum": None})
        bounds.update({k: values[k] for k in ("minimum", "maximum") if k in values})
        proposed["age_range"] = None if bounds == {"minimum": None, "maximum": None} else bounds
    return {name: value for name, value in proposed.items() if value != current[name]}


def updated_service(service: Service, updates: dict[str, Any]) -> Service:
    """The service with these updates, validated again (pydantic's ValidationError when invalid)."""
    unknown = set(updates) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable by a provider: {sorted(unknown)}")
    return Service.model_validate({**service.model_dump(mode="json"), **updates})


def _label_for(loc: tuple[Any, ...]) -> str:
    """The form label of a pydantic error location."""
    if loc and loc[0] == "age_range":
        bound = loc[1] if len(loc) > 1 else None
        return {"minimum": "Minimumleeftijd", "maximum": "Maximumleeftijd"}.get(str(bound), "Minimum- en maximumleeftijd")
    return next((e.label for e in EDITABLE if loc and e.field == loc[0]), "Aanbod")


def _problem(error: dict[str, Any], updates: dict[str, Any]) -> list[OfferProblem]:
    """The Dutch problem(s) of one pydantic error on the updated service."""
    loc = tuple(error["loc"])
    name = str(loc[0]) if loc else ""
    received = _received(display_value(name, updates.get(name)))
    return [OfferProblem(label=_label_for(loc), received=received, reason=reason[:1].upper() + reason[1:] + ".")
            for reason in error_reasons(error)]


def _validation(service: Service, updates: dict[str, Any]) -> tuple[list[OfferProblem], set[str]]:
    """The Dutch problems of the updated service and the fields they are about."""
    try:
        updated_service(service, updates)
    except ValidationError as error:
        errors: list[dict[str, Any]] = [dict(e) for e in error.errors(include_url=False)]
        return [p for e in errors for p in _problem(e, updates)], {str(e["loc"][0]) for e in errors if e["loc"]}
    return [], set()


def validation_problems(service: Service, updates: dict[str, Any]) -> list[OfferProblem]:
    """Why the updated service would be invalid, in Dutch; empty when it is valid."""
    return _validation(service, updates)[0]


def _proposal(section: _Section, candidates: Sequence[Service]) -> OfferProposal:
    """Resolve the section's service and turn its lines into updates and problems (every problem at once)."""
    values, problems = _values(section)
    proposal = partial(OfferProposal, service_received=section.service_received, ignored=tuple(dict.fromkeys(section.ignored)),
                       fields_found=len(section.found))
    if section.service_received is not None:
        service = match_service(candidates, section.service_received)
        if service is None:
            listed = "; ".join(f"{s.id} ({s.name})" for s in candidates)
            problems.insert(0, OfferProblem(label=SERVICE_LABEL, received=_received(section.service_received),
                                            reason=f"Bij dit adres hoort geen dienst met die naam. Kies uit: {listed}."))
    else:
        service = candidates[0] if len(candidates) == 1 else None
    if service is None:
        return proposal(service_id=None, problems=tuple(problems))
    updates = _updates(service, values)
    invalid, fields = _validation(service, updates)
    # What is fine is kept even beside problems: the reply's form shows it filled in.
    fine = {name: value for name, value in updates.items() if name not in fields}
    return proposal(service_id=service.id, updates=fine, problems=tuple(problems + invalid))


def has_offer_lines(text: str) -> bool:
    """Whether the text holds a "Dienst:" line or a line of a field a provider may update."""
    return bool(_split_sections(text))


def parse_offer_mail(text: str, candidates: Sequence[Service]) -> OfferMail:
    """What a provider's mail (history already stripped) proposes for the services behind its address."""
    return OfferMail(proposals=tuple(_proposal(s, candidates) for s in _split_sections(text)))
