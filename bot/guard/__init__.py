"""The quality guard on operators' answers: a pure check of a text against the regulation's
standards of communication (no aiogram, no database).

Four rules (bot.vocabulary.GuardRule):
- PHRASE: a phrase the regulation forbids («Я не знаю», «Ничем не могу помочь», ...);
- FAMILIAR: familiar address («ты», «тебе», «твой»; «sen», «seni», «sening», ...);
- OBSCENE: obscene or coarse words;
- CAPS: a sentence in capital letters only (shouting), abbreviations aside.

The word lists are data, one file per language beside this module (ru.txt, uz.txt; their
header says how to write them), and every text is checked against all of them: an operator may
answer in either language. Matching is on whole words, case-insensitive, «ё» read as «е», and
every apostrophe people type inside a word (' ‘ ’ ` ʻ ʼ) read as one, so «o'zing», «oʻzing» and
«o’zing» are the same word."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.vocabulary import GuardRule

LISTS_DIR = Path(__file__).resolve().parent
LANGUAGE_FILES = ("ru.txt", "uz.txt")

# A sentence shouts when it has at least this many capital letters in at least this many words
# (abbreviations and words with digits not counted): «ИНН», «OK», «STIR» never do.
CAPS_MIN_LETTERS = 10
CAPS_MIN_WORDS = 2

APOSTROPHES = frozenset("'‘’`ʻʼ")
APOSTROPHE = "ʼ"  # U+02BC: a letter for Python's regular expressions, so words keep it
WILDCARD = "*"
_WORD = re.compile(r"[^\W\d_]+")
_SENTENCE = re.compile(r"[^\n.!?…]+")
_SECTIONS = {
    "phrase": GuardRule.PHRASE,
    "familiar": GuardRule.FAMILIAR,
    "obscene": GuardRule.OBSCENE,
}


class GuardListError(ValueError):
    """A word list cannot be read (an unknown section, an entry outside any section)."""


@dataclass(frozen=True)
class Finding:
    """What a rule found: the fragment of the text as written, and where it stands."""

    rule: GuardRule
    fragment: str
    start: int
    end: int


def normalise(text: str) -> str:
    """The text as the lists are matched against it, of the same length (offsets stay valid):
    lower case, «ё» as «е», an apostrophe inside a word as ʼ and any other as a space."""
    out = []
    for index, char in enumerate(text):
        if char in APOSTROPHES:
            inside = (
                0 < index < len(text) - 1
                and text[index - 1].isalpha()
                and text[index + 1].isalpha()
            )
            out.append(APOSTROPHE if inside else " ")
            continue
        low = char.lower()
        if len(low) != 1:
            low = char  # "İ".lower() is two characters: keep the offsets
        out.append("е" if low == "ё" else low)
    return "".join(out)


@dataclass(frozen=True)
class WordPattern:
    """One word of an entry: exact, or with "*" for any letters at its start and/or end."""

    core: str
    any_before: bool = False
    any_after: bool = False

    @classmethod
    def parse(cls, word: str) -> WordPattern:
        core = normalise(word.strip(WILDCARD))
        if not core or not _WORD.fullmatch(core):
            raise GuardListError(f"not a word pattern: {word!r}")
        return cls(core, word.startswith(WILDCARD), word.endswith(WILDCARD))

    def matches(self, word: str) -> bool:
        if self.any_before and self.any_after:
            return self.core in word
        if self.any_before:
            return word.endswith(self.core)
        if self.any_after:
            return word.startswith(self.core)
        return word == self.core


@dataclass(frozen=True)
class Entry:
    """A word or a phrase of a list: consecutive words, punctuation between them ignored."""

    words: tuple[WordPattern, ...]

    @classmethod
    def parse(cls, line: str) -> Entry:
        # "aytdim-ku" is the words "aytdim" and "ku", as the text's words are read.
        words = [w for w in re.split(r"[\s\-]+", line) if w]
        return cls(tuple(WordPattern.parse(w) for w in words))


@dataclass(frozen=True)
class WordLists:
    """The entries of each rule, the ordinary words an obscene pattern would catch, and the
    abbreviations that are written in capitals."""

    entries: dict[GuardRule, tuple[Entry, ...]] = field(default_factory=dict)
    allowed: tuple[WordPattern, ...] = ()
    abbreviations: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str) -> WordLists:
        entries: dict[GuardRule, list[Entry]] = {rule: [] for rule in _SECTIONS.values()}
        allowed: list[WordPattern] = []
        abbreviations: set[str] = set()
        section: str | None = None
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1].strip()
                if section not in (*_SECTIONS, "allowed", "abbreviation"):
                    raise GuardListError(f"line {number}: unknown section [{section}]")
                continue
            if section is None:
                raise GuardListError(f"line {number}: an entry before any [section]")
            if section == "allowed":
                allowed.append(WordPattern.parse(line))
            elif section == "abbreviation":
                abbreviations.add(normalise(line))
            else:
                entries[_SECTIONS[section]].append(Entry.parse(line))
        return cls(
            {rule: tuple(found) for rule, found in entries.items()},
            tuple(allowed),
            frozenset(abbreviations),
        )

    def merged(self, other: WordLists) -> WordLists:
        rules = set(self.entries) | set(other.entries)
        return WordLists(
            {r: self.entries.get(r, ()) + other.entries.get(r, ()) for r in rules},
            self.allowed + other.allowed,
            self.abbreviations | other.abbreviations,
        )


@dataclass(frozen=True)
class Guard:
    lists: WordLists

    @classmethod
    def load(cls, folder: Path = LISTS_DIR, files: Sequence[str] = LANGUAGE_FILES) -> Guard:
        lists = WordLists()
        for name in files:
            lists = lists.merged(WordLists.parse((folder / name).read_text(encoding="utf-8")))
        return cls(lists)

    @classmethod
    def from_text(cls, *texts: str) -> Guard:
        lists = WordLists()
        for text in texts:
            lists = lists.merged(WordLists.parse(text))
        return cls(lists)

    def check(self, text: str | None) -> list[Finding]:
        """Everything the text breaks, in the order it is written; [] for a clean text."""
        if not text:
            return []
        norm = normalise(text)
        words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(norm)]
        found: list[Finding] = []
        for rule, entries in self.lists.entries.items():
            spans = _entry_spans(
                words, entries, self._allowed if rule is GuardRule.OBSCENE else None
            )
            found += [Finding(rule, text[s:e], s, e) for s, e in _outermost(spans)]
        found += self._shouting(text, norm)
        return sorted(found, key=lambda f: (f.start, -f.end, f.rule))

    def _allowed(self, word: str) -> bool:
        return any(p.matches(word) for p in self.lists.allowed)

    def _shouting(self, text: str, norm: str) -> list[Finding]:
        found = []
        for sentence in _SENTENCE.finditer(text):
            letters = words = 0
            for token in re.finditer(r"\S+", sentence.group()):
                word = token.group()
                if any(c.isdigit() or c in "_@/\\" for c in word):
                    continue  # a code, an address, a number: not words
                cased = [c for c in word if c.isupper() or c.islower()]
                if not cased:
                    continue
                if any(c.islower() for c in cased):
                    letters = -1
                    break
                start = sentence.start() + token.start()
                bare = [w.group() for w in _WORD.finditer(norm, start, start + len(word))]
                if all(w in self.lists.abbreviations for w in bare):
                    continue
                letters += len(cased)
                words += 1
            if letters >= CAPS_MIN_LETTERS and words >= CAPS_MIN_WORDS:
                stripped = sentence.group().strip()
                start = sentence.start() + sentence.group().index(stripped)
                found.append(Finding(GuardRule.CAPS, stripped, start, start + len(stripped)))
        return found


def _entry_spans(
    words: list[tuple[str, int, int]],
    entries: Iterable[Entry],
    allowed: Callable[[str], bool] | None,
) -> list[tuple[int, int]]:
    spans = []
    for entry in entries:
        size = len(entry.words)
        for index in range(len(words) - size + 1):
            window = words[index : index + size]
            if all(p.matches(w[0]) for p, w in zip(entry.words, window, strict=True)):
                if allowed is not None and all(allowed(w[0]) for w in window):
                    continue
                spans.append((window[0][1], window[-1][2]))
    return spans


def _outermost(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Each stretch once: «я не знаю» and «не знаю» in it are one finding."""
    kept: list[tuple[int, int]] = []
    for start, end in sorted(set(spans), key=lambda s: (s[0], -s[1])):
        if kept and start >= kept[-1][0] and end <= kept[-1][1]:
            continue
        kept.append((start, end))
    return kept
