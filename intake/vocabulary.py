"""Closed sets of the domain (regions, levels, care phases, forms, problem areas) with their Dutch labels."""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class Channel(StrEnum):
    """The ways a person reaches the assistant (stored with each referral and conversation)."""

    TERMINAL = "terminal"
    TELEGRAM = "telegram"
    EMAIL = "email"


class Mode(StrEnum):
    """Which questions a channel asks: all, all but the pupil's identity, only the identity, or advice (stored with each referral)."""

    FULL = "full"
    MINIMAL = "minimal"
    DETAILS = "details"
    ADVICE = "advice"


class Labelled(StrEnum):
    """A closed set whose members carry the Dutch label a person reads."""

    def __new__(cls, value: str, label: str) -> "Labelled":
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    label: str

    @classmethod
    def parse(cls, value: str) -> Self:
        """The member with this stored value (ValueError when there is none)."""
        return cls(value)  # type: ignore[call-arg]  # mypy reads the custom __new__ as the lookup's signature


class Region(Labelled):
    """The Meldpunt's two regions: the two arrondissements of Vlaams-Brabant (DOMAIN.md, Regions)."""

    AHV = ("ahv", "Asse-Halle-Vilvoorde")
    OOST = ("oost", "Vlaams-Brabant Oost")


class ReferrerRole(Labelled):
    """Who fills in the referral; only CLB staff refer directly (draaischijffunctie)."""

    CLB = ("clb", "CLB-medewerker")
    PARENT = ("ouder", "Ouder")
    FACILITY = ("voorziening", "Voorziening")


class SchoolLevel(Labelled):
    """Level of education; the Meldpunt serves secondary, and a limited offer for primary."""

    SECONDARY = ("secundair", "Secundair onderwijs")
    PRIMARY = ("basis", "Basisonderwijs")


class EducationForm(Labelled):
    """Onderwijsvorm in secondary and primary education (Flemish names)."""

    A_STROOM = ("a-stroom", "A-stroom (1e graad)")
    B_STROOM = ("b-stroom", "B-stroom (1e graad)")
    DOORSTROOM = ("doorstroom", "Doorstroomfinaliteit (ASO)")
    DUBBEL = ("dubbel", "Dubbele finaliteit (TSO/KSO)")
    ARBEIDSMARKT = ("arbeidsmarkt", "Arbeidsmarktfinaliteit (BSO)")
    DUAAL = ("duaal", "Duaal leren / deeltijds onderwijs")
    BUITENGEWOON = ("buitengewoon", "Buitengewoon onderwijs")
    GEWOON_BASIS = ("gewoon-basis", "Gewoon basisonderwijs")
    ANDERS = ("anders", "Andere")


class CarePhase(Labelled):
    """Phases of the zorgcontinuüm; referral is possible only from 'uitbreiding van zorg'."""

    BREDE_BASISZORG = ("brede-basiszorg", "Brede basiszorg")
    VERHOOGDE_ZORG = ("verhoogde-zorg", "Verhoogde zorg")
    UITBREIDING_VAN_ZORG = ("uitbreiding-van-zorg", "Uitbreiding van zorg")


class DesiredForm(Labelled):
    """The form of help asked for."""

    INDIVIDUAL = ("individueel", "Individueel traject")
    CLASS = ("klas", "Klastraject")
    COACHING = ("coaching", "Coaching van leerkracht of schoolteam")
    TIME_OUT = ("time-out", "Time-out / dagbesteding buiten de school")


class LocationPreference(Labelled):
    """Where the intervention should take place."""

    IN_SCHOOL = ("op-school", "Op school")
    OUTSIDE_SCHOOL = ("buiten-school", "Buiten de school")
    NO_PREFERENCE = ("geen-voorkeur", "Geen voorkeur")


class ProblemArea(Labelled):
    """Problem areas of the request for help (hulpvraag)."""

    ABSENTEEISM = ("spijbelen", "Spijbelen of schoolverzuim")
    SCHOOL_FATIGUE = ("schoolmoeheid", "Schoolmoeheid, weinig motivatie")
    BEHAVIOUR = ("gedrag", "Gedragsproblemen op school")
    SOCIO_EMOTIONAL = ("socio-emotioneel", "Socio-emotionele problemen")
    SCHOOL_RELATION = ("relatie-school", "Moeilijke relatie met school of leerkrachten")
    HOME = ("thuissituatie", "Moeilijke thuissituatie")
    PERSPECTIVE = ("perspectief", "Weinig of geen perspectief op school")
    SUBSTANCES = ("middelen", "Middelengebruik")
    OTHER = ("anders", "Andere")


class Urgency(Labelled):
    """How soon help is needed."""

    NORMAL = ("normaal", "Normaal")
    HIGH = ("dringend", "Dringend (binnen twee weken)")
    CRISIS = ("zeer-dringend", "Zeer dringend (de leerling is nu niet meer op school)")


class OfferKind(Labelled):
    """Kinds of offer named in the seeds (001, 'Verschillende schoolexterne partners')."""

    NAFT = ("naft", "NAFT-traject (Naadloze Flexibele Trajecten)")
    CARE_FARM = ("zorgboerderij", "Zorgboerderij (Groene Zorg)")
    YOUTH_CARE_MODULE = ("jeugdhulp-module", "Jeugdhulp: module ondersteunende begeleiding")
    PRIVATE = ("prive", "Privé-initiatief (dagbesteding en/of trajectbegeleiding)")
    UNKNOWN = ("onbekend", "Soort aanbod niet gekend")


class ReferralRoute(Labelled):
    """How a provider receives referrals: through the Meldpunt, or directly (Groene Zorg)."""

    MELDPUNT = ("meldpunt", "Via het Meldpunt")
    DIRECT = ("rechtstreeks", "Rechtstreeks bij de aanbieder")


class FundingSource(Labelled):
    """Funding sources listed in the seeds."""

    FLEMISH_GOVERNMENT = ("vlaamse-overheid", "Vlaamse overheid (NAFT)")
    LOCAL_GOVERNMENT = ("lokaal-bestuur", "Steden en gemeenten")
    SCHOOLS = ("scholen", "Scholen en/of scholengemeenschappen")
    YOUTH_CARE = ("jeugdhulp", "Jeugdhulp")
    AGRICULTURE = ("landbouw", "Departement Landbouw (Groene Zorg)")
    PRIVATE = ("prive", "Privé")
