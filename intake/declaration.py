"""The joint declaration of intent (gezamenlijke intentieverklaring): who may sign it and a recorded signature."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from intake.vocabulary import Labelled


class PartnerKind(Labelled):
    """Who signs, as the declaration names them: schools via their scholengemeenschap, CLBs, providers."""

    SCHOOL_COMMUNITY = ("scholengemeenschap", "scholengemeenschap")
    CLB = ("clb", "CLB")
    PROVIDER = ("aanbieder", "aanbieder")


class Signature(BaseModel):
    """One partner's signature: a provider is named by its catalogue organisation id, the others by name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: PartnerKind
    name: str
    organization_id: str | None = None
    signed_on: date
