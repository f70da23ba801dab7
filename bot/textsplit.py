"""Splitting long texts cleanly for Telegram's limits (4096 for a text, 1024 for a caption)."""

from __future__ import annotations

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut at a paragraph, a line, a sentence or a space, in that order of preference;
    a word longer than the limit is cut hard. No part is empty, no text is lost."""
    if limit < 16:
        raise ValueError("limit too small")
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for sep in ("\n\n", "\n", ". ", " "):
            cut = window.rfind(sep)
            if cut >= limit // 2:
                cut += len(sep)
                break
            cut = -1
        if cut == -1:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def shorten(text: str, limit: int) -> str:
    """The text cut to at most `limit` characters at a word boundary, with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    if cut < limit // 2:
        cut = limit - 1
    return text[:cut].rstrip() + "…"
