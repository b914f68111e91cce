"""Any XML (SCENARI course files first): translate the text, leave every other byte where it was.

The file is parsed with expat only to learn where things are; the output is the original bytes
with each run of text (and its inline markup) spliced in translated. So the declaration,
encoding, namespaces, attributes, indentation and comments stay exactly as they were, titles and
every other text-bearing element are covered, and inline markup (sc:inlineStyle, sc:uLink, ...)
survives as numbered tags the model must keep.
DTDs and entity declarations are refused (no entity expansion, no external fetch), and so is
nesting deeper than any course file needs.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from dataclasses import dataclass, field

from tradia.documents.model import DocumentRejected, Segment
from tradia.documents.tagged_text import Close, Empty, Open, Part

SCENARI_CORE_NS = "http://www.utc.fr/ics/scenari/v3/core"
_INLINE = {f"{SCENARI_CORE_NS} {name}" for name in ("inlineStyle", "phrase", "uLink")}
# Kept verbatim and never translated: formulas and inline images.
_OPAQUE = {f"{SCENARI_CORE_NS} {name}" for name in ("textLeaf", "inlineImg")}
_ENCODING_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_ASCII_SPACE = " \t\r\n"
# Real course files nest a few dozen levels; the tree is walked recursively.
_MAX_DEPTH = 200


@dataclass
class _Text:
    data: str


@dataclass
class _Opaque:
    start: int
    end: int


@dataclass
class _Element:
    name: str
    start: int
    start_tag_end: int = 0
    end_tag_start: int = 0
    end: int = 0
    children: list[_Element | _Text | _Opaque] = field(default_factory=list)

    def has_direct_text(self) -> bool:
        return any(isinstance(c, _Text) and c.data.strip() for c in self.children)


def _tag_end(data: bytes, start: int) -> int:
    """Index just after the '>' closing the tag that starts at `start` (quotes respected)."""
    quote = 0
    for index in range(start + 1, len(data)):
        byte = data[index]
        if quote:
            if byte == quote:
                quote = 0
        elif byte in (0x22, 0x27):
            quote = byte
        elif byte == 0x3E:
            return index + 1
    raise DocumentRejected("truncated tag")


def _encoding(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00<", b"<\x00")):
        raise DocumentRejected("UTF-16/UTF-32 XML is not supported; save the file as UTF-8.")
    match = _ENCODING_DECL.match(data.removeprefix(b"\xef\xbb\xbf"))
    encoding = match.group(1).decode("ascii").lower() if match else "utf-8"
    try:
        "x".encode(encoding)
    except LookupError as exc:
        raise DocumentRejected(f"unknown encoding {encoding}") from exc
    if encoding.replace("-", "").replace("_", "") in {"utf16", "utf32"}:
        raise DocumentRejected("UTF-16/UTF-32 XML is not supported; save the file as UTF-8.")
    return encoding


def _parse(data: bytes) -> _Element:
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[_Element] = []
    root: list[_Element] = []

    def refuse_dtd(*_: object) -> None:
        raise DocumentRejected("XML with a DOCTYPE or entity declarations is refused.")

    def start(name: str, _attrs: dict[str, str]) -> None:
        if len(stack) >= _MAX_DEPTH:
            raise DocumentRejected(f"elements nested deeper than {_MAX_DEPTH} levels")
        index = parser.CurrentByteIndex
        element = _Element(name, index, _tag_end(data, index))
        (stack[-1].children if stack else root).append(element)
        stack.append(element)

    def end(_name: str) -> None:
        element = stack.pop()
        if data[element.start_tag_end - 2] == 0x2F:  # "/>": an empty-element tag
            element.end_tag_start = element.end = element.start_tag_end
        else:
            element.end_tag_start = parser.CurrentByteIndex
            element.end = _tag_end(data, element.end_tag_start)

    def text(chunk: str) -> None:
        if stack:
            stack[-1].children.append(_Text(chunk))

    def opaque(closing: bytes) -> object:
        def handler(*_: object) -> None:
            if stack:
                index = parser.CurrentByteIndex
                stack[-1].children.append(_Opaque(index, data.index(closing, index) + len(closing)))

        return handler

    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.ExternalEntityRefHandler = refuse_dtd
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.CommentHandler = opaque(b"-->")
    parser.ProcessingInstructionHandler = opaque(b"?>")
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise DocumentRejected(
            f"not well-formed XML (line {exc.lineno}, column {exc.offset})"
        ) from exc
    if not root:
        raise DocumentRejected("no XML element found")
    return root[0]


@dataclass
class _Run:
    """Consecutive text and inline children of one element, spliced as a whole."""

    start: int
    end: int
    lead: str
    trail: str
    parts: list[Part]
    # Byte strings that each tag number stands for: (open tag, close tag) or the whole thing.
    markup: dict[int, tuple[bytes, bytes] | bytes]


class XmlDocument:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.encoding = _encoding(data)
        root = _parse(data)
        self._runs: list[_Run] = []
        self._collect(root)
        self.segments = [Segment(run.parts) for run in self._runs]

    def _is_inline(self, element: _Element, parent: _Element) -> bool:
        return element.name in _INLINE or element.name in _OPAQUE or parent.has_direct_text()

    def _collect(self, element: _Element) -> None:
        boundary = element.start_tag_end
        pending: list[_Element | _Text | _Opaque] = []
        for child in element.children:
            if isinstance(child, _Element) and not self._is_inline(child, element):
                self._add_run(pending, boundary, child.start)
                pending = []
                self._collect(child)
                boundary = child.end
            else:
                pending.append(child)
        self._add_run(pending, boundary, element.end_tag_start)

    def _add_run(self, nodes: list[_Element | _Text | _Opaque], start: int, end: int) -> None:
        parts: list[Part] = []
        markup: dict[int, tuple[bytes, bytes] | bytes] = {}

        def walk(node: _Element | _Text | _Opaque) -> None:
            if isinstance(node, _Text):
                parts.append(node.data)
                return
            number = len(markup) + 1
            if isinstance(node, _Opaque) or node.name in _OPAQUE or not node.children:
                span = (node.start, node.end)
                markup[number] = self.data[span[0] : span[1]]
                parts.append(Empty(number))
                return
            markup[number] = (
                self.data[node.start : node.start_tag_end],
                self.data[node.end_tag_start : node.end],
            )
            parts.append(Open(number))
            for child in node.children:
                walk(child)
            parts.append(Close(number))

        for node in nodes:
            walk(node)
        plain = "".join(p for p in parts if isinstance(p, str))
        if not _LETTER.search(plain):
            return
        # The surrounding whitespace (indentation) stays outside what the model sees.
        lead = trail = ""
        if isinstance(parts[0], str):
            stripped = parts[0].lstrip(_ASCII_SPACE)
            lead, parts[0] = parts[0][: len(parts[0]) - len(stripped)], stripped
        if isinstance(parts[-1], str):
            stripped = parts[-1].rstrip(_ASCII_SPACE)
            trail, parts[-1] = parts[-1][len(stripped) :], stripped
        parts = [p for p in parts if p != ""]
        self._runs.append(_Run(start, end, lead, trail, parts, markup))

    def _escape(self, text: str) -> bytes:
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return escaped.encode(self.encoding, errors="xmlcharrefreplace")

    def rebuild(self, translations: list[list[Part] | None]) -> bytes:
        out = bytearray()
        position = 0
        for run, translated in zip(self._runs, translations, strict=True):
            if translated is None:
                continue
            out += self.data[position : run.start]
            out += self._escape(run.lead)
            for part in translated:
                if isinstance(part, str):
                    out += self._escape(part)
                elif isinstance(part, Empty):
                    out += run.markup[part.n]  # type: ignore[operator]
                else:
                    pair = run.markup[part.n]
                    assert isinstance(pair, tuple)
                    out += pair[0] if isinstance(part, Open) else pair[1]
            out += self._escape(run.trail)
            position = run.end
        out += self.data[position:]
        return bytes(out)
