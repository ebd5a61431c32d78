"""A provider's offer update by mail, read without any I/O: labels, values, Dutch reasons, the form."""

from __future__ import annotations

import pytest

from intake.catalogue import Catalogue, Service
from intake.catalogue_loader import load_catalogue
from intake.offer_form import change_rows, render_offer_form
from intake.offer_update import (
    OfferMail,
    parse_offer_mail,
    services_for_address,
    updated_service,
)

ARKTOS = "aanmeldingen@arktos.example"  # serves two services: AHV and Oost
PROFO = "aanmeldingen@profo.example"  # serves one


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    """The bundled catalogue."""
    return load_catalogue()


@pytest.fixture(scope="module")
def profo(catalogue: Catalogue) -> Service:
    """The one service behind Profo's address."""
    (service,) = services_for_address(catalogue.services, PROFO)
    return service


def _parse(text: str, catalogue: Catalogue, address: str = PROFO) -> OfferMail:
    return parse_offer_mail(text, services_for_address(catalogue.services, address))


def test_sender_address_is_matched_without_case_or_brackets(catalogue: Catalogue) -> None:
    assert [s.id for s in services_for_address(catalogue.services, "<Aanmeldingen@ARKTOS.example>")] == [
        "naft-arktos-ahv", "naft-arktos-oost"]
    assert services_for_address(catalogue.services, "iemand@elders.example") == ()


def test_labels_are_matched_without_case_accents_or_spaces(catalogue: Catalogue) -> None:
    text = (
        "Dag Meldpunt,\n\nHierbij onze nieuwe gegevens.\n\n"
        "VRIJE PLAATSEN: 3\n"
        "neemt aanmeldingen aan : nee\n"
        "Onderwijs niveau: secundair, basis\n"
        "Capaciteit: 9\n"  # an alias of a label already answered: the first answer wins
        "Minimumleeftijd: 12 jaar\n"
        "Maximum-leeftijd: 18\n"
        "Wébsite: www.profo.be/naft\n\n"
        "Met vriendelijke groeten,\nAn\n"
    )
    (proposal,) = _parse(text, catalogue).proposals
    assert proposal.problems == ()
    assert proposal.updates == {
        "accepting_referrals": False, "capacity": 3, "levels": ["secundair", "basis"],
        "age_range": {"minimum": 12, "maximum": 18}, "website": "https://www.profo.be/naft",
    }


def test_the_prefilled_form_comes_back_unchanged_as_no_updates(catalogue: Catalogue, profo: Service) -> None:
    (proposal,) = _parse(render_offer_form(profo), catalogue).proposals
    assert proposal.service_id == profo.id and proposal.fields_found == 12
    assert proposal.updates == {} and proposal.problems == ()


def test_the_form_edited_yields_only_what_changed(catalogue: Catalogue, profo: Service) -> None:
    form = render_offer_form(profo)
    edited = (form.replace("Vrije plaatsen: niet gekend", "Vrije plaatsen: 0")
              .replace("Op school mogelijk: ja", "Op school mogelijk: neen"))
    (proposal,) = _parse(edited, catalogue).proposals
    assert proposal.updates == {"capacity": 0, "on_site": False}


def test_choice_labels_with_commas_and_slashes_are_read_whole(catalogue: Catalogue) -> None:
    text = ("Probleemgebieden: Schoolmoeheid, weinig motivatie; spijbelen\n"
            "Vormen van begeleiding: Time-out / dagbesteding buiten de school en Individueel traject")
    (proposal,) = _parse(text, catalogue).proposals
    assert proposal.updates["problem_areas"] == ["schoolmoeheid", "spijbelen"]
    assert proposal.updates["forms"] == ["time-out", "individueel"]


def test_a_long_description_may_run_over_several_lines(catalogue: Catalogue) -> None:
    text = "Beschrijving: Wij begeleiden jongeren\nin en buiten de school.\n\nEen nieuwe alinea hoort er niet bij."
    (proposal,) = _parse(text, catalogue).proposals
    assert proposal.updates["description"] == "Wij begeleiden jongeren in en buiten de school."


def test_wrong_values_are_explained_in_dutch(catalogue: Catalogue) -> None:
    text = ("Vrije plaatsen: -2\nNeemt aanmeldingen aan: misschien\nOnderwijsniveau: hoger onderwijs\n"
            "Website: profo punt be\nMinimumleeftijd: twaalf\n")
    (proposal,) = _parse(text, catalogue).proposals
    problems = {p.label: (p.received, p.reason) for p in proposal.problems}
    assert problems["Vrije plaatsen"] == ("-2", "Geef een geheel getal van 0 of meer (0 = volzet).")
    assert problems["Neemt aanmeldingen aan"] == ("misschien", "Antwoord met ja of nee.")
    assert problems["Onderwijsniveau"][1].startswith("'hoger onderwijs' is geen keuze. Kies uit: Secundair onderwijs")
    assert "http://" in problems["Website"][1]
    assert "hele jaren" in problems["Minimumleeftijd"][1]
    assert proposal.updates == {}


