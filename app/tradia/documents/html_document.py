"""HTML (.html, .htm): the text of the body and the title, and the attributes people read.

Parsed with lxml.html (libxml2's HTML parser: no DTD is read, no entity is declared or
expanded, nothing is fetched); a DOCTYPE carrying an internal subset is refused outright since no
real page has one. Each block's text and inline elements (b, i, em, strong, a, span...) form
one segment, the inline elements as numbered tags whose original elements, attributes untouched,
are put back around the translated text. Scripts, styles, code, pre, svg, math and anything
marked translate="no" are never sent to the model. Translated attributes: alt, title,
placeholder, aria-label, and the value of inputs of type submit/button/reset.
The file is written back in its own encoding (characters it cannot hold become numeric
references), so its charset declaration stays true; <html> gets lang="<target>", and dir="rtl"
for a right-to-left target.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import lxml.html
from lxml import etree

from tradia.documents.element_text import append_text
from tradia.documents.model import DocumentRejected, Segment
from tradia.documents.tagged_text import Close, Empty, Open, Part

_INLINE = {
    "a", "abbr", "b", "bdi", "bdo", "big", "button", "cite", "data", "del", "dfn", "em",
    "font", "i", "ins", "label", "mark", "q", "s", "small", "span", "strike", "strong", "sub",
    "sup", "time", "tt", "u",
}  # fmt: skip
# Kept whole, never translated (inside a block they travel as a standalone numbered tag).
_UNTOUCHED = {
    "script", "style", "code", "pre", "kbd", "samp", "template", "svg", "math", "textarea",
    "noscript", "iframe", "object",
}  # fmt: skip
_VOID_INLINE = {"br", "img", "wbr", "input"}
_ATTRIBUTES = ("alt", "title", "placeholder", "aria-label")
_BUTTON_INPUTS = {"submit", "button", "reset"}
RTL_LANGUAGES = {"ar", "he", "fa", "ur"}
_INTERNAL_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._-]+)""", re.I)
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_SPACE = " \t\r\n\f"
_MAX_DEPTH = 200


