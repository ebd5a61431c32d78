"""Every parser that reads mail or chat text costs time linear in its input, also when the input is hostile.

Issue 10: one quadratic regex froze SMTP, Telegram and the outbox for 44 s (a C regex holds the GIL, so
a parser in a worker thread still stops the event loop). Each case feeds one parser 1 MB of the worst
pattern for it and compares its CPU cost (time.process_time) with 100 KB of the same pattern measured in
the same test: linear gives about 10x, quadratic about 100x. A generous absolute bound stops a
super-linear parser from hanging the run: the CPU guard interrupts it.
"""

from __future__ import annotations

import gc
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from functools import partial
from types import FrameType
from typing import Any, cast

import pytest

from intake.actions import parse_actions
from intake.answers import parse_answer
from intake.freetext import read_question
from intake.offer_update import parse_offer_mail
from mail.authentication import authentication_verdict
from mail.body import html_to_text, strip_history, unquote
from mail.form import parse_form
from mail.offer_mail import looks_like_offer_update
from mail.safety import automatic_reason
from tests.mail_harness import shared_intake

TODAY = date(2026, 11, 18)
SMALL, LARGE = 100_000, 1_000_000
MAX_RATIO = 30  # linear is ~10; quadratic ~100
MAX_CPU = 5.0  # seconds for 1 MB; the quadratic versions took tens of seconds on 300 KB
FLOOR = 0.005  # seconds: the least 100 KB is taken to cost


class CpuBudgetExceeded(BaseException):
    """The parser used more CPU than the guard allows: not an Exception, so no parser's fallback swallows it."""


@contextmanager
def cpu_guard(seconds: float) -> Iterator[None]:
    """Interrupt the block after this much process CPU time (SIGPROF; a running regex checks signals too)."""
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise CpuBudgetExceeded(f"more than {seconds} s of CPU")

    previous = signal.signal(signal.SIGPROF, interrupt)
    signal.setitimer(signal.ITIMER_PROF, seconds, 1.0)  # and again every second, should it be caught anyway
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def cpu_cost(parse: Callable[[Any], object], subject: Any) -> float:
    """CPU seconds of one call, without the garbage collector's pauses (as timeit measures)."""
    gc.collect()
    gc.disable()
    try:
        started = time.process_time()
        parse(subject)
        return time.process_time() - started
    finally:
        gc.enable()


def assert_linear(parse: Callable[[Any], object], make: Callable[[int], Any]) -> None:
    """1 MB costs at most MAX_RATIO times 100 KB of the same pattern, and less than MAX_CPU seconds."""
    small_input, large_input = make(SMALL), make(LARGE)
    # The least of three runs of each: a neighbour on a busy machine evicts the caches or forces page faults
    # during one run (a 1 MB run once cost 0.2 s of CPU on a loaded CI machine, its repeats far less).
    with cpu_guard(MAX_CPU * 4):
        small = min(cpu_cost(parse, small_input) for _ in range(3))
        large = cpu_cost(parse, large_input)
        if large / max(small, FLOOR) >= MAX_RATIO or large >= MAX_CPU:
            large = min([large] + [cpu_cost(parse, large_input) for _ in range(2)])
    # A floor of 5 ms for very fast parsers: below it timer noise and the memory hierarchy (a 1 MB regex
    # stack leaves the CPU caches) move the ratio more than the algorithm does. A quadratic parser costs
    # far more than 5 ms on 100 KB, so the floor hides none.
    ratio = large / max(small, FLOOR)
    assert large < MAX_CPU, f"1 MB took {large:.2f} s of CPU"
    assert ratio < MAX_RATIO, f"1 MB cost {ratio:.0f}x 100 KB ({large:.3f} s vs {small:.4f} s)"


