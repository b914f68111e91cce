"""Subtitles, SubRip (.srt) and WebVTT (.vtt): cue text translated, every other byte kept.

A small strict parser rather than a library: srt and webvtt-py both re-serialise the file
(renumbering, reformatting timings, dropping comments), while the output here must differ from
the input only in the cue text. Numbers, identifiers, timings, cue settings, the WEBVTT header
and NOTE/STYLE/REGION blocks are copied verbatim and never reach the model.

One cue is one segment, its line breaks sent as line breaks: a sentence usually runs over both
lines of a cue, and translating the lines apart would break it. The answer's line breaks are kept,
except blank lines (they would end the cue). Inline tags (<i>, <b>, <font ...>, <c.class>,
<v Speaker>, timestamps) become numbered tags; an unclosed voice tag at the start of a cue stays
outside what the model sees.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from tradia.documents.model import DocumentRejected, Segment
from tradia.documents.plain_text import decode_text
from tradia.documents.tagged_text import Close, Empty, Open, Part

# A feature film has 1,000 to 2,500 cues; anything far beyond is not a subtitle file.
MAX_CUES = 10_000
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_SRT_TIME = r"\d{1,3}:\d{2}:\d{2}[,.]\d{1,3}"
_SRT_TIMING = re.compile(rf"^\s*{_SRT_TIME}\s*-->\s*{_SRT_TIME}(?:\s.*)?$")
_VTT_TIME = r"(?:\d{2,}:)?\d{2}:\d{2}\.\d{3}"
_VTT_TIMING = re.compile(rf"^{_VTT_TIME}[ \t]+-->[ \t]+{_VTT_TIME}(?:[ \t].*)?$")
_VTT_HEADER = re.compile(r"^WEBVTT(?:[ \t].*)?$")
_VTT_KEPT_BLOCK = re.compile(r"^(?:NOTE|STYLE|REGION)(?:[ \t].*)?$")
# <i>, </i>, <c.yellow.big>, <v.loud Bob>, <lang en>, <00:01.500>; ASS overrides such as {\an8}.
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)([.\s][^<>]*)?>|<(\d[\d:.]*)>|\{\\[^{}]*\}")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


@dataclass
class _Cue:
    lead: str  # raw text before what the model sees (an unclosed <v Bob>, {\an8}, spaces)
    trail: str
    parts: list[Part]
    markup: dict[int, str]  # raw tag text each Open/Close/Empty number stands for
    closers: dict[int, str]
    newline: str  # the cue's own line ending
    final_newline: str  # what ended its last line ("" at the end of the file)
    original: str = ""  # the cue text as it was, lines and endings, for an untranslated cue


def _tokens(text: str) -> list[tuple[str, str, bool, bool]]:
    """(raw, name, is_tag, closing) in order; text between tags has name ""."""
    tokens: list[tuple[str, str, bool, bool]] = []
    position = 0
    for match in _TAG.finditer(text):
        if match.start() > position:
            tokens.append((text[position : match.start()], "", False, False))
        name = match.group(2) or ""
        tokens.append((match.group(0), name, True, bool(match.group(1))))
        position = match.end()
    if position < len(text):
        tokens.append((text[position:], "", False, False))
    return tokens


def _cue(text: str, newline: str, final_newline: str, *, vtt: bool) -> _Cue | None:
    tokens = _tokens(text)
    # Pair each opening tag with its closing tag; unpaired tags and timestamps are standalone.
    pair: dict[int, int] = {}
    stack: list[int] = []
    for index, (_, name, is_tag, closing) in enumerate(tokens):
        if not is_tag or not name:
            continue
        if not closing:
            stack.append(index)
        elif stack and tokens[stack[-1]][1].lower() == name.lower():
            pair[stack.pop()] = index
    closing_of = {close: opening for opening, close in pair.items()}
    parts: list[Part] = []
    raw_of: list[str] = []  # the raw text behind each part, for lead/trail
    markup: dict[int, str] = {}
    closers: dict[int, str] = {}
    numbers: dict[int, int] = {}
    for index, (raw, _, is_tag, _closing) in enumerate(tokens):
        if not is_tag:
            parts.append(html.unescape(raw) if vtt else raw)
        elif index in closing_of:
            number = numbers[closing_of[index]]
            closers[number] = raw
            parts.append(Close(number))
        else:
            number = len(markup) + 1
            markup[number] = raw
            numbers[index] = number
            parts.append(Open(number) if index in pair else Empty(number))
        raw_of.append(raw)
    plain = "".join(p for p in parts if isinstance(p, str))
    if not _LETTER.search(plain):
        return None
    lead = trail = ""
    while parts and (isinstance(parts[0], Empty) or parts[0] == ""):
        lead += raw_of.pop(0)
        parts.pop(0)
    while parts and (isinstance(parts[-1], Empty) or parts[-1] == ""):
        trail = raw_of.pop() + trail
        parts.pop()
    if isinstance(parts[0], str):
        stripped = parts[0].lstrip()
        lead += raw_of[0][: len(raw_of[0]) - len(raw_of[0].lstrip())]
        parts[0] = stripped
    if isinstance(parts[-1], str):
        stripped = parts[-1].rstrip()
        trail = raw_of[-1][len(raw_of[-1].rstrip()) :] + trail
        parts[-1] = stripped
    # A standalone tag sitting inside the text stays numbered; the ones stripped above had no
    # place the model could move them to.
    return _Cue(lead, trail, [p for p in parts if p != ""], markup, closers, newline, final_newline)


def _split_lines(text: str) -> list[tuple[str, str]]:
    """(line, ending) pairs, endings kept as they were (\\r\\n, \\n or \\r)."""
    lines = []
    for raw in _LINE.findall(text):
        body = raw.rstrip("\r\n")
        lines.append((body, raw[len(body) :]))
    return lines


class SubtitleDocument:
    def __init__(self, data: bytes, *, vtt: bool) -> None:
        self.vtt = vtt
        self.kind = "WebVTT (.vtt)" if vtt else "SubRip (.srt)"
        text, self.encoding = decode_text(data)
        self._pieces: list[str | _Cue] = []
        lines = _split_lines(text)
        self.cues = 0
        if vtt:
            self._parse_vtt(lines)
        else:
            self._parse_srt(lines)
        if self.cues == 0:
            raise DocumentRejected(f"not a valid {self.kind} file: no cue found")
        self.segments = [Segment(p.parts) for p in self._pieces if isinstance(p, _Cue)]

    def _reject(self, number: int, what: str) -> DocumentRejected:
        return DocumentRejected(f"not a valid {self.kind} file: line {number}: {what}")

    def _each_block(
        self, lines: list[tuple[str, str]], start: int, parse_block: Callable[[int, int], None]
    ) -> None:
        """Calls parse_block(first, end) for each run of non-blank lines; blank lines kept."""
        index = start
        while index < len(lines):
            if not lines[index][0].strip():
                self._pieces.append("".join(lines[index]))
                index += 1
                continue
            end = index
            while end < len(lines) and lines[end][0].strip():
                end += 1
            parse_block(index, end)
            index = end

    def _add_cue(self, lines: list[tuple[str, str]], first_text: int, end: int) -> None:
        self.cues += 1
        if self.cues > MAX_CUES:
            raise DocumentRejected(f"the {self.kind} file has more than {MAX_CUES} cues")
        body = lines[first_text:end]
        cue = None
        if body:
            newline = body[0][1] or "\n"
            cue = _cue("\n".join(b for b, _ in body), newline, body[-1][1], vtt=self.vtt)
        if cue is None:
            self._pieces.append("".join(b + e for b, e in body))
        else:
            cue.original = "".join(b + e for b, e in body)
            self._pieces.append(cue)

    def _parse_srt(self, lines: list[tuple[str, str]]) -> None:
        def block(first: int, end: int) -> None:
            if not lines[first][0].strip().lstrip("\ufeff").isdigit():
                raise self._reject(first + 1, "expected a cue number")
            if first + 1 >= end or not _SRT_TIMING.match(lines[first + 1][0]):
                raise self._reject(first + 2, "expected a timing such as 00:00:01,000 --> ...")
            self._pieces.append("".join(lines[first]) + "".join(lines[first + 1]))
            self._add_cue(lines, first + 2, end)

        self._each_block(lines, 0, block)

    def _parse_vtt(self, lines: list[tuple[str, str]]) -> None:
        if not lines or not _VTT_HEADER.match(lines[0][0].lstrip("\ufeff")):
            raise self._reject(1, "the file must start with WEBVTT")
        header_end = 0
        while header_end < len(lines) and lines[header_end][0].strip():
            header_end += 1
        self._pieces.append("".join(b + e for b, e in lines[:header_end]))

        def block(first: int, end: int) -> None:
            if _VTT_KEPT_BLOCK.match(lines[first][0]):
                self._pieces.append("".join(b + e for b, e in lines[first:end]))
                return
            timing = first if "-->" in lines[first][0] else first + 1
            if timing >= end or not _VTT_TIMING.match(lines[timing][0]):
                raise self._reject(timing + 1, "expected a timing such as 00:01.000 --> 00:02.000")
            self._pieces.append("".join(b + e for b, e in lines[first : timing + 1]))
            self._add_cue(lines, timing + 1, end)

        self._each_block(lines, header_end, block)

    def _escape(self, text: str) -> str:
        if not self.vtt:
            return text.replace("-->", "->")
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def _render(self, cue: _Cue, translated: list[Part]) -> str:
        out = [cue.lead]
        for part in translated:
            if isinstance(part, str):
                out.append(self._escape(part))
            elif isinstance(part, Close):
                out.append(cue.closers[part.n])
            else:
                out.append(cue.markup[part.n])
        out.append(cue.trail)
        # A blank line would end the cue: the answer's empty lines are dropped.
        lines = [line.rstrip() for line in "".join(out).splitlines()]
        return cue.newline.join(line for line in lines if line.strip()) + cue.final_newline

    def rebuild(self, translations: list[list[Part] | None]) -> bytes:
        out = []
        pending = iter(translations)
        for piece in self._pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            translated = next(pending)
            out.append(piece.original if translated is None else self._render(piece, translated))
        text = "".join(out)
        try:
            return text.encode(self.encoding)
        except UnicodeEncodeError:
            # The target language does not fit the original 8-bit encoding.
            return text.encode("utf-8")