def test_a_combination_the_catalogue_refuses_is_explained_by_its_validators(catalogue: Catalogue) -> None:
    (proposal,) = _parse("Minimumleeftijd: 18\nMaximumleeftijd: 12\n", catalogue).proposals
    (problem,) = proposal.problems
    assert problem.label == "Minimum- en maximumleeftijd"
    assert problem.reason == "De minimumleeftijd is groter dan de maximumleeftijd."
    assert problem.received == "18 tot 12 jaar"


def test_niet_gekend_clears_a_fact_but_not_a_yes_no_that_must_be_known(catalogue: Catalogue, profo: Service) -> None:
    (proposal,) = _parse("Website: niet gekend\nNeemt aanmeldingen aan: onbekend\n", catalogue).proposals
    assert [p.label for p in proposal.problems] == ["Neemt aanmeldingen aan"]
    (cleared,) = _parse("Website: Niet gekend\n", catalogue).proposals
    assert profo.website is not None and cleared.updates == {"website": None}


def test_empty_lines_keep_what_we_have(catalogue: Catalogue) -> None:
    (proposal,) = _parse("Vrije plaatsen:\nWebsite: -\nBeschrijving:\n\nOp school mogelijk: nee", catalogue).proposals
    assert proposal.updates == {"on_site": False}


def test_several_services_without_dienst_line_need_a_choice(catalogue: Catalogue) -> None:
    parsed = _parse("Vrije plaatsen: 2", catalogue, ARKTOS)
    assert parsed.needs_service and parsed.proposals[0].service_id is None


def test_dienst_line_chooses_by_id_or_name_and_sections_split(catalogue: Catalogue) -> None:
    text = ("Dienst: naft-arktos-oost\nVrije plaatsen: 2\n\n"
            "Dienst: NAFT-traject Arktos (Asse-Halle-Vilvoorde)\nVrije plaatsen: 5\n")
    parsed = _parse(text, catalogue, ARKTOS)
    assert [(p.service_id, p.updates) for p in parsed.proposals] == [
        ("naft-arktos-oost", {"capacity": 2}), ("naft-arktos-ahv", {"capacity": 5})]
    assert not parsed.needs_service and parsed.problems == ()


def test_unknown_service_is_refused_with_the_services_listed(catalogue: Catalogue) -> None:
    parsed = _parse("Dienst: tako\nVrije plaatsen: 2", catalogue, ARKTOS)
    (problem,) = parsed.problems
    assert problem.label == "Dienst" and problem.received == "tako"
    assert "naft-arktos-ahv (NAFT-traject Arktos (Asse-Halle-Vilvoorde))" in problem.reason
    assert parsed.proposals[0].updates == {}


def test_fields_a_provider_cannot_change_are_noted_not_refused(catalogue: Catalogue) -> None:
    (proposal,) = _parse("Verzendadres: nieuw@profo.example\nVrije plaatsen: 1", catalogue).proposals
    assert proposal.ignored == ("verzendadres",) and proposal.updates == {"capacity": 1}


def test_mail_without_any_form_line_is_not_recognised(catalogue: Catalogue) -> None:
    assert not _parse("Dag, hoe kunnen we ons aanbod aanpassen? Groeten, An", catalogue).recognised


def test_updated_service_refuses_fields_a_provider_may_not_touch(profo: Service) -> None:
    with pytest.raises(ValueError, match="not editable"):
        updated_service(profo, {"dispatch_email": "x@y.example"})
    assert updated_service(profo, {"capacity": 4}).capacity == 4


def test_form_shows_current_values_and_change_rows_read_as_dutch(profo: Service) -> None:
    form = render_offer_form(profo, {"capacity": 7})
    assert f"Dienst: {profo.id}" in form and "Vrije plaatsen: 7" in form
    assert "Neemt aanmeldingen aan: ja" in form and "Minimumleeftijd: niet gekend" in form
    rows = change_rows({"capacity": None, "levels": ["secundair"]}, {"levels": ["secundair", "basis"], "capacity": 3})
    assert rows == [
        {"label": "Vrije plaatsen", "old": "niet gekend", "new": "3"},
        {"label": "Onderwijsniveau", "old": "Secundair onderwijs", "new": "Secundair onderwijs; Basisonderwijs"},
    ]


def test_every_problem_is_reported_at_once_and_what_is_fine_is_kept(catalogue: Catalogue) -> None:
    text = "Vrije plaatsen: 5\nWebsite: ftp://profo\nMinimumleeftijd: 18\nMaximumleeftijd: 12\n"
    (proposal,) = _parse(text, catalogue).proposals
    assert [p.label for p in proposal.problems] == ["Website", "Minimum- en maximumleeftijd"]
    assert proposal.updates == {"capacity": 5}, "the reply's form shows what was fine already filled in"
