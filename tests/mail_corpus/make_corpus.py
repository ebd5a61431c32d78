"""Write the mail-safety corpus: automatic/*.eml (never answer) and human/*.eml (answer).

Run `.venv/bin/python tests/mail_corpus/make_corpus.py` from the repository root; the .eml files are
committed, this script only documents how they were made. Addresses use made-up `.example` domains
(RFC 2606) except where the real provider is what makes the format recognisable (Gmail, Outlook).
Our own domain is meldpunt-si.example; mails we sent have Message-IDs `<msi-…@meldpunt-si.example>`.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
OUR = "meldpunt-si.example"
US = f"meldpunt@{OUR}"
OUR_ID = "<msi-20240917-0142.4f9c2a1e@meldpunt-si.example>"
OUR_ID_2 = "<msi-20240918-0150.77b01c3d@meldpunt-si.example>"
OUR_ID_3 = "<msi-20240919-0161.0a9e55f2@meldpunt-si.example>"
DATE = "Tue, 17 Sep 2024 10:15:02 +0200"

AUTOMATIC: dict[str, str] = {}
HUMAN: dict[str, str] = {}


def person(
    *,
    sender: str = "Els Janssens <els.janssens@clb-noordrand.example>",
    subject: str = "Vraag over aanmelding leerling",
    extra: str = "",
    body: str = "Dag,\n\nIk had graag een leerling aangemeld. Wat moet ik doen?\n\nEls\n",
    message_id: str = "<5b1f0e2a-77c1-4b0e-9d0c-3a1f2e9b8c11@clb-noordrand.example>",
) -> str:
    """A plain mail by a person, with `extra` header lines that make it a case."""
    headers = (
        f"Received: from mail.clb-noordrand.example (mail.clb-noordrand.example [192.0.2.40])\n"
        f"\tby mx.{OUR} (Postfix) with ESMTPS id 4X7Yk21ZxLz9sTQ\n"
        f"\tfor <{US}>; {DATE}\n"
        f"From: {sender}\n"
        f"To: Meldpunt SI <{US}>\n"
        f"Subject: {subject}\n"
        f"Date: {DATE}\n"
        f"Message-ID: {message_id}\n"
        f"{extra}"
        "MIME-Version: 1.0\n"
        'Content-Type: text/plain; charset="utf-8"\n'
        "Content-Transfer-Encoding: 8bit\n"
    )
    return headers + "\n" + body


def returned_copy(
    *, to: str = "an.peeters@vrijclb-leuven.example", message_id: str = OUR_ID
) -> str:
    """The headers and start of a mail we sent, as a DSN returns it."""
    return (
        f"Return-Path: <{US}>\n"
        f"From: Meldpunt Schoolexterne Interventies <{US}>\n"
        f"To: {to}\n"
        "Subject: Bevestiging aanmelding MSI-2024-0142\n"
        f"Date: {DATE}\n"
        f"Message-ID: {message_id}\n"
        "MIME-Version: 1.0\n"
        'Content-Type: text/plain; charset="utf-8"\n'
    )


def dsn(
    *,
    headers: str,
    boundary: str,
    notice: str,
    status_fields: str,
    original: str,
    original_type: str = "message/rfc822",
) -> str:
    """A multipart/report DSN (RFC 3464) with the given headers, human text and status block."""
    return (
        headers
        + "MIME-Version: 1.0\n"
        + f'Content-Type: multipart/report; report-type=delivery-status;\n\tboundary="{boundary}"\n'
        + "\nThis is a MIME-encapsulated message.\n\n"
        + f"--{boundary}\nContent-Description: Notification\n"
        + "Content-Type: text/plain; charset=us-ascii\n\n"
        + notice
        + f"\n--{boundary}\nContent-Description: Delivery report\n"
        + "Content-Type: message/delivery-status\n\n"
        + status_fields
        + f"\n--{boundary}\nContent-Description: Undelivered Message\n"
        + f"Content-Type: {original_type}\n\n"
        + original
        + (
            "\nDag An,\n\nUw aanmelding is goed ontvangen.\n"
            if original_type.endswith("822")
            else ""
        )
        + f"\n--{boundary}--\n"
    )


# --- RFC 3834 header cases -----------------------------------------------------------------------

AUTOMATIC["auto_submitted_auto_replied.eml"] = person(
    sender="Helpdesk VCLB <helpdesk@vrijclb-leuven.example>",
    subject="[Ticket #48213] Uw vraag is ontvangen",
    extra="Auto-Submitted: auto-replied\n",
    body="Bedankt voor uw bericht. We antwoorden binnen twee werkdagen.\n",
)
AUTOMATIC["auto_submitted_auto_generated.eml"] = person(
    sender="Leerlingvolgsysteem <lvs@clb-noordrand.example>",
    subject="Dagelijks overzicht openstaande dossiers",
    extra="Auto-Submitted: auto-generated\n",
    body="Er staan 3 dossiers open die uw aandacht vragen.\n",
)
AUTOMATIC["auto_submitted_with_parameters.eml"] = person(
    subject="Re: Bevestiging aanmelding MSI-2024-0142",
    extra='Auto-Submitted: auto-replied; owner-email="els.janssens@clb-noordrand.example"\n',
    body="Ik ben afwezig tot maandag 23 september.\n",
)
AUTOMATIC["auto_submitted_uppercase_comment.eml"] = person(
    subject="Kennisgeving",
    extra="AUTO-SUBMITTED: Auto-Generated (notificatiedienst)\n",
    body="Er is een nieuw document beschikbaar op het platform.\n",
)
AUTOMATIC["auto_submitted_auto_notified.eml"] = person(
    subject="Sieve-notificatie: nieuw bericht",
    extra="Auto-Submitted: auto-notified; owner-email=els.janssens@clb-noordrand.example\n",
    body="U hebt een nieuw bericht van meldpunt@meldpunt-si.example.\n",
)
AUTOMATIC["auto_submitted_empty.eml"] = person(
    subject="Melding",
    extra="Auto-Submitted:\n",
    body="Automatische melding zonder inhoud.\n",
)
AUTOMATIC["precedence_bulk.eml"] = person(
    sender="Secretariaat Scholengroep <secretariaat@scholengroep-brabant.example>",
    subject="Kalender pedagogische studiedagen 2024-2025",
    extra="Precedence: bulk\n",
    body="Beste collega's,\n\nIn bijlage de kalender van de studiedagen.\n",
)
AUTOMATIC["precedence_list.eml"] = person(
    sender="Jan De Smet <jan.desmet@go-clb-vilvoorde.example>",
    subject="Overleg zorgcoördinatoren",
    extra="Precedence: list\n",
    body="Hallo allemaal,\n\nHet overleg gaat door op donderdag.\n",
)
AUTOMATIC["precedence_junk.eml"] = person(
    sender="Promoties <info@schoolmateriaal.example>",
    subject="-20% op alle agenda's",
    extra="Precedence: junk\n",
    body="Enkel deze week: korting op schoolagenda's.\n",
)
AUTOMATIC["precedence_auto_reply.eml"] = person(
    subject="Re: Bevestiging aanmelding MSI-2024-0142",
    extra="Precedence: auto_reply\n",
    body="Dit is een automatisch antwoord: ik ben met verlof.\n",
)
AUTOMATIC["x_precedence_bulk.eml"] = person(
    sender="Nieuwsdienst <nieuws@onderwijsnieuws.example>",
    subject="Onderwijsnieuws week 38",
    extra="X-Precedence: bulk\n",
    body="Het nieuws van deze week.\n",
)
AUTOMATIC["return_path_empty.eml"] = person(
    subject="Kennisgeving van aflevering",
    extra="Return-Path: <>\n",
    body="Uw bericht werd afgeleverd.\n",
)
AUTOMATIC["return_path_empty_spaces.eml"] = person(
    subject="Melding van de mailserver",
    extra="Return-Path: < >\n",
    body="Uw mailbox is bijna vol.\n",
)
AUTOMATIC["envelope_empty.eml"] = person(
    subject="Kennisgeving",
    body="Deze mail kwam binnen met een lege MAIL FROM (de test geeft envelope_from='').\n",
)
AUTOMATIC["envelope_angle.eml"] = person(
    subject="Kennisgeving",
    body="Deze mail kwam binnen met MAIL FROM:<> (de test geeft envelope_from='<>').\n",
)
AUTOMATIC["envelope_mailman_bounces.eml"] = person(
    sender="Karel Wouters <karel.wouters@clb-noordrand.example>",
    subject="Verslag intervisie",
    body="De envelop komt van clb-netwerk-bounces@lists.clb-netwerk.example.\n",
)
AUTOMATIC["envelope_mailer_daemon_without_domain.eml"] = person(
    subject="Warning: could not send message for past 4 hours",
    body="De envelop is MAILER-DAEMON zonder domein.\n",
)
AUTOMATIC["x_loop_ours.eml"] = person(
    sender="Ticketsysteem CLB <tickets@clb-noordrand.example>",
    subject="Fwd: Bevestiging aanmelding MSI-2024-0142",
    extra=f"X-Loop: {US}\n",
    body="Doorgestuurd bericht van het Meldpunt.\n",
)
AUTOMATIC["x_loop_ours_among_others.eml"] = person(
    subject="Re: Bevestiging aanmelding MSI-2024-0142",
    extra="X-Loop: tickets@clb-noordrand.example\nX-Loop: Meldpunt@Meldpunt-SI.example\n",
    body="Dit bericht ging al eens door het Meldpunt.\n",
)

# --- system senders ------------------------------------------------------------------------------

for _name, _sender in {
    "from_mailer_daemon": "Mail Delivery Subsystem <MAILER-DAEMON@mail.clb-noordrand.example>",
    "from_postmaster": "Postmaster <postmaster@vrijclb-leuven.example>",
    "from_noreply": "Smartschool <noreply@smartschool.example>",
    "from_no_reply": "Onderwijs Vlaanderen <no-reply@onderwijs-vlaanderen.example>",
    "from_no_underscore_reply": "Scholengroep <no_reply@scholengroep-brabant.example>",
    "from_noreply_numbered": "Agenda <noreply123@agenda.example>",
    "from_donotreply": "LARS <donotreply@lars.example>",
    "from_do_not_reply": "Facturatie <do-not-reply@facturen.example>",
    "from_bounces": "bounces@mailer.example",
    "from_bounce_verp": "bounce-48213-an.peeters=vrijclb-leuven.example@mail.nieuwsbrief.example",
    "from_listserv": "LISTSERV@listserv.kuleuven.example",
    "from_majordomo": "Majordomo@lists.clb-netwerk.example",
}.items():
    AUTOMATIC[f"{_name}.eml"] = person(
        sender=_sender,
        subject="Kennisgeving",
        body="Dit bericht werd automatisch verstuurd. Gelieve niet te antwoorden.\n",
    )
AUTOMATIC["sender_header_noreply.eml"] = person(
    sender="Katrien Maes <katrien.maes@clb-noordrand.example>",
    subject="Katrien Maes heeft een document met u gedeeld",
    extra="Sender: Documentdeling <noreply@docs.example>\n",
    body="Katrien Maes heeft 'Verslag MDO' met u gedeeld.\n",
)

# --- our own mail come back ------------------------------------------------------------------

AUTOMATIC["message_id_ours.eml"] = person(
    subject="Bevestiging aanmelding MSI-2024-0142",
    message_id="<c0ffee42.outbox@mail.meldpunt-si.example>",
    body="Dag An,\n\nUw aanmelding is goed ontvangen.\n",
)
AUTOMATIC["message_id_our_domain.eml"] = person(
    subject="Bevestiging aanmelding MSI-2024-0150",
    message_id=OUR_ID_2,
    body="Dag Sofie,\n\nUw aanmelding is goed ontvangen.\n",
)
AUTOMATIC["from_our_domain.eml"] = person(
    sender=f"Meldpunt Schoolexterne Interventies <{US}>",
    subject="Bevestiging aanmelding MSI-2024-0161",
    message_id="<20240919.3a7b@relay.clb-noordrand.example>",
    body="Dag Karel,\n\nUw aanmelding is goed ontvangen.\n",
)
AUTOMATIC["from_our_subdomain.eml"] = person(
    sender=f"Meldpunt Rapporten <rapport@intern.{OUR}>",
    subject="Weekrapport",
    body="Het weekrapport staat klaar.\n",
)

# --- vendor autoreply markers -------------------------------------------------------------------

AUTOMATIC["x_autoreply.eml"] = person(
    subject="Re: Bevestiging aanmelding MSI-2024-0142",
    extra="X-Autoreply: yes\n",
    body="Ik ben met vakantie tot 1 oktober.\n",
)
AUTOMATIC["x_autorespond.eml"] = person(
    subject="Uw bericht",
    extra="X-Autorespond: Uw bericht\n",
    body="Bedankt voor uw bericht, we nemen zo snel mogelijk contact op.\n",
)
AUTOMATIC["x_autoreply_from.eml"] = person(
    subject="Afwezigheid",
    extra="X-Autoreply-From: els.janssens@clb-noordrand.example\nX-Mail-Autoreply: yes\n",
    body="Ik ben afwezig.\n",
)
AUTOMATIC["exchange_inbox_rules_loop.eml"] = person(
    sender="Secretariaat CLB <secretariaat@clb-noordrand.example>",
    subject="FW: Bevestiging aanmelding MSI-2024-0142",
    extra="X-MS-Exchange-Inbox-Rules-Loop: secretariaat@clb-noordrand.example\n",
    body="Doorgestuurd door een Outlook-regel.\n",
)


def outlook_oof(subject: str, body: str, *, extra: str = "") -> str:
    """An Outlook out-of-office reply as Exchange sends it, without Auto-Submitted."""
    return (
        f"Received: from EUR02-AM0-obe.outbound.protection.outlook.example (192.0.2.77)\n"
        f"\tby mx.{OUR} (Postfix) with ESMTPS id 4X8A0b3kQxz9sTR; {DATE}\n"
        "From: Els Janssens <els.janssens@clb-noordrand.example>\n"
        f"To: Meldpunt SI <{US}>\n"
        f"Subject: {subject}\n"
        "Thread-Topic: Bevestiging aanmelding MSI-2024-0142\n"
        "Thread-Index: AQHbCNo3k2l0f9bS2EuXU2Wk1d6bVA==\n"
        f"Date: {DATE}\n"
        "Message-ID: <AM9PR02MB7292A1E2F3B4C5D6E7F8A9B0@AM9PR02MB7292.eurprd02.prod.outlook.com>\n"
        f"In-Reply-To: {OUR_ID}\n"
        f"References: {OUR_ID}\n"
        "Content-Language: nl-BE\n"
        "X-MS-Has-Attach:\n"
        "X-MS-TNEF-Correlator:\n"
        "X-Auto-Response-Suppress: All\n"
        f"{extra}"
        'Content-Type: text/plain; charset="iso-8859-1"\n'
        "Content-Transfer-Encoding: quoted-printable\n"
        "MIME-Version: 1.0\n\n" + body
    )


AUTOMATIC["outlook_automatisch_antwoord.eml"] = outlook_oof(
    "Automatisch antwoord: Bevestiging aanmelding MSI-2024-0142",
    "Beste,\n\nIk ben afwezig tot en met 27 september. Voor dringende vragen kan u terecht bij\n"
    "het onthaal van het CLB: 016 00 00 00.\n\nMet vriendelijke groeten,\nEls Janssens\n",
)
AUTOMATIC["outlook_automatic_reply.eml"] = outlook_oof(
    "Automatic reply: Bevestiging aanmelding MSI-2024-0142",
    "I am out of the office until September 27th with limited access to e-mail.\n",
)
AUTOMATIC["outlook_afwezig.eml"] = outlook_oof(
    "Afwezig: Bevestiging aanmelding MSI-2024-0142",
    "Ik ben afwezig tot maandag.\n",
)
AUTOMATIC["outlook_out_of_office.eml"] = outlook_oof(
    "Out of Office: Bevestiging aanmelding MSI-2024-0142",
    "I'm currently out of the office.\n",
)
AUTOMATIC["outlook_reponse_automatique.eml"] = outlook_oof(
    "=?iso-8859-1?q?R=E9ponse_automatique=A0:_Bevestiging_aanmelding?=",
    "Je suis absente jusqu'au 27 septembre.\n",
)
AUTOMATIC["outlook_automatisch_antwoord_encoded.eml"] = outlook_oof(
    "=?utf-8?B?QXV0b21hdGlzY2ggYW50d29vcmQ6IEJldmVzdGlnaW5nIGFhbm1lbGRpbmcgTVNJLTIwMjQtMDE0Mg==?=",
    "Ik ben afwezig wegens ziekte.\n",
)
AUTOMATIC["exchange_oof_full.eml"] = outlook_oof(
    "Automatisch antwoord: Bevestiging aanmelding MSI-2024-0142",
    "Ik ben met ouderschapsverlof tot 1 november.\n",
    extra="Auto-Submitted: auto-generated\nX-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent\n",
)
AUTOMATIC["gmail_vacation.eml"] = (
    "Received: by mail-wr1-f41.google.example with SMTP id ffacd0b85a97d-37ccd40d5f6so123456f8f.2\n"
    f"\tfor <{US}>; {DATE}\n"
    "From: Sofie Wouters <sofie.wouters@gmail.com>\n"
    f"To: {US}\n"
    "Subject: Re: Bevestiging aanmelding MSI-2024-0150\n"
    f"In-Reply-To: {OUR_ID_2}\n"
    f"References: {OUR_ID_2}\n"
    "Auto-Submitted: auto-replied\n"
    f"Date: {DATE}\n"
    "Message-ID: <CAF8dCjQy8Zk0YtRr3xTq=9u8w6Xh1b+fJmQ@mail.gmail.com>\n"
    "MIME-Version: 1.0\n"
    'Content-Type: multipart/alternative; boundary="000000000000a1b2c3062240e4a1"\n\n'
    "--000000000000a1b2c3062240e4a1\n"
    'Content-Type: text/plain; charset="UTF-8"\n\n'
    "Ik ben op vakantie tot 30 september en lees mijn mail niet.\n\n"
    "--000000000000a1b2c3062240e4a1\n"
    'Content-Type: text/html; charset="UTF-8"\n\n'
    '<div dir="ltr">Ik ben op vakantie tot 30 september en lees mijn mail niet.</div>\n\n'
    "--000000000000a1b2c3062240e4a1--\n"
)
AUTOMATIC["sieve_vacation.eml"] = person(
    subject="Afwezig (was: Bevestiging aanmelding MSI-2024-0142)",
    extra="Auto-Submitted: auto-replied (vacation)\nPrecedence: bulk\n",
    body="Ik ben afwezig tot 30 september.\n",
)
AUTOMATIC["ticket_system_ack.eml"] = person(
    sender="CLB Helpdesk <support@clb-noordrand.example>",
    subject="[#CLB-2291] Ontvangen: Bevestiging aanmelding MSI-2024-0142",
    extra="X-Autoreply: yes\nX-OTRS-Loop: yes\nPrecedence: bulk\n",
    body="Uw bericht werd geregistreerd onder nummer CLB-2291.\n",
)

# --- lists, newsletters, bulk --------------------------------------------------------------------

AUTOMATIC["list_id.eml"] = person(
    sender="Jan De Smet <jan.desmet@go-clb-vilvoorde.example>",
    subject="[clb-netwerk] Vorming schoolverzuim",
    extra="List-Id: CLB-netwerk Vlaams-Brabant <clb-netwerk.lists.clb-netwerk.example>\n",
    body="Wie heeft interesse in de vorming over schoolverzuim?\n",
)
AUTOMATIC["list_unsubscribe.eml"] = person(
    sender="Onderwijsnieuws <nieuwsbrief@onderwijsnieuws.example>",
    subject="Nieuwsbrief september",
    extra="List-Unsubscribe: <https://onderwijsnieuws.example/afmelden?u=48213>\n"
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\n",
    body="Het nieuws van september.\n",
)
AUTOMATIC["feedback_id.eml"] = person(
    sender="Leerplatform <info@leerplatform.example>",
    subject="Je wachtwoord werd gewijzigd",
    extra="Feedback-ID: 1.eu-west-1.aBcDeF123:AmazonSES\n",
    body="Je wachtwoord werd gewijzigd. Was jij dit niet? Neem contact op.\n",
)
AUTOMATIC["x_campaign.eml"] = person(
    sender="Vormingscentrum <vorming@vormingscentrum.example>",
    subject="Nieuw vormingsaanbod voor CLB-medewerkers",
    extra="X-Campaign: mailchimp8f3e2a1b0c.4d5e6f7a8b\n",
    body="Ontdek ons nieuw aanbod.\n",
)
AUTOMATIC["x_campaign_id.eml"] = person(
    sender="Vormingscentrum <vorming@vormingscentrum.example>",
    subject="Laatste plaatsen studiedag",
    extra="X-CampaignID: 20240917-studiedag\n",
    body="Er zijn nog enkele plaatsen vrij.\n",
)
AUTOMATIC["newsletter_mailchimp.eml"] = (
    "Return-Path: <bounce-mc.us21_123456.789-an.peeters=vrijclb-leuven.example@mail123.suw11.mcdlv.net>\n"
    "From: Vormingscentrum <vorming@vormingscentrum.example>\n"
    f"To: <{US}>\n"
    "Subject: Nieuwsbrief september: nieuwe vormingen\n"
    f"Date: {DATE}\n"
    "Message-ID: <8f3e2a1b0c4d5e6f7a8b9c0d1e.20240917081502@mail123.suw11.mcdlv.net>\n"
    "X-Campaign: mailchimp8f3e2a1b0c.4d5e6f7a8b\n"
    "X-campaignid: mailchimp8f3e2a1b0c.4d5e6f7a8b\n"
    "X-Report-Abuse: Please report abuse for this campaign here: "
    "https://mailchimp.com/contact/abuse/?u=8f3e2a1b0c&id=4d5e6f7a8b\n"
    "X-MC-User: 8f3e2a1b0c4d5e6f7a8b9c0d1\n"
    "Feedback-ID: 123456:123456.789:us21:mc\n"
    "List-ID: 8f3e2a1b0c4d5e6f7a8b9c0d1mc list <8f3e2a1b0c4d5e6f7a8b9c0d1.123.list-id.mcsv.net>\n"
    "List-Unsubscribe: <https://vormingscentrum.us21.list-manage.com/unsubscribe?u=8f3e&id=4d5e>\n"
    "Precedence: bulk\n"
    "MIME-Version: 1.0\n"
    'Content-Type: text/html; charset="utf-8"\n\n'
    "<html><body><h1>Nieuwe vormingen</h1><p>Schrijf je nu in.</p></body></html>\n"
)
AUTOMATIC["mailman_digest.eml"] = (
    "Return-Path: <clb-netwerk-bounces@lists.clb-netwerk.example>\n"
    "From: clb-netwerk-request@lists.clb-netwerk.example\n"
    "Subject: CLB-netwerk Digest, Vol 42, Issue 7\n"
    "To: clb-netwerk@lists.clb-netwerk.example\n"
    "Reply-To: clb-netwerk@lists.clb-netwerk.example\n"
    f"Date: {DATE}\n"
    "Message-ID: <mailman.1234.1726560902.1789.clb-netwerk@lists.clb-netwerk.example>\n"
    "X-BeenThere: clb-netwerk@lists.clb-netwerk.example\n"
    "X-Mailman-Version: 2.1.39\n"
    "Precedence: list\n"
    "List-Id: CLB-netwerk Vlaams-Brabant <clb-netwerk.lists.clb-netwerk.example>\n"
    "List-Unsubscribe: <https://lists.clb-netwerk.example/mailman/options/clb-netwerk>,\n"
    " <mailto:clb-netwerk-request@lists.clb-netwerk.example?subject=unsubscribe>\n"
    "List-Post: <mailto:clb-netwerk@lists.clb-netwerk.example>\n"
    "Errors-To: clb-netwerk-bounces@lists.clb-netwerk.example\n"
    'Sender: "CLB-netwerk" <clb-netwerk-bounces@lists.clb-netwerk.example>\n'
    "MIME-Version: 1.0\n"
    'Content-Type: multipart/mixed; boundary="===============6470123437195452154=="\n\n'
    "--===============6470123437195452154==\n"
    'Content-Type: text/plain; charset="us-ascii"\n'
    "Content-Description: CLB-netwerk Digest, Vol 42, Issue 7\n\n"
    "Send CLB-netwerk mailing list submissions to\n\tclb-netwerk@lists.clb-netwerk.example\n\n"
    "Today's Topics:\n\n   1. Vorming schoolverzuim (Jan De Smet)\n\n"
    "--===============6470123437195452154==\n"
    'Content-Type: multipart/digest; boundary="===============1528339024521874127=="\n\n'
    "--===============1528339024521874127==\n"
    "Content-Type: message/rfc822\n\n"
    "From: Jan De Smet <jan.desmet@go-clb-vilvoorde.example>\n"
    "Subject: [clb-netwerk] Vorming schoolverzuim\n"
    "Message-ID: <a1b2c3@go-clb-vilvoorde.example>\n\n"
    "Wie heeft interesse in de vorming over schoolverzuim?\n\n"
    "--===============1528339024521874127==--\n\n"
    "--===============6470123437195452154==--\n"
)
AUTOMATIC["google_groups_post.eml"] = person(
    sender="Katrien Maes <katrien.maes@clb-noordrand.example>",
    subject="Intervisie oktober",
    extra="Mailing-list: list zorgcoordinatoren@googlegroups.example; contact zorgcoordinatoren+owners@googlegroups.example\n"
    "Precedence: list\n"
    "List-ID: <zorgcoordinatoren.googlegroups.example>\n"
    "List-Post: <https://groups.google.example/group/zorgcoordinatoren/post>\n",
    body="Wie komt er naar de intervisie in oktober?\n",
)

AUTOMATIC["broken_from_header.eml"] = person(
    sender="kennisgeving@",
    subject="Melding",
    body="Een From zonder domein laat de parser struikelen: voor de zekerheid automatisch.\n",
)

# --- delivery reports and bounces --------------------------------------------------------------

POSTFIX_NOTICE = (
    "This is the mail system at host mail.meldpunt-si.example.\n\n"
    "I'm sorry to have to inform you that your message could not\n"
    "be delivered to one or more recipients. It's attached below.\n\n"
    "For further assistance, please send mail to postmaster.\n\n"
    "If you do so, please include this problem report. You can\n"
    "delete your own text from the attached returned message.\n\n"
    "                   The mail system\n\n"
    "<an.peeters@vrijclb-leuven.example>: host mx.vrijclb-leuven.example[192.0.2.25] said:\n"
    "    550 5.1.1 <an.peeters@vrijclb-leuven.example>: Recipient address rejected:\n"
    "    User unknown in virtual mailbox table (in reply to RCPT TO command)\n"
)
POSTFIX_STATUS = (
    "Reporting-MTA: dns; mail.meldpunt-si.example\n"
    "X-Postfix-Queue-ID: 4X7Yk21ZxLz9sTQ\n"
    f"X-Postfix-Sender: rfc822; {US}\n"
    f"Arrival-Date: {DATE}\n\n"
    "Final-Recipient: rfc822; an.peeters@vrijclb-leuven.example\n"
    "Original-Recipient: rfc822;an.peeters@vrijclb-leuven.example\n"
    "Action: failed\n"
    "Status: 5.1.1\n"
    "Remote-MTA: dns; mx.vrijclb-leuven.example\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <an.peeters@vrijclb-leuven.example>: Recipient\n"
    "    address rejected: User unknown in virtual mailbox table\n"
)


def postfix_headers(subject: str = "Undelivered Mail Returned to Sender") -> str:
    """The header block Postfix puts on its own bounces."""
    return (
        "Return-Path: <>\n"
        f"Received: by mail.{OUR} (Postfix) id 4X7Yk21ZxLz9sTQ; {DATE}\n"
        f"Date: {DATE}\n"
        f"From: MAILER-DAEMON@mail.{OUR} (Mail Delivery System)\n"
        f"Subject: {subject}\n"
        f"To: {US}\n"
        "Auto-Submitted: auto-replied\n"
        f"Message-Id: <20240917081504.4X7Yk21ZxLz9sTQ@mail.{OUR}>\n"
    )


AUTOMATIC["bounce_postfix_dsn.eml"] = dsn(
    headers=postfix_headers(),
    boundary="4X7Yk21ZxLz9sTQ.1726560904/mail.meldpunt-si.example",
    notice=POSTFIX_NOTICE,
    status_fields=POSTFIX_STATUS,
    original=returned_copy(),
)
AUTOMATIC["bounce_postfix_headers_only.eml"] = dsn(
    headers=postfix_headers(),
    boundary="4X9Bq55LmNz9sTS.1726647300/mail.meldpunt-si.example",
    notice=POSTFIX_NOTICE,
    status_fields=POSTFIX_STATUS,
    original=returned_copy(message_id=OUR_ID_3),
    original_type="text/rfc822-headers",
)
AUTOMATIC["bounce_postfix_delayed.eml"] = dsn(
    headers=postfix_headers("Delayed Mail (still being retried)"),
    boundary="4XA0c77PqRz9sTT.1726574400/mail.meldpunt-si.example",
    notice=(
        "This is the mail system at host mail.meldpunt-si.example.\n\n"
        "####################################################################\n"
        "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n"
        "####################################################################\n\n"
        "Your message could not be delivered for more than 4 hour(s).\n"
        "It will be retried until it is 5 day(s) old.\n\n"
        "<karel.wouters@clb-noordrand.example>: connect to mx.clb-noordrand.example[192.0.2.40]:25:\n"
        "    Connection timed out\n"
    ),
    status_fields=(
        "Reporting-MTA: dns; mail.meldpunt-si.example\n"
        f"Arrival-Date: {DATE}\n\n"
        "Final-Recipient: rfc822; karel.wouters@clb-noordrand.example\n"
        "Original-Recipient: rfc822;karel.wouters@clb-noordrand.example\n"
        "Action: delayed\n"
        "Status: 4.4.1\n"
        "Diagnostic-Code: X-Postfix; connect to mx.clb-noordrand.example[192.0.2.40]:25:\n"
        "    Connection timed out\n"
        "Will-Retry-Until: Sun, 22 Sep 2024 10:15:02 +0200 (CEST)\n"
    ),
    original=returned_copy(to="karel.wouters@clb-noordrand.example", message_id=OUR_ID_2),
    original_type="text/rfc822-headers",
)
AUTOMATIC["bounce_gmail_failure.eml"] = dsn(
    headers=(
        "Return-Path: <>\n"
        "Received: by 2002:a05:6402:1a2b:b0:5c4:2d1e:9f00 with SMTP id ...; " + DATE + "\n"
        "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n"
        f"To: {US}\n"
        "Auto-Submitted: auto-replied\n"
        "Subject: Delivery Status Notification (Failure)\n"
        "References: " + OUR_ID + "\n"
        "In-Reply-To: " + OUR_ID + "\n"
        "X-Failed-Recipients: sofie.wouters.clb@gmail.com\n"
        "Message-ID: <66e93c1a.050a0220.2d8a4b.1f4b.GMR@mx.google.com>\n"
        f"Date: {DATE}\n"
    ),
    boundary="00000000000074d6ad062240e4a2",
    notice=(
        "** Address not found **\n\n"
        "Your message wasn't delivered to sofie.wouters.clb@gmail.com because the address\n"
        "couldn't be found, or is unable to receive mail.\n\n"
        "Learn more here: https://support.google.com/mail/?p=NoSuchUser\n\n"
        "The response was:\n\n"
        "550 5.1.1 The email account that you tried to reach does not exist.\n"
    ),
    status_fields=(
        "Reporting-MTA: dns; googlemail.com\n"
        "Received-From-MTA: dns; mail.meldpunt-si.example\n"
        f"Arrival-Date: {DATE}\n\n"
        "Final-Recipient: rfc822; sofie.wouters.clb@gmail.com\n"
        "Action: failed\n"
        "Status: 5.1.1\n"
        "Remote-MTA: dns; gmail-smtp-in.l.google.com. (2a00:1450:400c:c00::1a, the server for\n"
        " the domain gmail.com.)\n"
        "Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does\n"
        " not exist.\n"
        f"Last-Attempt-Date: {DATE}\n"
    ),
    original=returned_copy(to="sofie.wouters.clb@gmail.com"),
)
AUTOMATIC["bounce_gmail_delay.eml"] = dsn(
    headers=(
        "Return-Path: <>\n"
        "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n"
        f"To: {US}\n"
        "Auto-Submitted: auto-replied\n"
        "Subject: Delivery Status Notification (Delay)\n"
        "Message-ID: <66e93c1a.050a0220.2d8a4b.1f4c.GMR@mx.google.com>\n"
        f"Date: {DATE}\n"
    ),
    boundary="00000000000074d6ad062240e4a3",
    notice=(
        "** Delivery incomplete **\n\n"
        "There was a temporary problem delivering your message to\n"
        "karel.wouters@clb-noordrand.example. Gmail will retry for 46 more hours.\n"
        "You'll be notified if the delivery fails permanently.\n"
    ),
    status_fields=(
        "Reporting-MTA: dns; googlemail.com\n"
        f"Arrival-Date: {DATE}\n\n"
        "Final-Recipient: rfc822; karel.wouters@clb-noordrand.example\n"
        "Action: delayed\n"
        "Status: 4.4.1\n"
        "Diagnostic-Code: smtp; The recipient server did not accept our requests to connect.\n"
        f"Last-Attempt-Date: {DATE}\n"
        "Will-Retry-Until: Thu, 19 Sep 2024 08:15:02 -0700 (PDT)\n"
    ),
    original=returned_copy(to="karel.wouters@clb-noordrand.example", message_id=OUR_ID_2),
)
AUTOMATIC["bounce_exchange_online_ndr.eml"] = dsn(
    headers=(
        "Received: from AM0PR02MB5555.eurprd02.prod.outlook.com ([fe80::1]) by\n"
        " AM0PR02MB5555.eurprd02.prod.outlook.com ([fe80::1%5]) with mapi id 15.20.7982.022;\n"
        f" {DATE}\n"
        "From: Microsoft Outlook\n"
        "\t<MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@vrijclb-leuven.example>\n"
        f"To: <{US}>\n"
        f"Date: {DATE}\n"
        "Subject: Undeliverable: Bevestiging aanmelding MSI-2024-0142\n"
        "Message-ID: <4e1f2a3b-5c6d-4e7f-8a9b-0c1d2e3f4a5b@AM0PR02MB5555.eurprd02.prod.outlook.com>\n"
        "Auto-Submitted: auto-replied\n"
        "X-MS-Exchange-Message-Is-Ndr:\n"
        "Content-Language: en-US\n"
    ),
    boundary="4e1f2a3b-5c6d-4e7f-8a9b-0c1d2e3f4a5b",
    notice=(
        "Your message to an.peeters@vrijclb-leuven.example couldn't be delivered.\n\n"
        "an.peeters wasn't found at vrijclb-leuven.example.\n\n"
        "Action Required: Unknown To address\n\n"
        "How to Fix It\n"
        "The address may be misspelled or may not exist.\n\n"
        "Diagnostic information for administrators:\n\n"
        "Generating server: AM0PR02MB5555.eurprd02.prod.outlook.com\n\n"
        "an.peeters@vrijclb-leuven.example\n"
        "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found\n"
        "by SMTP address lookup'\n"
    ),
    status_fields=(
        "Reporting-MTA: dns;AM0PR02MB5555.eurprd02.prod.outlook.com\n"
        "Received-From-MTA: dns;mail.meldpunt-si.example\n"
        f"Arrival-Date: {DATE}\n\n"
        "Final-Recipient: rfc822;an.peeters@vrijclb-leuven.example\n"
        "Action: failed\n"
        "Status: 5.1.10\n"
        "Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by\n"
        " SMTP address lookup\n"
    ),
    original=returned_copy(),
)
AUTOMATIC["bounce_exchange_legacy_ndr.eml"] = (
    "From: System Administrator <Administrator@exch01.clb-noordrand.example>\n"
    f"To: {US}\n"
    "Subject: Undeliverable: Bevestiging aanmelding MSI-2024-0142\n"
    f"Date: {DATE}\n"
    "Message-ID: <A1B2C3D4E5F6@exch01.clb-noordrand.example>\n"
    "MIME-Version: 1.0\n"
    "X-MS-Embedded-Report:\n"
    'Content-Type: text/plain; charset="iso-8859-1"\n\n'
    "Your message\n\n"
    "  To:      karel.wouters@clb-noordrand.example\n"
    "  Subject: Bevestiging aanmelding MSI-2024-0142\n"
    "  Sent:    Tue, 17 Sep 2024 10:15:02 +0200\n\n"
    "did not reach the following recipient(s):\n\n"
    "karel.wouters@clb-noordrand.example on Tue, 17 Sep 2024 10:15:09 +0200\n"
    "    The recipient name is not recognized\n"
    "\tThe MTS-ID of the original message is: c=BE;a= ;p=CLB;l=EXCH01-240917081509Z-42\n"
    "    MSEXCH:IMS:CLB:NOORDRAND:EXCH01 0 (000C05A6) Unknown Recipient\n"
)
AUTOMATIC["bounce_exim.eml"] = (
    "Return-path: <>\n"
    "Envelope-to: meldpunt@meldpunt-si.example\n"
    "Received: from mail by mx.vrijclb-leuven.example with local (Exim 4.97)\n"
    "\tid 1sqUoE-00061k-2H; " + DATE + "\n"
    "X-Failed-Recipients: jan.desmet@vrijclb-leuven.example\n"
    "Auto-Submitted: auto-replied\n"
    "From: Mail Delivery System <Mailer-Daemon@mx.vrijclb-leuven.example>\n"
    f"To: {US}\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "Subject: Mail delivery failed: returning message to sender\n"
    "Message-Id: <E1sqUoE-00061k-2H@mx.vrijclb-leuven.example>\n"
    f"Date: {DATE}\n\n"
    "This message was created automatically by mail delivery software.\n\n"
    "A message that you sent could not be delivered to one or more of its\n"
    "recipients. This is a permanent error. The following address(es) failed:\n\n"
    "  jan.desmet@vrijclb-leuven.example\n"
    "    mailbox is full: retry timeout exceeded\n\n"
    "------ This is a copy of the message, including all the headers. ------\n\n"
    + returned_copy(to="jan.desmet@vrijclb-leuven.example", message_id=OUR_ID_3)
    + "\nDag Jan,\n\nUw aanmelding is goed ontvangen.\n"
)
AUTOMATIC["bounce_qmail.eml"] = (
    "Return-Path: <>\n"
    "Received: (qmail 12345 invoked for bounce); 17 Sep 2024 08:15:10 -0000\n"
    f"Date: 17 Sep 2024 08:15:10 -0000\n"
    "From: MAILER-DAEMON@mail.scholengroep-brabant.example\n"
    f"To: {US}\n"
    "Subject: failure notice\n\n"
    "Hi. This is the qmail-send program at mail.scholengroep-brabant.example.\n"
    "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
    "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
    "<lies.vermeulen@scholengroep-brabant.example>:\n"
    "Sorry, no mailbox here by that name. (#5.1.1)\n\n"
    "--- Below this line is a copy of the message.\n\n"
    + returned_copy(to="lies.vermeulen@scholengroep-brabant.example")
    + "\nDag Lies,\n\nUw aanmelding is goed ontvangen.\n"
)
AUTOMATIC["bounce_sendmail_dsn.eml"] = dsn(
    headers=(
        "Return-Path: <>\n"
        f"Date: {DATE}\n"
        "From: Mail Delivery Subsystem <MAILER-DAEMON@smtp.go-clb-vilvoorde.example>\n"
        f"To: <{US}>\n"
        "Message-Id: <202409170815.48H8FA1x012345@smtp.go-clb-vilvoorde.example>\n"
        "Subject: Returned mail: see transcript for details\n"
        "Auto-Submitted: auto-generated (failure)\n"
    ),
    boundary="48H8FA1x012345.1726560910/smtp.go-clb-vilvoorde.example",
    notice=(
        "The original message was received at Tue, 17 Sep 2024 10:15:02 +0200\n"
        "from mail.meldpunt-si.example [192.0.2.10]\n\n"
        "   ----- The following addresses had permanent fatal errors -----\n"
        "<tom.claes@go-clb-vilvoorde.example>\n"
        "    (reason: 550 5.1.1 User unknown)\n"
    ),
    status_fields=(
        "Reporting-MTA: dns; smtp.go-clb-vilvoorde.example\n"
        "Received-From-MTA: DNS; mail.meldpunt-si.example\n"
        f"Arrival-Date: {DATE}\n\n"
        "Final-Recipient: RFC822; tom.claes@go-clb-vilvoorde.example\n"
        "Action: failed\n"
        "Status: 5.1.1\n"
        "Diagnostic-Code: SMTP; 550 5.1.1 User unknown\n"
        f"Last-Attempt-Date: {DATE}\n"
    ),
    original=returned_copy(to="tom.claes@go-clb-vilvoorde.example"),
)
AUTOMATIC["bounce_plain_text_only.eml"] = (
    "From: Mail Administrator <admin@mail.oudprovider.example>\n"
    f"To: {US}\n"
    "Subject: Mail System Error - Returned Mail\n"
    f"Date: {DATE}\n"
    "Message-ID: <20240917081511.AB12@mail.oudprovider.example>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=us-ascii\n\n"
    "This Message was undeliverable due to the following reason:\n\n"
    "Unable to deliver message to the following address(es).\n\n"
    "<mieke.goossens@oudprovider.example>:\n"
    "Sorry, this mailbox is no longer in use.\n\n"
    "--- Original message follows.\n\n" + returned_copy(to="mieke.goossens@oudprovider.example")
)
AUTOMATIC["delivery_status_in_mixed.eml"] = (
    "From: Relay <relay@gateway.scholengroep-brabant.example>\n"
    f"To: {US}\n"
    "Subject: Aflevering mislukt\n"
    f"Date: {DATE}\n"
    "Message-ID: <relay-4821@gateway.scholengroep-brabant.example>\n"
    "MIME-Version: 1.0\n"
    'Content-Type: multipart/mixed; boundary="gw-4821"\n\n'
    "--gw-4821\nContent-Type: text/plain\n\nAflevering mislukt.\n\n"
    "--gw-4821\nContent-Type: message/delivery-status\n\n"
    "Reporting-MTA: dns; gateway.scholengroep-brabant.example\n\n"
    "Final-Recipient: rfc822; lies.vermeulen@scholengroep-brabant.example\n"
    "Action: failed\nStatus: 5.2.2\n\n"
    "--gw-4821--\n"
)
AUTOMATIC["read_receipt_mdn.eml"] = (
    "From: Els Janssens <els.janssens@clb-noordrand.example>\n"
    f"To: {US}\n"
    "Subject: Gelezen: Bevestiging aanmelding MSI-2024-0142\n"
    f"Date: {DATE}\n"
    "Message-ID: <AM9PR02MB7292READ0001@AM9PR02MB7292.eurprd02.prod.outlook.com>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=disposition-notification;\n"
    '\tboundary="mdn-b0undary"\n\n'
    "--mdn-b0undary\nContent-Type: text/plain; charset=utf-8\n\n"
    "Uw bericht werd gelezen op 17 september 2024 10:20.\n\n"
    "--mdn-b0undary\nContent-Type: message/disposition-notification\n\n"
    "Reporting-UA: AM9PR02MB7292.eurprd02.prod.outlook.com\n"
    "Final-Recipient: rfc822;els.janssens@clb-noordrand.example\n"
    f"Original-Message-ID: {OUR_ID}\n"
    "Disposition: manual-action/MDN-sent-manually; displayed\n\n"
    "--mdn-b0undary--\n"
)
AUTOMATIC["abuse_feedback_report.eml"] = (
    "From: Feedback Loop <fbl@isp.example>\n"
    f"To: abuse@{OUR}\n"
    "Subject: FW: Bevestiging aanmelding MSI-2024-0142\n"
    f"Date: {DATE}\n"
    "Message-ID: <fbl-88231@isp.example>\n"
    "MIME-Version: 1.0\n"
    'Content-Type: multipart/report; report-type=feedback-report; boundary="arf"\n\n'
    "--arf\nContent-Type: text/plain\n\nThis is an email abuse report.\n\n"
    "--arf\nContent-Type: message/feedback-report\n\n"
    "Feedback-Type: abuse\nUser-Agent: FBL/1.0\nVersion: 1\n\n"
    "--arf\nContent-Type: text/rfc822-headers\n\n" + returned_copy() + "\n--arf--\n"
)
AUTOMATIC["amazon_ses_bounce.eml"] = dsn(
    headers=(
        "Return-Path: <>\n"
        "From: MAILER-DAEMON@amazonses.example\n"
        f"To: {US}\n"
        "Subject: Delivery Status Notification (Failure)\n"
        f"Date: {DATE}\n"
        "Message-ID: <0102019201abcdef-1234-5678-9abc-def012345678-000000@eu-west-1.amazonses.example>\n"
    ),
    boundary="ses-0102019201abcdef",
    notice=(
        "An error occurred while trying to deliver the mail to the following recipients:\n"
        "bram.jacobs@clb-noordrand.example\n"
    ),
    status_fields=(
        "Reporting-MTA: dns; a4-1.smtp-out.eu-west-1.amazonses.example\n\n"
        "Final-Recipient: rfc822; bram.jacobs@clb-noordrand.example\n"
        "Action: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\n"
    ),
    original=returned_copy(to="bram.jacobs@clb-noordrand.example"),
)

# --- families that used to be answered (issue 11, point 15) -------------------------------------
# Each carries one signal only; the desk in the tests is configured as DESK (not meldpunt@).

DESK = f"aanmeldingen@{OUR}"

AUTOMATIC["x_auto_response_suppress_only.eml"] = person(
    sender="Zorgloket Jeugdhulp <zorgloket@jeugdhulp-aanbieder.example>",
    subject="[Ticket#20240917-0042] Ontvangen: Bevestiging aanmelding MSI-2024-0142",
    extra="X-Auto-Response-Suppress: All\n",
    message_id="<ticket.20240917-0042.1726560910@helpdesk.jeugdhulp-aanbieder.example>",
    body=(
        "Beste,\n\nWe hebben je bericht goed ontvangen. Je ticketnummer is 20240917-0042.\n"
        "Een medewerker neemt zo snel mogelijk contact op.\n\nHet Zorgloket\n"
    ),
)
AUTOMATIC["x_autogenerated.eml"] = person(
    sender="Lies Vermeulen <lies.vermeulen@scholengroep-brabant.example>",
    subject="Re: Bevestiging aanmelding MSI-2024-0142",
    extra="X-Autogenerated: Reply\n",
    message_id="<gw.4821.autoreply@mail.scholengroep-brabant.example>",
    body="Ik ben niet op kantoor tot 30 september. Je mail wordt niet doorgestuurd.\n",
)
AUTOMATIC["list_post_only.eml"] = person(
    sender="Jan De Smet <jan.desmet@go-clb-vilvoorde.example>",
    subject="[zorgcoordinatoren] Wie kent een time-outproject in Halle?",
    extra="List-Post: <mailto:zorgcoordinatoren@lists.scholengroep-brabant.example>\n",
    message_id="<list.20240917.77@go-clb-vilvoorde.example>",
    body="Dag collega's,\n\nWie heeft ervaring met een time-outproject in de regio Halle?\n\nJan\n",
)
AUTOMATIC["x_loop_configured_address.eml"] = person(
    sender="Ticketsysteem CLB <tickets@clb-noordrand.example>",
    subject="Fwd: Bevestiging aanmelding MSI-2024-0142",
    extra=f"X-Loop: {DESK}\n",
    message_id="<fwd.0142.3@tickets.clb-noordrand.example>",
    body="Doorgestuurd bericht van het Meldpunt (ons adres stond al in X-Loop).\n",
)
AUTOMATIC["microsoft_exchange_sender.eml"] = (
    "Received: from AM0PR02MB5555.eurprd02.prod.outlook.com ([fe80::1]) by\n"
    " AM0PR02MB5555.eurprd02.prod.outlook.com ([fe80::1%5]) with mapi id 15.20.7982.022;\n"
    f" {DATE}\n"
    "From: Microsoft Outlook\n"
    "\t<MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@vrijclb-leuven.example>\n"
    f"To: <{US}>\n"
    f"Date: {DATE}\n"
    "Subject: Wacht op goedkeuring: Bevestiging aanmelding MSI-2024-0142\n"
    "Message-ID: <7a2b3c4d-approval@AM0PR02MB5555.eurprd02.prod.outlook.com>\n"
    "Content-Language: nl-BE\n"
    "MIME-Version: 1.0\n"
    'Content-Type: text/plain; charset="utf-8"\n\n'
    "Je bericht aan Zorgteam VCLB Leuven wacht op goedkeuring van een moderator.\n"
    "Je krijgt bericht als het goedgekeurd of geweigerd wordt.\n"
)
# Bounces with no header signal: no Auto-Submitted, no Return-Path, a sender that is no known robot.
AUTOMATIC["bounce_global_dsn_in_mixed.eml"] = (
    "From: Relay <relay@gateway.scholengroep-brabant.example>\n"
    f"To: {US}\n"
    "Subject: Aflevering mislukt\n"
    f"Date: {DATE}\n"
    "Message-ID: <relay-4822@gateway.scholengroep-brabant.example>\n"
    "MIME-Version: 1.0\n"
    'Content-Type: multipart/mixed; boundary="gw-4822"\n\n'
    "--gw-4822\nContent-Type: text/plain; charset=utf-8\n\nAflevering mislukt.\n\n"
    "--gw-4822\nContent-Type: message/global-delivery-status\n\n"
    "Reporting-MTA: dns; gateway.scholengroep-brabant.example\n\n"
    "Final-Recipient: utf-8; zoë.peeters@scholengroep-brabant.example\n"
    "Action: failed\nStatus: 5.1.1\n\n"
    "--gw-4822--\n"
)
AUTOMATIC["bounce_report_plain_sender.eml"] = dsn(
    headers=(
        "From: Mail Delivery <relay@mx.basisschool-dewaaier.example>\n"
        f"To: {US}\n"
        "Subject: Delivery Status Notification\n"
        f"Date: {DATE}\n"
        "Message-ID: <dsn-551@mx.basisschool-dewaaier.example>\n"
    ),
    boundary="dsn-551-b",
    notice="Your message could not be delivered.\n",
    status_fields=(
        "Reporting-MTA: dns; mx.basisschool-dewaaier.example\n\n"
        "Final-Recipient: rfc822; directie@basisschool-dewaaier.example\n"
        "Action: failed\nStatus: 5.2.1\n"
    ),
    original=returned_copy(to="directie@basisschool-dewaaier.example"),
)
AUTOMATIC["bounce_empty_envelope_notice.eml"] = (
    "From: Mailsysteem <systeem@mail.go-clb-vilvoorde.example>\n"
    f"To: {US}\n"
    "Subject: Kennisgeving\n"
    f"Date: {DATE}\n"
    "Message-ID: <notice-7781@mail.go-clb-vilvoorde.example>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=utf-8\n\n"
    "Deze kennisgeving kwam binnen met MAIL FROM:<> (de test geeft envelope_from='<>').\n"
)
AUTOMATIC["bounce_mdaemon_plain.eml"] = (
    "From: MDaemon@mail.basisschool-dewaaier.example\n"
    f"To: {US}\n"
    "Subject: Permanent Delivery Failure\n"
    f"Date: {DATE}\n"
    "Message-ID: <MDAEMON-F202409171015.AA1502345md5001@mail.basisschool-dewaaier.example>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=us-ascii\n\n"
    "The attached message had PERMANENT fatal delivery errors!\n\n"
    "After one or more unsuccessful delivery attempts the attached message has\n"
    "been removed from the mail queue on this server. The number and frequency\n"
    "of delivery attempts are determined by local configuration parameters.\n\n"
    "YOUR MESSAGE WAS NOT DELIVERED TO ANY OF ITS RECIPIENTS!\n"
)
AUTOMATIC["bounce_dutch_mail_system.eml"] = (
    "From: Mail Delivery System <mail@smtp.telenet-zakelijk.example>\n"
    f"To: {US}\n"
    "Subject: Onbestelbaar: Bevestiging aanmelding MSI-2024-0142\n"
    f"Date: {DATE}\n"
    "Message-ID: <ndr.20240917.9911@smtp.telenet-zakelijk.example>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=utf-8\n\n"
    "Je bericht kon niet worden afgeleverd bij een of meer ontvangers.\n"
    "Reden: de mailbox is vol. Probeer het later opnieuw.\n"
)

# --- mails by people (must be answered) ----------------------------------------------------------

HUMAN["plain_question.eml"] = person()
HUMAN["auto_submitted_no.eml"] = person(
    subject="Aanmelding Lotte (3de leerjaar)",
    extra="Auto-Submitted: no\n",
    body="Dag Meldpunt,\n\nIk wil graag Lotte aanmelden voor een time-out traject.\n\nEls\n",
)
HUMAN["precedence_normal.eml"] = person(
    subject="Vraag over wachtlijst",
    extra="Precedence: normal\n",
    body="Hoe lang is de wachtlijst voor een schoolexterne interventie?\n",
)
HUMAN["reply_with_in_reply_to.eml"] = person(
    sender="An Peeters <an.peeters@vrijclb-leuven.example>",
    subject="Re: Bevestiging aanmelding MSI-2024-0142",
    extra=f"In-Reply-To: {OUR_ID}\nReferences: {OUR_ID}\n",
    message_id="<CAO9xq1w3kHc7ZpL0hV@mail.vrijclb-leuven.example>",
    body=(
        "Dag,\n\nBedankt. Nog een aanvulling: de ouders zijn akkoord.\n\nAn\n\n"
        "Op di 17 sep 2024 om 10:15 schreef Meldpunt SI <meldpunt@meldpunt-si.example>:\n"
        "> Dag An,\n> Uw aanmelding is goed ontvangen.\n"
    ),
)
HUMAN["outlook_with_suppress.eml"] = outlook_oof(
    "RE: Bevestiging aanmelding MSI-2024-0142",
    "Dag,\n\nIk stuur morgen het verslag van het MDO door.\n\nEls Janssens\nCLB-medewerker\n",
)
HUMAN["outlook_suppress_afwezigheid_subject.eml"] = outlook_oof(
    "Afwezigheid leerling: vraag om begeleiding",
    "Dag,\n\nEen leerling is al drie weken afwezig. Kunnen jullie helpen?\n\nEls\n",
)
HUMAN["outlook_suppress_question_about_autoreply.eml"] = outlook_oof(
    "Vraag: kan het automatisch antwoord uit?",
    "Dag,\n\nIk kreeg een automatisch antwoord: is mijn aanmelding nu binnen?\n\nEls\n",
)
HUMAN["html_only.eml"] = (
    "From: Bram Jacobs <bram.jacobs@clb-noordrand.example>\n"
    f"To: {US}\n"
    "Subject: Aanmelding leerling 2de middelbaar\n"
    f"Date: {DATE}\n"
    "Message-ID: <b7a3e9d2-1111-4c2b-9e0a-5d6f7a8b9c0d@clb-noordrand.example>\n"
    "MIME-Version: 1.0\n"
    'Content-Type: text/html; charset="utf-8"\n'
    "Content-Transfer-Encoding: quoted-printable\n\n"
    "<html><body><p>Dag,</p><p>Ik meld graag een leerling aan die dreigt uit te vallen=\n"
    " op school.</p><p>Groeten,<br>Bram</p></body></html>\n"
)
HUMAN["gmail_alternative.eml"] = (
    "Received: by mail-ed1-f48.google.example with SMTP id 4fb4d7f45d1cf-5c42e3d1234so567890a12.1\n"
    f"\tfor <{US}>; {DATE}\n"
    "From: Sofie Wouters <sofie.wouters@gmail.com>\n"
    f"Date: {DATE}\n"
    "Message-ID: <CAF8dCjR2mQ5n0=wH7kXy3pZtB4e@mail.gmail.com>\n"
    "Subject: Aanmelding via de school\n"
    f"To: {US}\n"
    "MIME-Version: 1.0\n"
    'Content-Type: multipart/alternative; boundary="000000000000b1c2d3062240e4b2"\n\n'
    "--000000000000b1c2d3062240e4b2\n"
    'Content-Type: text/plain; charset="UTF-8"\n\n'
    "Hallo, ik werk als zorgleerkracht en wil een leerling aanmelden. Sofie\n\n"
    "--000000000000b1c2d3062240e4b2\n"
    'Content-Type: text/html; charset="UTF-8"\n\n'
    '<div dir="ltr">Hallo, ik werk als zorgleerkracht en wil een leerling aanmelden. Sofie</div>\n\n'
    "--000000000000b1c2d3062240e4b2--\n"
)
HUMAN["with_pdf_attachment.eml"] = (
    "From: Karel Wouters <karel.wouters@clb-noordrand.example>\n"
    f"To: {US}\n"
    "Subject: Verslag MDO in bijlage\n"
    f"Date: {DATE}\n"
    "Message-ID: <9c8d7e6f-2222-4d3c-8b1a-6e7f8a9b0c1d@clb-noordrand.example>\n"
    "MIME-Version: 1.0\n"
    'Content-Type: multipart/mixed; boundary="=_att_9c8d"\n\n'
    "--=_att_9c8d\nContent-Type: text/plain; charset=utf-8\n\n"
    "Dag,\n\nIn bijlage het verslag van het MDO.\n\nKarel\n\n"
    '--=_att_9c8d\nContent-Type: application/pdf; name="verslag-mdo.pdf"\n'
    'Content-Disposition: attachment; filename="verslag-mdo.pdf"\n'
    "Content-Transfer-Encoding: base64\n\n"
    "JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCg==\n\n"
    "--=_att_9c8d--\n"
)
HUMAN["forwarded_by_colleague.eml"] = person(
    sender="Tom Claes <tom.claes@go-clb-vilvoorde.example>",
    subject="Fwd: vraag van de school",
    body=(
        "Dag Meldpunt,\n\nHieronder de vraag van de school. Kunnen jullie dit opnemen?\n\nTom\n\n"
        "---------- Forwarded message ---------\n"
        "Van: Directie <directie@basisschool-dewaaier.example>\n"
        "Onderwerp: vraag van de school\n\n"
        "Wij zoeken ondersteuning voor een leerling met veel conflicten.\n"
    ),
)
HUMAN["encoded_display_name_with_comma.eml"] = person(
    sender="=?utf-8?q?Peeters=2C_An?= <an.peeters@vrijclb-leuven.example>",
    subject="=?utf-8?q?Aanmelding_na_overleg_met_co=C3=B6rdinator?=",
    body="Dag,\n\nNa overleg met de coördinator meld ik deze leerling aan.\n\nAn\n",
)
HUMAN["quoted_printable_accents.eml"] = (
    "From: =?iso-8859-1?q?J=E9r=F4me_Dubois?= <jerome.dubois@clb-noordrand.example>\n"
    f"To: {US}\n"
    "Subject: =?iso-8859-1?q?Caf=E9gesprek_ouders_en_aanmelding?=\n"
    f"Date: {DATE}\n"
    "Message-ID: <jd-20240917-01@clb-noordrand.example>\n"
    "MIME-Version: 1.0\n"
    'Content-Type: text/plain; charset="iso-8859-1"\n'
    "Content-Transfer-Encoding: quoted-printable\n\n"
    "Dag,\n\nNa het caf=E9gesprek met de ouders wil ik graag een aanmelding doen.=\n"
    " De co=F6rdinator is op de hoogte.\n\nJ=E9r=F4me\n"
)
HUMAN["iphone_mail.eml"] = (
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "Mime-Version: 1.0 (1.0)\n"
    "Subject: Korte vraag\n"
    f"Date: {DATE}\n"
    "Message-Id: <A7F3B2C1-9D8E-4F6A-B5C4-D3E2F1A0B9C8@clb-noordrand.example>\n"
    "To: meldpunt@meldpunt-si.example\n"
    "From: Lies Vermeulen <lies.vermeulen@clb-noordrand.example>\n"
    "X-Mailer: iPhone Mail (21G93)\n\n"
    "Mag ik morgen bellen over de aanmelding van vorige week?\n\nVerstuurd vanaf mijn iPhone\n"
)
HUMAN["surname_looks_like_bounce.eml"] = person(
    sender="Jan Bouncken <jan.bouncken@clb-noordrand.example>",
    subject="Aanmelding",
    body="Dag, ik meld een leerling aan. Jan\n",
)
HUMAN["local_part_noreen.eml"] = person(
    sender="Noreen Reply <noreen.reply@clb-noordrand.example>",
    subject="Vraag",
    body="Hoe verloopt een intake?\n",
)
HUMAN["return_path_person.eml"] = person(
    extra="Return-Path: <els.janssens@clb-noordrand.example>\n",
    subject="Vraag over time-out",
)
HUMAN["reply_to_other_address.eml"] = person(
    sender="Katrien Maes <katrien.maes@clb-noordrand.example>",
    subject="Aanmelding: graag antwoord naar het teamadres",
    extra="Reply-To: team-noord@clb-noordrand.example\n",
    body="Dag, wil je antwoorden naar het teamadres? Dank, Katrien\n",
)
HUMAN["subject_mentions_out_of_office_no_suppress.eml"] = person(
    subject="Re: Out of office: mijn collega is terug",
    body="Mijn collega is terug van verlof, u kan haar weer mailen.\n",
)
HUMAN["outlook_desktop_thread.eml"] = (
    "From: Tom Claes <tom.claes@go-clb-vilvoorde.example>\n"
    f"To: 'Meldpunt SI' <{US}>\n"
    "Subject: RE: vraag van de school\n"
    f"Date: {DATE}\n"
    "Message-ID: <000001db08d9$7a6b5c40$6f4214c0$@go-clb-vilvoorde.example>\n"
    f"In-Reply-To: {OUR_ID_3}\n"
    "MIME-Version: 1.0\n"
    "X-Mailer: Microsoft Outlook 16.0\n"
    "Thread-Index: AQHbCNo3k2l0f9bS2EuXU2Wk1d6bVLKx\n"
    "Content-Language: nl-be\n"
    "X-Auto-Response-Suppress: DR, OOF, AutoReply\n"
    'Content-Type: text/plain; charset="us-ascii"\n\n'
    "Dag,\n\nDe school is akkoord met het voorstel.\n\nTom\n"
)

# Look-alikes of the point-15 families that people do send.
HUMAN["general_mailbox_named_mail.eml"] = person(
    sender="CLB Halle <mail@vrijclbhalle.example>",
    subject="Vraag over een leerling",
    body="Dag,\n\nKunnen jullie ons helpen met een leerling van 15 die al weken spijbelt?\n\nHet onthaal\n",
)
HUMAN["question_about_undeliverable_mail.eml"] = person(
    subject="Mijn mail kon niet worden afgeleverd",
    body=(
        "Dag,\n\nMijn mail aan de school kon niet worden afgeleverd (onbestelbaar, zegt Outlook).\n"
        "Hebben jullie een ander adres van de directie?\n\nEls\n"
    ),
)


def write(directory: Path, mails: dict[str, str]) -> None:
    """Replace the .eml files of one corpus directory."""
    directory.mkdir(exist_ok=True)
    for old in directory.glob("*.eml"):
        old.unlink()
    for name, text in mails.items():
        (directory / name).write_text(text, encoding="utf-8", newline="\n")


if __name__ == "__main__":
    write(HERE / "automatic", AUTOMATIC)
    write(HERE / "human", HUMAN)
    print(f"{len(AUTOMATIC)} automatic, {len(HUMAN)} human")
