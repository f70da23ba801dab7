"""Message text as Telegram takes it: parse modes turned into plain text plus entities
(offsets in UTF-16 code units), with Telegram's parse errors and length limits.

The parsers follow the rules of the real server closely enough to catch what matters in
tests: an unescaped `<` or an unbalanced tag in HTML, an unescaped reserved character in
MarkdownV2, an unclosed entity in legacy Markdown, a text over 4096 or a caption over 1024
characters (counted after parsing, as Telegram does)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from typing import Any

from standin.errors import ApiError, bad_request

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

Entity = dict[str, Any]


@dataclass(frozen=True)
class Formatted:
    text: str
    entities: list[Entity]


class _ParseError(Exception):
    pass


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def format_message_text(
    text: str | None, parse_mode: str | None, entities: list[Entity] | None
) -> Formatted:
    """A message text: parsed, then neither empty nor over 4096 characters."""
    formatted = parse(text or "", parse_mode, entities)
    if not formatted.text.strip():
        raise bad_request("message text is empty")
    if len(formatted.text) > TEXT_LIMIT:
        raise bad_request("message is too long")
    return formatted


def format_caption(
    caption: str | None, parse_mode: str | None, entities: list[Entity] | None
) -> Formatted | None:
    """A media caption: None when absent or blank, else parsed and at most 1024 characters."""
    if caption is None:
        return None
    formatted = parse(caption, parse_mode, entities)
    if not formatted.text.strip():
        return None
    if len(formatted.text) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    return formatted


def parse(text: str, parse_mode: str | None, entities: list[Entity] | None) -> Formatted:
    mode = (parse_mode or "").lower()
    parsers = {"html": _parse_html, "markdownv2": _parse_markdown_v2, "markdown": _parse_markdown}
    if not mode:
        return Formatted(text, list(entities or []))
    parser = parsers.get(mode)
    if parser is None:
        raise bad_request(f"unsupported parse_mode {parse_mode!r}")
    try:
        plain, found = parser(text)
    except _ParseError as exc:
        raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
    return Formatted(plain, sorted(found, key=lambda e: (e["offset"], -e["length"])))


@dataclass
class _Out:
    parts: list[str] = field(default_factory=list)
    offset: int = 0  # in UTF-16 code units

    def add(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.offset += utf16_len(chunk)

    def text(self) -> str:
        return "".join(self.parts)


@dataclass
class _Open:
    tag: str
    start: int  # UTF-16 offset in the output
    pos: int  # byte offset in the source, for error messages
    attrs: dict[str, str] = field(default_factory=dict)

    def entity(self, end: int, kind: str) -> Entity | None:
        if end <= self.start:
            return None
        return {"type": kind, "offset": self.start, "length": end - self.start}


# ---------------------------------------------------------------- HTML

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_REF = re.compile(r"&(#[xX][0-9a-fA-F]{1,8}|#[0-9]{1,8}|[a-zA-Z]+);?")
_HTML_PLAIN = re.compile(r"[^<&]+")


def _parse_html(text: str) -> tuple[str, list[Entity]]:
    out = _Out()
    stack: list[_Open] = []
    entities: list[Entity] = []
    i = 0
    while i < len(text):
        if plain := _HTML_PLAIN.match(text, i):
            out.add(plain.group())
            i = plain.end()
        elif text[i] == "&":
            char, i = _html_reference(text, i)
            out.add(char)
        elif text.startswith("</", i):
            i = _html_end_tag(text, i, stack, out, entities)
        else:
            i = _html_start_tag(text, i, stack, out)
    if stack:
        raise _ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return out.text(), entities


def _html_reference(text: str, i: int) -> tuple[str, int]:
    """A character reference; an unknown one is a literal `&`, as Telegram reads it."""
    match = _HTML_REF.match(text, i)
    if match is None:
        return "&", i + 1
    name = match.group(1)
    if name.startswith("#"):
        code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        if 0 < code < 0x110000:
            return chr(code), match.end()
        return "&", i + 1
    if name in _HTML_NAMED:
        return _HTML_NAMED[name], match.end()
    return "&", i + 1


def _html_start_tag(text: str, i: int, stack: list[_Open], out: _Out) -> int:
    pos = _byte_offset(text, i)
    j = i + 1
    while j < len(text) and not text[j].isspace() and text[j] != ">":
        j += 1
    if j >= len(text):
        raise _ParseError(f"Unclosed start tag at byte offset {pos}")
    tag = text[i + 1 : j].lower()
    if tag not in _HTML_TAGS:
        raise _ParseError(f'Unsupported start tag "{tag}" at byte offset {pos}')
    attrs, j = _html_attributes(text, j, tag, pos)
    if tag == "span" and attrs.get("class") != "tg-spoiler":
        raise _ParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {pos}')
    stack.append(_Open(tag, out.offset, pos, attrs))
    return j + 1


def _skip_spaces(text: str, j: int) -> int:
    while j < len(text) and text[j].isspace():
        j += 1
    return j


def _html_attributes(text: str, j: int, tag: str, pos: int) -> tuple[dict[str, str], int]:
    """Attributes up to the closing `>`; returns them and the index of that `>`."""
    attrs: dict[str, str] = {}
    while True:
        j = _skip_spaces(text, j)
        if j >= len(text):
            raise _ParseError(f"Unclosed start tag at byte offset {pos}")
        if text[j] == ">":
            return attrs, j
        k = j
        while k < len(text) and not text[k].isspace() and text[k] not in "=>":
            k += 1
        name = text[j:k].lower()
        if not name:
            raise _ParseError(f'Empty attribute name in the tag "{tag}" at byte offset {pos}')
        k = _skip_spaces(text, k)
        if k < len(text) and text[k] != "=" and tag == "blockquote" and name == "expandable":
            attrs[name] = ""
            j = k
            continue
        if k >= len(text) or text[k] != "=":
            raise _ParseError(
                "Expected equal sign in declaration of an attribute of the tag "
                f'"{tag}" at byte offset {pos}'
            )
        attrs[name], j = _html_attribute_value(text, _skip_spaces(text, k + 1), pos)


def _html_attribute_value(text: str, k: int, pos: int) -> tuple[str, int]:
    if k >= len(text):
        raise _ParseError(f"Unclosed start tag at byte offset {pos}")
    if text[k] in "'\"":
        end = text.find(text[k], k + 1)
        if end == -1:
            raise _ParseError(f"Unclosed start tag at byte offset {pos}")
        return unescape(text[k + 1 : end]), end + 1
    m = k
    while m < len(text) and (text[m].isalnum() or text[m] in ".-"):
        m += 1
    if m < len(text) and not text[m].isspace() and text[m] != ">":
        raise _ParseError(f"Unexpected end of name token at byte offset {_byte_offset(text, m)}")
    return text[k:m].lower(), m


def _html_end_tag(text: str, i: int, stack: list[_Open], out: _Out, entities: list[Entity]) -> int:
    pos = _byte_offset(text, i)
    j = i + 2
    while j < len(text) and not text[j].isspace() and text[j] != ">":
        j += 1
    name = text[i + 2 : j].lower()
    j = _skip_spaces(text, j)
    if j >= len(text) or text[j] != ">":
        raise _ParseError(f"Unclosed end tag at byte offset {pos}")
    if not stack:
        raise _ParseError(f"Unexpected end tag at byte offset {pos}")
    opened = stack.pop()
    if name and name != opened.tag:
        raise _ParseError(
            f'Unmatched end tag at byte offset {pos}, expected "</{opened.tag}>", found "</{name}>"'
        )
    entity = _html_entity(opened, out.offset, stack)
    if entity is not None:
        entities.append(entity)
    return j + 1


def _html_entity(opened: _Open, end: int, stack: list[_Open]) -> Entity | None:
    kind = _HTML_TAGS[opened.tag]
    language = opened.attrs.get("class", "")
    if kind == "code" and stack and stack[-1].tag == "pre" and language.startswith("language-"):
        stack[-1].attrs["language"] = language.removeprefix("language-")
        return None
    if kind == "blockquote" and "expandable" in opened.attrs:
        kind = "expandable_blockquote"
    entity = opened.entity(end, kind)
    if entity is None:
        return None
    if kind == "text_link":
        if not opened.attrs.get("href"):
            return None
        entity["url"] = opened.attrs["href"]
    elif kind == "pre" and opened.attrs.get("language"):
        entity["language"] = opened.attrs["language"]
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = opened.attrs.get("emoji-id", "")
    return entity


# ---------------------------------------------------------------- MarkdownV2

_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_MARKS: tuple[tuple[str, str], ...] = (
    ("||", "spoiler"),
    ("__", "underline"),
    ("*", "bold"),
    ("_", "italic"),
    ("~", "strikethrough"),
)
_MD2_NAMES = {
    "spoiler": "Spoiler",
    "underline": "Underline",
    "bold": "Bold",
    "italic": "Italic",
    "strikethrough": "Strikethrough",
    "text_link": "TextUrl",
}


def _reserved(char: str) -> _ParseError:
    return _ParseError(
        f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
    )


def _parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    out = _Out()
    stack: list[_Open] = []
    entities: list[Entity] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 >= len(text) or not 0 < ord(text[i + 1]) < 127:
                raise _reserved("\\")
            out.add(text[i + 1])
            i += 2
        elif char == "`":
            i = _md2_code(text, i, out, entities)
        elif mark := _md2_mark(text, i):
            i = _md2_toggle(text, i, mark, stack, out, entities)
        elif char == "[":
            stack.append(_Open("text_link", out.offset, _byte_offset(text, i)))
            i += 1
        elif char == "]" and stack and stack[-1].tag == "text_link":
            i = _md2_link_end(text, i, stack.pop(), out, entities)
        elif char == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1  # a blockquote line; its entity is not modelled
        elif char in _MD2_RESERVED:
            raise _reserved(char)
        else:
            out.add(char)
            i += 1
    if stack:
        top = stack[-1]
        raise _ParseError(
            f"Can't find end of {_MD2_NAMES[top.tag]} entity at byte offset {top.pos}"
        )
    return out.text(), entities


def _md2_mark(text: str, i: int) -> tuple[str, str] | None:
    for mark, kind in _MD2_MARKS:
        if text.startswith(mark, i):
            return mark, kind
    return None


def _md2_toggle(
    text: str,
    i: int,
    mark: tuple[str, str],
    stack: list[_Open],
    out: _Out,
    entities: list[Entity],
) -> int:
    token, kind = mark
    if stack and stack[-1].tag == kind:
        entity = stack.pop().entity(out.offset, kind)
        if entity is not None:
            entities.append(entity)
    else:
        stack.append(_Open(kind, out.offset, _byte_offset(text, i)))
    return i + len(token)


def _md2_verbatim(text: str, i: int, closer: str, what: str, pos: int) -> tuple[str, int]:
    """Text up to `closer` where only `\\` escapes (code, pre, link URLs)."""
    chunk: list[str] = []
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            chunk.append(text[i + 1])
            i += 2
        elif text.startswith(closer, i):
            return "".join(chunk), i + len(closer)
        else:
            chunk.append(text[i])
            i += 1
    raise _ParseError(f"Can't find end of {what} entity at byte offset {pos}")


def _md2_code(text: str, i: int, out: _Out, entities: list[Entity]) -> int:
    pos = _byte_offset(text, i)
    if not text.startswith("```", i):
        content, end = _md2_verbatim(text, i + 1, "`", "Code", pos)
        entity: Entity = {"type": "code"}
    else:
        start, language = i + 3, ""
        newline = text.find("\n", start)
        if newline != -1 and "`" not in text[start:newline]:
            start, language = newline + 1, text[start:newline].strip()
        content, end = _md2_verbatim(text, start, "```", "Pre", pos)
        entity = {"type": "pre"}
        if language:
            entity["language"] = language
    if content:
        entities.append({**entity, "offset": out.offset, "length": utf16_len(content)})
        out.add(content)
    return end


def _md2_link_end(text: str, i: int, opened: _Open, out: _Out, entities: list[Entity]) -> int:
    i += 1
    if not text.startswith("(", i):
        return i
    url, end = _md2_verbatim(text, i + 1, ")", "a URL", _byte_offset(text, i))
    entity = opened.entity(out.offset, "text_link")
    if entity is not None and url:
        entity["url"] = url
        entities.append(entity)
    return end


# ---------------------------------------------------------------- legacy Markdown

_MD_KINDS = {"*": "bold", "_": "italic", "`": "code"}


def _parse_markdown(text: str) -> tuple[str, list[Entity]]:
    out = _Out()
    entities: list[Entity] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
        elif char in "_*`[":
            i = _md_entity(text, i, out, entities)
        else:
            out.add(char)
            i += 1
    return out.text(), entities


def _md_entity(text: str, i: int, out: _Out, entities: list[Entity]) -> int:
    unclosed = _ParseError(
        f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
    )
    url = None
    if text.startswith("```", i):
        end = text.find("```", i + 3)
        content, kind, after = text[i + 3 : end], "pre", end + 3
    elif text[i] == "[":
        end = text.find("]", i + 1)
        close = text.find(")", end + 2) if end != -1 and text.startswith("(", end + 1) else -1
        if close == -1:
            raise unclosed
        content, kind, after, url = text[i + 1 : end], "text_link", close + 1, text[end + 2 : close]
    else:
        end = text.find(text[i], i + 1)
        content, kind, after = text[i + 1 : end], _MD_KINDS[text[i]], end + 1
    if end == -1:
        raise unclosed
    if content:
        entity: Entity = {"type": kind, "offset": out.offset, "length": utf16_len(content)}
        if url:
            entity["url"] = url
        entities.append(entity)
        out.add(content)
    return after
