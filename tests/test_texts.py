"""Texts: mail templates give a subject, plain text and an escaped HTML alternative."""

from __future__ import annotations

from intake.texts import compose_mail


def test_html_alternative_escapes_what_a_sender_wrote() -> None:
    mail = compose_mail("mail/unknown_sender.txt.j2", subject_of_mail='Hulp <script>alert("x")</script>')
    assert mail.subject == 'Re: Hulp <script>alert("x")</script>'  # a header is not HTML
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert "Aanmeldingen bij het Meldpunt" in mail.text and "Aanmeldingen bij het Meldpunt" in mail.html


def test_html_keeps_the_form_lines_apart() -> None:
    mail = compose_mail("mail/form_request.txt.j2", form="Naam aanmelder: \n  ↳ Je voor- en achternaam")
    assert "Naam aanmelder: <br>" in mail.html and "\u00a0\u00a0↳ Je voor- en achternaam" in mail.html