def repeat(unit: str, size: int, *, head: str = "", tail: str = "") -> str:
    """head, then unit repeated until about size characters, then tail."""
    return head + unit * max(1, size // len(unit)) + tail


# --- the parsers, as the processor and the chat call them ---------------------------------------------


def form(text: str) -> object:
    """A filled-in referral form."""
    return parse_form(text, shared_intake().questionnaire, today=TODAY)


def offer(text: str) -> object:
    """A provider's offer update, for the first service."""
    return parse_offer_mail(text, shared_intake().catalogue.services[:1])


def question(text: str) -> object:
    """A free question's facts."""
    return read_question(text, today=TODAY)


def answer(question_id: str) -> Callable[[str], object]:
    """One typed answer to this question, as the chat and the form read it."""
    asked = shared_intake().questionnaire.get(question_id)
    return lambda text: parse_answer(asked, text, today=TODAY)


def mail_with(header: str, value: str) -> EmailMessage:
    """A parsed mail from Els with one more header."""
    raw = f"From: Els <els@clb.example>\r\nTo: meldpunt@meldpunt.example\r\n{header}: {value}\r\n\r\nDag\r\n"
    return cast(EmailMessage, message_from_bytes(raw.encode(), policy=default))


CASES = [
    # mail/body.py: quoted history, signatures, attributions (the 438 KB / 256 KB findings)
    pytest.param(strip_history, lambda n: repeat("schreef 12:00 ", n, head="op "), id="history-one-attribution-line"),
    pytest.param(strip_history, lambda n: repeat("op " + "schreef 10:00 " * 40 + "\n", n), id="history-attribution-lines"),
    pytest.param(strip_history, lambda n: repeat(" ", n, head="op 12:00 ", tail="x"), id="history-spaces"),
    pytest.param(strip_history, lambda n: repeat(">", n), id="history-quote-markers"),
    pytest.param(strip_history, lambda n: repeat("Van: x\n", n), id="history-header-blocks"),
    pytest.param(strip_history, lambda n: repeat("-", n, head="--", tail=" origineel bericht"), id="history-dashes"),
    pytest.param(strip_history, lambda n: repeat("\n", n, head="x"), id="history-blank-lines"),
    pytest.param(unquote, lambda n: repeat("> ", n), id="unquote-markers"),
    pytest.param(unquote, lambda n: repeat(" ", n, tail="x"), id="unquote-spaces"),
    # mail/body.py: HTML bodies
    pytest.param(html_to_text, lambda n: repeat("\n", n), id="html-newlines"),
    pytest.param(html_to_text, lambda n: repeat("\n1. ", n), id="html-numbered-lines"),
    pytest.param(html_to_text, lambda n: repeat("<a", n), id="html-unclosed-tags"),
    pytest.param(html_to_text, lambda n: repeat("<!--", n), id="html-unclosed-comments"),
    pytest.param(html_to_text, lambda n: repeat("<?", n), id="html-processing-instructions"),
    pytest.param(html_to_text, lambda n: repeat("<!", n), id="html-declarations"),
    pytest.param(html_to_text, lambda n: repeat("<", n), id="html-lone-brackets"),
    pytest.param(html_to_text, lambda n: repeat("<ul><li>x", n), id="html-nested-lists"),
    pytest.param(html_to_text, lambda n: repeat("<blockquote>x<br>", n), id="html-nested-quotes"),
    pytest.param(html_to_text, lambda n: repeat('<a title="', n), id="html-unclosed-quotes"),
    pytest.param(html_to_text, lambda n: repeat("'x' ", n, head="<p ", tail=">"), id="html-many-quoted-attributes"),
    pytest.param(html_to_text, lambda n: repeat("&amp;", n), id="html-entities"),
    pytest.param(html_to_text, lambda n: repeat("<p>x</p>", n), id="html-paragraphs"),
    pytest.param(html_to_text, lambda n: repeat("<td>x</td>", n, head="<table><tr>"), id="html-cells"),
    pytest.param(html_to_text, lambda n: repeat("a{b:c}", n, head="<style>"), id="html-unclosed-style"),
    # mail/form.py: the referral form (the 320 KB answer finding)
    pytest.param(form, lambda n: repeat("1, ", n, head="Probleemgebieden: "), id="form-many-choices"),
    pytest.param(form, lambda n: repeat("spijbelen ", n, head="Probleemgebieden: "), id="form-choice-words"),
    pytest.param(form, lambda n: repeat(" ", n, head="Probleemgebieden: 1", tail="x"), id="form-choice-spaces"),
    pytest.param(form, lambda n: repeat("Naam aanmelder: Els\n", n), id="form-label-lines"),
    pytest.param(form, lambda n: repeat("meer tekst\n", n, head="Hulpvraag: x\n"), id="form-long-answer"),
    pytest.param(form, lambda n: repeat("> ", n, tail="Naam aanmelder: Els"), id="form-quote-markers"),
    pytest.param(form, lambda n: repeat(" ", n, head="Naam aanmelder:", tail="x"), id="form-label-spaces"),
    pytest.param(form, lambda n: "x" * n, id="form-one-line"),
    # intake/answers.py: one typed answer (chat and form)
    pytest.param(answer("problem_areas"), lambda n: repeat(" ", n, head="1", tail="x"), id="answer-choice-spaces"),
    pytest.param(answer("problem_areas"), lambda n: repeat(" , ", n), id="answer-separators"),
    pytest.param(answer("referrer_email"), lambda n: repeat("a.", n, head="a@", tail="!"), id="answer-email-dots"),
    pytest.param(answer("referrer_phone"), lambda n: repeat(" ", n, head="0", tail="x"), id="answer-phone"),
    pytest.param(answer("help_request"), lambda n: repeat("tekst ", n), id="answer-text"),
    # intake/actions.py: decisions and feedback lines
    pytest.param(partial(parse_actions, today=date(2026, 11, 18)), lambda n: repeat(" ", n, head="MSI-2026-0001: ", tail="x"), id="actions-spaces"),
    pytest.param(partial(parse_actions, today=date(2026, 11, 18)), lambda n: repeat("MSI-2026-0001: ronde tafel 1/1/2027\n", n), id="actions-lines"),
    pytest.param(partial(parse_actions, today=date(2026, 11, 18)), lambda n: repeat(">", n, tail="MSI-2026-0001: aanvaard"), id="actions-quote-markers"),
    pytest.param(partial(parse_actions, today=date(2026, 11, 18)), lambda n: repeat("=", n, head="MSI-2026-0001: corrigeer x "), id="actions-correction"),
    # intake/freetext.py: a free question
    pytest.param(question, lambda n: repeat("1 jaar ", n), id="question-ages"),
    pytest.param(question, lambda n: repeat("postcode ", n), id="question-postcode-words"),
    pytest.param(question, lambda n: repeat(" ", n, head="postcode", tail="x"), id="question-postcode-spaces"),
    pytest.param(question, lambda n: repeat("1500 halle ", n), id="question-places"),
    # intake/offer_update.py and mail/offer_mail.py: a provider's offer update
    pytest.param(offer, lambda n: repeat(".a", n, head="Website: http://", tail=" x"), id="offer-website-dots"),
    pytest.param(offer, lambda n: repeat("meer\n", n, head="Beschrijving: x\n"), id="offer-long-description"),
    pytest.param(offer, lambda n: repeat("spijbelen, ", n, head="Probleemgebieden: "), id="offer-choices"),
    pytest.param(offer, lambda n: repeat(" ", n, head="Probleemgebieden: spijbelen", tail="x"), id="offer-choice-spaces"),
    pytest.param(offer, lambda n: repeat("Dienst: x\n", n), id="offer-sections"),
    pytest.param(looks_like_offer_update, lambda n: repeat("Vrije plaatsen: 3\n", n), id="offer-detect"),
    # mail/safety.py: sender checks on a parsed mail
    pytest.param(
        lambda m: authentication_verdict(m, trusted_authserv_id="mx.meldpunt.example"),
        lambda n: mail_with("Authentication-Results", repeat(" ", n, head="mx.meldpunt.example; dmarc=pass", tail="x")),
        id="safety-authentication-spaces",
    ),
    pytest.param(
        lambda envelope: automatic_reason(mail_with("X-Test", "1"), envelope_from=envelope, our_domain="meldpunt.example"),
        lambda n: repeat(" ", n, tail="x"),
        id="safety-envelope-spaces",
    ),
]


@pytest.mark.parametrize(("parse", "make"), CASES)
def test_parser_cost_is_linear_on_hostile_input(parse: Callable[[Any], object], make: Callable[[int], Any]) -> None:
    """1 MB of the worst pattern for this parser costs about ten times 100 KB, not a hundred."""
    assert_linear(parse, make)
