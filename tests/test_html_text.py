"""HTML mail bodies read as the form parser needs them (mail/html_text.py, which replaced html2text)."""

from __future__ import annotations

from datetime import date
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import cast

from mail.body import body_text, html_to_text
from mail.form import parse_form
from tests.mail_harness import shared_intake

TODAY = date(2026, 11, 18)


def html_mail(markup: str) -> EmailMessage:
    """A mail whose only body is this HTML."""
    raw = "From: els@clb.example\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + markup
    return cast(EmailMessage, message_from_bytes(raw.encode(), policy=default))


def test_outlook_paragraphs_are_lines_and_empty_paragraphs_blank_lines() -> None:
    """Outlook writes every line as a paragraph; &nbsp; paragraphs are the blank lines between."""
    markup = (
        "<html><head><style>p.MsoNormal {margin:0cm}</style><title>Re: formulier</title></head><body>"
        "<p class=MsoNormal>Dag,<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>"
        "<p class=MsoNormal>Naam aanmelder: <span style='color:red'>Els</span> Janssens<o:p></o:p></p>"
        "<!--[if !supportLists]--><p class=MsoNormal>Voornaam leerling: Zoë</p><!--[endif]-->"
        "</body></html>"
    )
    assert body_text(html_mail(markup)) == "Dag,\n\nNaam aanmelder: Els Janssens\nVoornaam leerling: Zoë"


def test_gmail_quoted_history_is_marked_and_left_out() -> None:
    """The blockquote of a Gmail reply becomes '>' lines, which the body text leaves out."""
    markup = (
        '<div dir="ltr"><div>Voornaam leerling: Zoë</div><div><br></div><div>Groeten</div></div><br>'
        '<div class="gmail_quote"><div class="gmail_attr">Op ma 16 nov. 2026 om 10:02 schreef Meldpunt '
        '&lt;<a href="mailto:meldpunt@x.example">meldpunt@x.example</a>&gt;:<br></div>'
        '<blockquote class="gmail_quote">Voornaam leerling: <br>Achternaam leerling: Peeters<br></blockquote></div>'
    )
    text = html_to_text(markup)
    assert "> Achternaam leerling: Peeters" in text.splitlines()
    assert "Op ma 16 nov. 2026 om 10:02 schreef Meldpunt <meldpunt@x.example>:" in text.splitlines()
    assert body_text(html_mail(markup)) == "Voornaam leerling: Zoë\n\nGroeten"


def test_a_form_in_a_table_or_a_list_is_read() -> None:
    """Cells of a row are one line, list items get a bullet the form parser skips."""
    markup = (
        "<table><tr><td>Naam aanmelder:</td><td>Els Janssens</td></tr>"
        "<tr><th>Voornaam leerling:</th><td>Zo&euml;</td></tr></table>"
        "<ul><li>Achternaam leerling: Peeters</li><li>Postcode school: 1502</li></ul>"
    )
    text = html_to_text(markup)
    assert text.splitlines()[:3] == ["Naam aanmelder: Els Janssens", "Voornaam leerling: Zoë", "* Achternaam leerling: Peeters"]
    found = parse_form(text, shared_intake().questionnaire, today=TODAY).answers
    assert found["referrer_name"] == "Els Janssens" and found["pupil_last_name"] == "Peeters"
    assert found["school_postcode"] == "1502"


def test_scripts_comments_and_broken_markup_hide_no_text_before_them() -> None:
    """Text outside tags is kept; scripts, comments and a tag cut off at the end show nothing."""
    markup = (
        "Hallo <b>Els</b><script>var x = '<p>niet tonen</p>';</script> "
        '<a title="a > b">link</a> en <!-- commentaar --> meer<br>tot <i'
    )
    assert html_to_text(markup) == "Hallo Els link en meer\ntot"


def test_preformatted_text_keeps_its_lines() -> None:
    """In <pre> the line breaks of the text stay."""
    assert html_to_text("<pre>Naam aanmelder: Els\nVoornaam leerling: Zoë</pre>na") == (
        "Naam aanmelder: Els\nVoornaam leerling: Zoë\nna"
    )
