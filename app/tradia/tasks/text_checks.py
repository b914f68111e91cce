"""Checks on a model's rewrite of a text: a word diff, and what must not have changed.

Correction must leave numbers, dates, prices and names alone. The model is asked to, and this
module verifies it on the server, so the user is told when it did not.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from typing import Literal, TypedDict

from tradia.api.events import DiffOp, ProtectedChange

_TOKENS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CURRENCY = re.compile(r"[€$£¥%]|\b(?:EUR|USD|GBP|CHF|MAD|DZD|TND)\b")
# A capitalised word that does not start a sentence: very likely a proper name.
_NAME = re.compile(r"(?<=[\w,;:)\]] )[A-ZÀ-ÖØ-Þ][\w'-]+", re.UNICODE)


def word_diff(before: str, after: str) -> list[DiffOp]:
    """Operations turning `before` into `after`; whitespace (line breaks included) is a token,
    so joining the equal+insert parts gives back `after` exactly."""
    a = _TOKENS.findall(before)
    b = _TOKENS.findall(after)
    ops: list[DiffOp] = []

    def add(op: Literal["equal", "insert", "delete"], text: str) -> None:
        if not text:
            return
        if ops and ops[-1].op == op:
            ops[-1].text += text
        else:
            ops.append(DiffOp(op=op, text=text))

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            add("equal", "".join(a[i1:i2]))
        else:
            add("delete", "".join(a[i1:i2]))
            add("insert", "".join(b[j1:j2]))
    return ops


class RewriteChecks(TypedDict):
    diff: list[DiffOp]
    protected_changes: list[ProtectedChange]


def rewrite_checks(original: str, rewritten: str) -> RewriteChecks:
    """What a rewrite (correction, reformulation) result reports beside the new text."""
    return {
        "diff": word_diff(original, rewritten),
        "protected_changes": protected_changes(original, rewritten),
    }


def _protected(text: str) -> dict[str, Counter[str]]:
    return {
        "number": Counter(_NUMBER.findall(text)),
        "currency": Counter(m.upper() for m in _CURRENCY.findall(text)),
        "name": Counter(_NAME.findall(text)),
    }


def protected_changes(before: str, after: str) -> list[ProtectedChange]:
    """Numbers (dates and prices included), currency signs and names of `before` that are
    missing from `after`, or new in it."""
    original = _protected(before)
    rewritten = _protected(after)
    changes: list[ProtectedChange] = []
    for kind in original:
        for value in sorted((original[kind] - rewritten[kind]).elements()):
            changes.append(ProtectedChange(kind=kind, value=value, change="removed_or_altered"))
        for value in sorted((rewritten[kind] - original[kind]).elements()):
            changes.append(ProtectedChange(kind=kind, value=value, change="added"))
    return changes
