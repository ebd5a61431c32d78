"""What a staff member's mail asks for, when it is no form: the blank form, a question, or nothing readable.

Kept simple so it can be explained to the desk: a sentence asks something when it has at least three real
words and ends with a question mark, starts with a question word, or asks for advice or help. A sentence
that names the form asks for the form, and the form's own text answers it (fill in, reply to this mail).
Every step is one pass over the text.
"""

from __future__ import annotations

import re

from intake.answers import fold

# "Re:", "Antw:", "AW:", "SV:": a reply's subject repeats the subject of the mail it answers (often ours).
REPLY_PREFIX = re.compile(r"^(\s*(re|antw|aw|sv)\s*:\s*)+", re.IGNORECASE)
FORM_WORD = "formulier"
_REAL_WORDS = 3
# Where a request for the form is looked for, as before: the subject and the start of the text.
_FORM_REQUEST_CHARS = 200
# Only the start is read: a question is asked near the top, and a pasted megabyte needs no scan.
_QUESTION_CHARS = 5000
_QUESTION_WORDS = frozenset(
    {
        "wat", "wie", "waar", "wanneer", "waarom", "hoe", "welk", "welke", "hoeveel", "hoelang", "waarmee",
        "kan", "kun", "kunt", "kunnen", "mag", "mogen", "moet", "moeten", "zou", "zouden", "is", "zijn",
        "heeft", "hebben", "weet", "weten", "bestaat", "bestaan",
    }
)
_REQUEST_WORDS = frozenset({"vraag", "vragen", "advies", "hulp", "help", "helpen", "raad"})
_SENTENCE = re.compile(r"[^.?!]+[.?!]*")
_VOWELS = frozenset("aeiouy")


def _real_words(sentence: str) -> list[str]:
    """Words of letters only with a vowel ("zxcvb" and "02" are none), folded, punctuation stripped."""
    words = (word.strip(".,;:!?()\"'«»-–") for word in sentence.split())
    return [word for word in words if len(word) > 1 and word.isalpha() and not _VOWELS.isdisjoint(word)]


def _sentences(subject: str, text: str) -> list[str]:
    """The subject (without reply prefixes) and the text's sentences, lines of a paragraph joined, folded."""
    paragraphs = [" ".join(block.split()) for block in text[:_QUESTION_CHARS].split("\n\n")]
    found = [fold(REPLY_PREFIX.sub("", subject))]
    for paragraph in paragraphs:
        found.extend(match.group(0).strip() for match in _SENTENCE.finditer(fold(paragraph)))
    return [sentence for sentence in found if sentence]


def _asks(sentence: str, words: list[str]) -> bool:
    """Whether one sentence of enough real words, not about the form, is a question or asks advice or help."""
    if len(words) < _REAL_WORDS or FORM_WORD in sentence:
        return False
    return sentence.endswith("?") or words[0] in _QUESTION_WORDS or not _REQUEST_WORDS.isdisjoint(words)


def asks_question(subject: str, text: str) -> bool:
    """Whether the subject or a sentence of the text asks something besides the form."""
    return any(_asks(sentence, _real_words(sentence)) for sentence in _sentences(subject, text))


def asks_for_form(subject: str, text: str) -> bool:
    """Whether the mail names the form in its subject (not a reply's) or in its first lines."""
    in_subject = FORM_WORD in fold(subject) and not REPLY_PREFIX.match(subject)
    return in_subject or FORM_WORD in fold(text[:_FORM_REQUEST_CHARS])
