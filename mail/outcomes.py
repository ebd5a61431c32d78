"""What becomes of a processed mail: one closed set, stored with each inbound mail."""

from __future__ import annotations

from enum import StrEnum


class MailOutcome(StrEnum):
    """What became of one processed mail (stored with it, so the values never change)."""

    AUTOMATIC = "automatisch"
    BOUNCE = "bounce"
    FORM_SENT = "formulier-verstuurd"
    UNREADABLE_FORM_SENT = "onleesbaar-formulier-verstuurd"
    ALREADY_SUBMITTED = "al-ingediend"
    SUBMITTED = "aanmelding-ingediend"
    FORM_INCOMPLETE = "formulier-onvolledig"
    QUESTION_FORWARDED = "vraag-doorgestuurd"
    COORDINATOR_DECISIONS = "beslissingen-coordinator"
    PROVIDER_QUESTION = "vraag-aanbieder"
    PROVIDER_FEEDBACK = "terugkoppeling-aanbieder"
    REPLY_NEEDED = "antwoord-vereist"
    ANSWER_RELAYED = "antwoord-doorgegeven"
    UNKNOWN_SENDER = "onbekende-afzender"
    OFFER_PROPOSED = "aanbod-voorgesteld"
    OFFER_PROBLEMS = "aanbod-problemen"
    OFFER_WHICH_SERVICE = "aanbod-welke-dienst"
    OFFER_FORM = "aanbod-formulier"
    OFFER_UNCHANGED = "aanbod-ongewijzigd"
    OFFER_NOT_PROVIDER = "aanbod-geen-aanbieder"
    OFFER_REPLY_NEEDED = "aanbod-antwoord-vereist"
    SURVEY_RECORDED = "bevraging-genoteerd"
    SURVEY_INCOMPLETE = "bevraging-onvolledig"
    SURVEY_NOT_INVITED = "bevraging-niet-uitgenodigd"
