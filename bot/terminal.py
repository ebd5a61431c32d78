"""Terminal chat: the intake engine on standard input and output, for trying it and for scripts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TextIO

from desk.workflow import Channel, IntakeWorkflow, Turn
from intake.clock import Clock
from intake.messages import Inbound, OutKind, last_seen
from intake.texts import render
from intake.vocabulary import Mode
from store.models import Staff

_ENDING = {OutKind.DONE, OutKind.CANCELLED, OutKind.PAUSED}


def _lines(stdin: TextIO, stdout: TextIO, interactive: bool) -> Iterator[str]:
    """Read answers one line at a time; a prompt only when a person is typing."""
    while True:
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = stdin.readline()
        if not line:
            return
        yield line.rstrip("\n")


def _show(turn: Turn, stdout: TextIO) -> None:
    stdout.writelines(outbound.text + "\n\n" for outbound in turn.outbounds)
    stdout.flush()


def run_chat(
    workflow: IntakeWorkflow, staff: Staff, *, mode: Mode, details: str | None,
    clock: Clock, stdin: TextIO, stdout: TextIO,
) -> int:
    """Run one conversation until it is submitted, cancelled, paused or input ends."""
    if details:
        turn = workflow.open_details(channel=Channel.TERMINAL, external_id=staff.email, staff=staff, reference=details, now=clock())
    else:
        turn = workflow.open(channel=Channel.TERMINAL, external_id=staff.email, staff=staff, mode=mode, now=clock())
    _show(turn, stdout)
    # Another window (a second `meldpunt chat`) may move the same conversation on: an answer counts only
    # for the question this window showed.
    seen = last_seen(turn.outbounds)
    for line in _lines(stdin, stdout, stdin.isatty()):
        inbound = Inbound.from_text(line, seen=seen)
        turn = workflow.handle(channel=Channel.TERMINAL, external_id=staff.email, inbound=inbound, now=clock())
        _show(turn, stdout)
        seen = last_seen(turn.outbounds) or seen
        if any(o.kind in _ENDING for o in turn.outbounds):
            return 0
    stdout.write(render("dialogue/paused.txt.j2") + "\n")
    return 0
