"""Jira wiki markup cleared from comment text before reading times, in time linear in the text.

Comment bodies are written by agents and customers (up to 32,767 characters in Jira Cloud), so no
pattern here may rescan the rest of the text from every opener: a search for a closing bracket or
brace that is not there is done once (`str.find`/`rfind`), and a pattern only ever runs over a
stretch it then consumes. Runs of emphasis markers are matched from their first character only,
possessively, so a run is read once whatever follows it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: Blocks whose content is quoted material (logs, commands, customer text), never a promise.
DROPPED_BLOCKS: tuple[str, ...] = ("code", "noformat", "quote")

_BLOCK_OPEN = re.compile(r"\{(" + "|".join(DROPPED_BLOCKS) + r")([:}])", re.I)
_BLOCK_CLOSE = {kind: re.compile(r"\{" + kind + r"\}", re.I) for kind in DROPPED_BLOCKS}
# `bq.` or `>` after the line's own leading blanks (never across lines: `\s` would span them).
_QUOTE_LINES = re.compile(r"^[^\S\n]*(?:bq\.|>)[^\n]*", re.M)
_LINK_STOP = re.compile(r"[|\]]")
_URL = re.compile(r"https?://\S+", re.I)
_MACRO = re.compile(r"\{[a-z]+(?::[^}]*)?\}", re.I)
_MARKERS = "*_+^"
# A run of markers that opens (nothing word-like before, text after) or closes (text before, no word
# after) emphasis. Lookbehinds pin each run to its first character; `++` reads it once.
_EMPHASIS = re.compile(
    r"(?<![\w*_+^])[*_+^]++(?=\S)|(?<=[^\s*_+^])[*_+^]++(?![\w*])"
)
_AM_PM = re.compile(r"\b([ap])\.\s?m\.", re.I)


def clean_comment_text(text: str) -> str:
    """Comment text without wiki markup, code/quote blocks, mentions and links."""
    text = drop_blocks(text)
    text = _QUOTE_LINES.sub("", text)
    text = _before_last(text, "]", _replace_mentions)
    text = replace_links(text)
    text = drop_bare_links(text)
    text = _before_last(text, "}", lambda head: _MACRO.sub(" ", head))
    text = _EMPHASIS.sub("", text)
    return _AM_PM.sub(lambda m: m.group(1) + "m", text)


def drop_blocks(text: str) -> str:
    """`{code}…{code}`, `{noformat}…`, `{quote}…` (with or without `:params`) replaced by a newline;
    an unclosed block runs to the end of the text."""
    out: list[str] = []
    pos = 0
    last_brace = text.rfind("}")
    while True:
        opener = _BLOCK_OPEN.search(text, pos)
        if opener is None or opener.start() >= last_brace:
            break  # an opener needs a "}" of its own after it
        end = opener.end()
        if opener.group(2) == ":":
            brace = text.find("}", end)  # exists: the opener is before the last "}"
            end = brace + 1
        out.append(text[pos : opener.start()])
        out.append("\n")
        closer = _BLOCK_CLOSE[opener.group(1).lower()].search(text, end)
        if closer is None:
            pos = len(text) - 1 if text.endswith("\n") else len(text)
            break
        pos = closer.end()
    out.append(text[pos:])
    return "".join(out)


def replace_links(text: str) -> str:
    """`[label|target]` → `label` (the label has no `|` or `]`, the target no `]`)."""
    out: list[str] = []
    pos = 0
    search_from = 0
    while True:
        start = text.find("[", search_from)
        if start < 0:
            break
        stop = _LINK_STOP.search(text, start + 1)
        if stop is None:
            break
        if stop.group() == "]":
            # No link opens anywhere before this "]": every "[" in between stops here too.
            search_from = stop.end()
            continue
        close = text.find("]", stop.end())
        if close < 0:
            break  # no "]" after this "|": nothing later can close either
        out.append(text[pos:start])
        out.append(text[start + 1 : stop.start()])
        pos = search_from = close + 1
    out.append(text[pos:])
    return "".join(out)


def drop_bare_links(text: str) -> str:
    """Any other `[…]` and any `http(s)://…` URL replaced by a space."""
    out: list[str] = []
    pos = 0
    last_close = text.rfind("]")
    bracket = _next_bracket(text, 0, last_close)
    url = _URL.search(text)
    while bracket is not None or url is not None:
        # Each of the two is searched again only once the text before `pos` has been used up.
        if bracket is not None and bracket < pos:
            bracket = _next_bracket(text, pos, last_close)
        if url is not None and url.start() < pos:
            url = _URL.search(text, pos)
        if url is not None and (bracket is None or url.start() < bracket):
            start, end = url.span()
        elif bracket is not None:
            start, end = bracket, text.find("]", bracket + 1) + 1
        else:
            break
        out.append(text[pos:start])
        out.append(" ")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _next_bracket(text: str, pos: int, last_close: int) -> int | None:
    """The next "[" from `pos` that has a "]" after it."""
    found = text.find("[", pos, max(last_close, 0))
    return found if found >= 0 else None


def _replace_mentions(text: str) -> str:
    """`[~accountid:…]` → `@user`."""
    out: list[str] = []
    pos = 0
    while True:
        start = text.find("[~", pos)
        if start < 0:
            break
        close = text.find("]", start + 2)  # exists: `text` ends at its last "]"
        out.append(text[pos:start])
        out.append("@user")
        pos = close + 1
    out.append(text[pos:])
    return "".join(out)


def _before_last(text: str, closer: str, clean: Callable[[str], str]) -> str:
    """`clean` applied up to and including the last `closer`; nothing after it can be a match
    that needs one, so no pattern rescans an unclosed tail from every opener."""
    cut = text.rfind(closer) + 1
    return clean(text[:cut]) + text[cut:] if cut else text
