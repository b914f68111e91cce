"""Inline markup carried through a translation as numbered tags.

A segment such as `Un <b>mot</b> et un <a href=..>lien</a>` is sent to the model as
`Un <1>mot</1> et un <2>lien</2>`; the answer must contain the same tags, properly nested, and
each tag is then replaced by the original markup, byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TAG = re.compile(r"<(/?)(\d+)(/?)>")


@dataclass(frozen=True)
class Open:
    n: int


@dataclass(frozen=True)
class Close:
    n: int


@dataclass(frozen=True)
class Empty:
    n: int


Part = str | Open | Close | Empty


def render_for_model(parts: list[Part]) -> str:
    out = []
    for part in parts:
        if isinstance(part, Open):
            out.append(f"<{part.n}>")
        elif isinstance(part, Close):
            out.append(f"</{part.n}>")
        elif isinstance(part, Empty):
            out.append(f"<{part.n}/>")
        else:
            out.append(part)
    return "".join(out)


class TagMismatch(ValueError):
    """The model's answer lost, added or mis-nested tags."""


def parse_model_output(text: str, expected: list[Part]) -> list[Part]:
    """Split the answer into text and tags; raise TagMismatch unless its tags are exactly the
    expected ones (any order the nesting allows)."""
    parts: list[Part] = []
    position = 0
    stack: list[int] = []
    for match in _TAG.finditer(text):
        if match.start() > position:
            parts.append(text[position : match.start()])
        closing, number, empty = match.group(1), int(match.group(2)), match.group(3)
        if closing and empty:
            raise TagMismatch(f"malformed tag {match.group(0)}")
        if empty:
            parts.append(Empty(number))
        elif closing:
            if not stack or stack.pop() != number:
                raise TagMismatch(f"tag {number} closed out of order")
            parts.append(Close(number))
        else:
            stack.append(number)
            parts.append(Open(number))
        position = match.end()
    if position < len(text):
        parts.append(text[position:])
    if stack:
        raise TagMismatch("unclosed tag")
    expected_tags = sorted(repr(p) for p in expected if not isinstance(p, str))
    found_tags = sorted(repr(p) for p in parts if not isinstance(p, str))
    if expected_tags != found_tags:
        raise TagMismatch("the tags differ from the original")
    return parts