def _decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it came in (BOM, then <meta charset>, then UTF-8/cp1252)."""
    if b"\x00" in data:
        raise DocumentRejected("binary content: this is not an HTML file")
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="strict"), "utf-8"
    match = _META_CHARSET.search(data[:4096])
    if match:
        name = match.group(1).decode("ascii").lower()
        try:
            encoding = codecs.lookup(name).name
        except LookupError as exc:
            raise DocumentRejected(f"unknown encoding {name}") from exc
        if encoding.startswith(("utf-16", "utf-32")):
            encoding = "utf-8"  # a byte-oriented file cannot really be UTF-16 (HTML spec)
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            raise DocumentRejected(f"the file declares {name} but is not valid {name}") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def _tag(node: etree._Element) -> str:
    return node.tag.lower() if isinstance(node.tag, str) else ""


def _untouched(node: etree._Element) -> bool:
    return (
        not isinstance(node.tag, str) or _tag(node) in _UNTOUCHED or node.get("translate") == "no"
    )


def _holds_block(node: etree._Element) -> bool:
    return any(
        isinstance(d.tag, str) and _tag(d) not in _INLINE | _VOID_INLINE | _UNTOUCHED
        for d in node.iterdescendants()
    )


@dataclass
class _Run:
    parent: etree._Element
    anchor: etree._Element | None  # the text sits in anchor.tail, or parent.text when None
    nodes: list[etree._Element]
    lead: str
    trail: str
    parts: list[Part]
    markup: dict[int, etree._Element]
    paired: set[int]


@dataclass
class _Attribute:
    element: etree._Element
    name: str
    parts: list[Part]


class HtmlDocument:
    def __init__(self, data: bytes) -> None:
        if _INTERNAL_SUBSET.search(data):
            raise DocumentRejected("HTML with a DOCTYPE declaring entities is refused.")
        text, self.encoding = _decode(data)
        if not text.lstrip(_SPACE + "\ufeff").startswith("<"):
            raise DocumentRejected("not an HTML file (it does not start with a tag)")
        parser = lxml.html.HTMLParser(no_network=True, remove_comments=False, remove_pis=False)
        try:
            self._root = lxml.html.document_fromstring(text, parser=parser)
        except (etree.ParserError, ValueError) as exc:
            raise DocumentRejected(f"not a readable HTML file ({exc})") from exc
        self._items: list[_Run | _Attribute] = []
        self._walk(self._root, 0)
        self.segments = [Segment(item.parts) for item in self._items]
        self.target: str | None = None

    def set_target(self, language: str) -> None:
        self.target = language

    # ---- reading --------------------------------------------------------------------------

    def _attributes(self, element: etree._Element) -> None:
        names = list(_ATTRIBUTES)
        if _tag(element) == "input" and (element.get("type") or "").lower() in _BUTTON_INPUTS:
            names.append("value")
        for name in names:
            value = element.get(name)
            if value and _LETTER.search(value):
                self._items.append(_Attribute(element, name, [value.strip(_SPACE)]))

    def _walk(self, element: etree._Element, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise DocumentRejected(f"elements nested deeper than {_MAX_DEPTH} levels")
        if _untouched(element):
            return
        self._attributes(element)
        if _tag(element) == "head":
            for child in element:
                if _tag(child) == "title":
                    self._walk(child, depth + 1)
            return
        anchor: etree._Element | None = None
        pending: list[etree._Element] = []
        for child in element:
            inline = (
                _untouched(child)
                or _tag(child) in _VOID_INLINE
                or (_tag(child) in _INLINE and not _holds_block(child))
            )
            if inline:
                pending.append(child)
                continue
            self._add_run(element, anchor, pending, depth)
            pending = []
            self._walk(child, depth + 1)
            anchor = child
        self._add_run(element, anchor, pending, depth)

    def _add_run(
        self,
        parent: etree._Element,
        anchor: etree._Element | None,
        nodes: list[etree._Element],
        depth: int,
    ) -> None:
        parts: list[Part] = [(parent.text if anchor is None else anchor.tail) or ""]
        markup: dict[int, etree._Element] = {}
        paired: set[int] = set()

        def walk(node: etree._Element, level: int) -> None:
            if level > _MAX_DEPTH:
                raise DocumentRejected(f"elements nested deeper than {_MAX_DEPTH} levels")
            number = len(markup) + 1
            markup[number] = node
            if _untouched(node) or _tag(node) in _VOID_INLINE:
                if not _untouched(node):
                    self._attributes(node)  # an image's alt text
                parts.append(Empty(number))
            else:
                self._attributes(node)  # a link's title
                paired.add(number)
                parts.append(Open(number))
                parts.append(node.text or "")
                for child in node:
                    walk(child, level + 1)
                parts.append(Close(number))
            parts.append(node.tail or "")

        for node in nodes:
            walk(node, depth + 1)
        parts = [p for p in parts if p != ""]
        if not _LETTER.search("".join(p for p in parts if isinstance(p, str))):
            return
        lead = trail = ""
        if isinstance(parts[0], str):
            stripped = parts[0].lstrip(_SPACE)
            lead, parts[0] = parts[0][: len(parts[0]) - len(stripped)], stripped
        if isinstance(parts[-1], str):
            stripped = parts[-1].rstrip(_SPACE)
            trail, parts[-1] = parts[-1][len(stripped) :], stripped
        parts = [p for p in parts if p != ""]
        self._items.append(_Run(parent, anchor, nodes, lead, trail, parts, markup, paired))

    # ---- writing --------------------------------------------------------------------------

    @staticmethod
    def _put(run: _Run, translated: list[Part]) -> None:
        for node in run.nodes:
            run.parent.remove(node)
        for number, node in run.markup.items():
            node.tail = None
            if number in run.paired:
                node.text = None
                for child in list(node):
                    node.remove(child)
        holder = etree.Element("holder")
        stack = [holder]

        def add_text(text: str) -> None:
            append_text(stack[-1], text)

        add_text(run.lead)
        for part in translated:
            if isinstance(part, str):
                add_text(part)
            elif isinstance(part, Close):
                stack.pop()
            else:
                stack[-1].append(run.markup[part.n])
                if isinstance(part, Open):
                    stack.append(run.markup[part.n])
        add_text(run.trail)
        if run.anchor is None:
            run.parent.text = holder.text
            index = 0
        else:
            run.anchor.tail = holder.text
            index = run.parent.index(run.anchor) + 1
        for offset, node in enumerate(list(holder)):
            run.parent.insert(index + offset, node)

    def rebuild(self, translations: list[list[Part] | None]) -> bytes:
        for item, translated in zip(self._items, translations, strict=True):
            if translated is None:
                continue
            if isinstance(item, _Attribute):
                original = item.element.get(item.name) or ""
                text = "".join(p for p in translated if isinstance(p, str))
                # Keep the attribute's own surrounding spaces, as for text.
                stripped = original.strip(_SPACE)
                start = original.find(stripped)
                item.element.set(
                    item.name, original[:start] + text + original[start + len(stripped) :]
                )
            else:
                self._put(item, translated)
        if self.target:
            self._root.set("lang", self.target)
            if self.target.split("-")[0].lower() in RTL_LANGUAGES:
                self._root.set("dir", "rtl")
            elif (self._root.get("dir") or "").lower() == "rtl":
                self._root.set("dir", "ltr")
        return etree.tostring(
            self._root.getroottree(), method="html", encoding=self.encoding, doctype=None
        )
