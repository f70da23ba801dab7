"""Long texts are split cleanly within Telegram's limits and nothing is lost."""

from __future__ import annotations

import random

import pytest

from bot.textsplit import shorten, split_text


@pytest.mark.parametrize("limit", [16, 100, 1024, 4096])
def test_parts_fit_and_join_back(limit: int) -> None:
    rng = random.Random(limit)
    words = [
        "".join(rng.choice("абвгдеёжзoʻzbek") for _ in range(rng.randint(1, 12)))
        for _ in range(3000)
    ]
    text = " ".join(words)
    parts = split_text(text, limit)
    assert all(0 < len(p) <= limit for p in parts)
    # No character is lost (only the whitespace at a cut) ...
    assert "".join("".join(parts).split()) == "".join(text.split())
    if limit >= 100:  # ... and with room to choose, no word is cut.
        assert " ".join(parts).split() == text.split()


def test_prefers_paragraphs_then_lines() -> None:
    text = "a" * 60 + "\n\n" + "b" * 30 + "\n" + "c" * 30
    assert split_text(text, 100) == ["a" * 60, "b" * 30 + "\n" + "c" * 30]


def test_a_word_longer_than_the_limit_is_cut_hard() -> None:
    parts = split_text("x" * 250, 100)
    assert parts == ["x" * 100, "x" * 100, "x" * 50]


def test_short_text_is_one_part_and_empty_is_none() -> None:
    assert split_text("привет", 4096) == ["привет"]
    assert split_text("   ", 4096) == []


def test_shorten_cuts_at_a_word_with_an_ellipsis() -> None:
    assert shorten("один два три четыре", 12) == "один два…"
    assert shorten("коротко", 100) == "коротко"
    assert len(shorten("z" * 500, 100)) == 100
