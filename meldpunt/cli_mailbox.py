"""`meldpunt mail` and `meldpunt questions`: mail in quarantine, and questions waiting for the coordinator."""

from __future__ import annotations

import click

from meldpunt.cli_common import app_of


@click.group("mail")
def mail_group() -> None:
    """De mailbox van het Meldpunt."""


@mail_group.command("quarantine")
@click.pass_context
def mail_quarantine(ctx: click.Context) -> None:
    """Toon de mails in quarantaine, met de reden."""
    from intake.texts import message, render
    from meldpunt.actor import cli_actor
    from meldpunt.app import utc_now
    from store.audit import AuditChannel, AuditPurpose, Viewer, record_view
    from store.inbound import quarantined

    with app_of(ctx).sessions.begin() as session:
        rows = quarantined(session)
        viewer, now = Viewer(cli_actor(), AuditChannel.CLI, AuditPurpose.QUARANTINE), utc_now()
        for row in rows:  # the sender's address is shown (a parent's, perhaps)
            record_view(session, viewer, seen=f"afzender van mail {row.id}", now=now)
        click.echo(render("cli/quarantine.txt.j2", rows=rows) if rows else message("quarantine_empty"))


@click.group("questions")
def questions_group() -> None:
    """Vragen die aan de coördinator zijn voorgelegd."""


@questions_group.command("list")
@click.pass_context
def questions_list(ctx: click.Context) -> None:
    """Toon de open vragen."""
    from intake.texts import message, render
    from meldpunt.actor import cli_actor
    from meldpunt.app import utc_now
    from store.audit import AuditChannel, AuditPurpose, Viewer, record_questions_view
    from store.questions import open_questions
    from store.views import CHANNEL_LABELS

    with app_of(ctx).sessions.begin() as session:
        rows = open_questions(session)
        # The texts may name a pupil, the addresses are the askers': who saw which question is recorded.
        record_questions_view(session, Viewer(cli_actor(), AuditChannel.CLI, AuditPurpose.QUESTION), rows, now=utc_now())
        click.echo(render("cli/questions.txt.j2", rows=rows, channels=CHANNEL_LABELS) if rows else message("questions_none"))


@questions_group.command("answer")
@click.argument("number", type=int)
@click.argument("answer")
@click.pass_context
def questions_answer(ctx: click.Context, number: int, answer: str) -> None:
    """Beantwoord vraag NUMMER; het antwoord gaat per mail naar wie de vraag stelde."""
    import asyncio

    from desk.question_answers import answer_question
    from intake.texts import message
    from meldpunt.actor import cli_actor
    from meldpunt.app import utc_now

    app = app_of(ctx)
    with app.sessions.begin() as session:
        # The command line reaches no chat: the answer goes by mail (desk/question_answers.py, as the chat and mail do).
        relayed = answer_question(session, number, answer, by=cli_actor(), now=utc_now(), chat_reachable=False,
                                  relay_by_mail=lambda s, q, a, by, now: app.processor.relay_answer(s, q, answer=a, by=by, now=now))
        if relayed is None:
            raise click.ClickException(message("question_unknown", number=number))
        asker = relayed.question.asker_email
    asyncio.run(app.outbox.drain())
    click.echo(message("question_answered", number=number, asker=asker))
