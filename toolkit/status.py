"""What a status cell means: the vocabulary, yes/no answers, and narrative text read with care.

Offices write status three ways: a word from a vocabulary (已完成, 进行中, 待定 …), the answer in a yes/no
column (是否完成: 是/否, √/×), or a sentence (整改完成情况: "一是……二是……已全部完成"). A sentence counts as
completed only when it says so and nothing in it says otherwise; every other sentence is not completed
(never guessed), and the reader keeps what it read so validation can say so on the cell (an info finding).
The words are data in toolkit.config; the reader judges each distinct cell value once (toolkit.model.Memo).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from toolkit.config import (
    NARRATIVE_DONE,
    NARRATIVE_DOUBT,
    NARRATIVE_MIN_CHARS,
    NO_STATUS,
    NO_WORDS,
    YES_STATUS,
    YES_STATUS_BY_HEADER,
    YES_WORDS,
    Config,
    normalize_text,
)

STATUS_FIELD = "status"
# with no status column, the status is read from this column's text the way a narrative is
FALLBACK_FIELD = "progress"

_YES = frozenset(w.upper() for w in YES_WORDS)
_NO = frozenset(w.upper() for w in NO_WORDS)
_SENTENCE = re.compile("[，,。；;：:！!、]")
# a done phrase counts where it ends a clause: "已完成前期调研" and "已完成3项" are no completion
_DONE = re.compile(
    "(?:"
    + "|".join(map(re.escape, sorted(NARRATIVE_DONE, key=len, reverse=True)))
    + ")了?(?=[，,。；;！!）)]|$)"
)
_CJK = re.compile("[\u4e00-\u9fff]")
_DOUBT = re.compile("|".join(map(re.escape, NARRATIVE_DOUBT)))


@dataclass(frozen=True, slots=True)
class StatusReading:
    """How a narrative cell was read: the status given and the words it rests on."""

    status: str
    done_phrase: str = ""  # the phrase that says completed ("已全部完成"), when read as completed
    doubt: str = ""  # the word that keeps it from counting as completed ("正在"), if any


def status_field(columns: Collection[str]) -> str | None:
    """The column statuses are read from: the status column, else the progress text, else none."""
    if STATUS_FIELD in columns:
        return STATUS_FIELD
    if FALLBACK_FIELD in columns:
        return FALLBACK_FIELD
    return None


def read_narrative(text: str) -> StatusReading:
    """A sentence's status: completed only when a done phrase ends a clause and no word casts doubt."""
    folded = normalize_text(text)
    doubt = _DOUBT.search(folded)
    done = _DONE.search(folded)
    if done is not None and doubt is None:
        return StatusReading(YES_STATUS, done_phrase=done.group().removesuffix("了"))
    return StatusReading(NO_STATUS, doubt=doubt.group() if doubt else "")


class StatusReader:
    """Judge of one column's cells (called once per distinct value): a status id or None.

    ``narratives`` collects, by the cell's stripped text, the cells that were read as sentences.
    In the fallback column (progress) every text that is no status word is read as a sentence;
    in the status column only long text or text with sentence punctuation is, and a short unknown
    word stays unknown (an error the clerk can fix: "已完城").
    """

    def __init__(
        self,
        config: Config,
        header: str = "",
        *,
        fallback: bool = False,
        skip: Collection[str] = (),
        to_text: Callable[[object], str] = str,
    ) -> None:
        self.config = config
        self.to_text = to_text  # a number or date cell as the clerk sees it
        self.fallback = fallback
        self.skip = skip  # error tokens (#REF!): never a status, reported on their own
        folded = normalize_text(header)
        self.yes = next((status for word, status in YES_STATUS_BY_HEADER if word in folded), YES_STATUS)
        self.narratives: dict[str, StatusReading] = {}

    def __call__(self, value: object) -> str | None:
        if value is None or value is True or value is False:
            return None if value is None else (self.yes if value else NO_STATUS)
        text = (value if type(value) is str else self.to_text(value)).strip()
        if not text or text in self.skip:
            return None
        if (status := self.config.status_for(text)) is not None:
            return status
        answer = normalize_text(text).upper()
        if answer in _YES:
            return self.yes
        if answer in _NO:
            return NO_STATUS
        if len(_CJK.findall(answer)) >= 2 and (
            self.fallback or len(answer) >= NARRATIVE_MIN_CHARS or _SENTENCE.search(answer)
        ):
            reading = read_narrative(text)
            self.narratives[text] = reading
            return reading.status
        return None


def narrative_note(reading: StatusReading, labels: Mapping[str, str]) -> str:
    """The clause an info finding adds after naming the cell: what was read, and why."""
    label = labels.get(reading.status, reading.status)
    if reading.done_phrase:
        return f"其中写明“{reading.done_phrase}”，计为“{label}”"
    why = f"含“{reading.doubt}”" if reading.doubt else "没有写明已完成"
    return f"未能确认已完成（{why}），计为未完成（“{label}”）；如已完成，请在完成状态中写明“已完成”"
