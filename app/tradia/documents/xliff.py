"""XLIFF 1.2 and 2.0 (.xlf, .xliff), the exchange format of CAT tools: each <target> filled from
its <source>.

Inline codes become numbered tags: paired ones (1.2 <g>, <mrk>; 2.0 <pc>, <mrk>) keep their
translated content inside, the others (1.2 <x/>, <bx/>, <ex/>, <ph>, <bpt>, <ept>, <it>; 2.0
<ph/>, <sc/>, <ec/>, <cp/>, <sm/>, <em/>) are copied whole. A filled target gets
state="translated" (on <target> in 1.2, on <segment> in 2.0), or in 1.2
state="needs-review-translation" when the model's tags did not match (its text kept, the codes
left for the reviewer). Ids, notes, other attributes and units marked translate="no" or already
approved/final are left alone. The target language is written where the file has none (1.2
target-language on <file>, 2.0 trgLang on <xliff>).
A DOCTYPE or entity declaration is refused before lxml builds anything (an expat pass that
stops at the first one), and lxml itself never resolves entities nor reads the network.
"""

from __future__ import annotations

import copy
import re
import xml.parsers.expat

from lxml import etree

from tradia.documents.element_text import append_text
from tradia.documents.model import DocumentRejected, Segment
from tradia.documents.tagged_text import Close, Empty, Open, Part

NS_12 = "urn:oasis:names:tc:xliff:document:1.2"
NS_20 = "urn:oasis:names:tc:xliff:document:2.0"
_PAIRED = {NS_12: {"g", "mrk"}, NS_20: {"pc", "mrk"}}
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_SPACE = " \t\r\n"
_NUMBERED_TAG = re.compile(r"</?\d+/?>")


def _refuse_dtd(data: bytes) -> None:
    """Expat sees the DOCTYPE before any entity is used: stop there."""
    parser = xml.parsers.expat.ParserCreate()
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_: object) -> None:
        raise DocumentRejected("XML with a DOCTYPE or entity declarations is refused.")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise DocumentRejected(
            f"not well-formed XML (line {exc.lineno}, column {exc.offset})"
        ) from exc


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


class _Unit:
    """One source to translate and where its translation goes."""

    def __init__(self, owner: etree._Element, source: etree._Element, ns: str) -> None:
        self.owner = owner  # 1.2 <trans-unit>, 2.0 <segment>
        self.source = source
        self.ns = ns
        self.markup: dict[int, etree._Element] = {}
        parts: list[Part] = []
        self._walk(source, parts)
        self.lead = self.trail = ""
        if parts and isinstance(parts[0], str):
            stripped = parts[0].lstrip(_SPACE)
            self.lead, parts[0] = parts[0][: len(parts[0]) - len(stripped)], stripped
        if parts and isinstance(parts[-1], str):
            stripped = parts[-1].rstrip(_SPACE)
            self.trail, parts[-1] = parts[-1][len(stripped) :], stripped
        self.parts = [p for p in parts if p != ""]

    def _walk(self, element: etree._Element, parts: list[Part]) -> None:
        if element.text:
            parts.append(element.text)
        for child in element:
            number = len(self.markup) + 1
            self.markup[number] = child
            if _local(child) in _PAIRED[self.ns] and child.get("translate") != "no":
                parts.append(Open(number))
                self._walk(child, parts)
                parts.append(Close(number))
            else:
                parts.append(Empty(number))
            if child.tail:
                parts.append(child.tail)

    def fill(self, translated: list[Part]) -> etree._Element:
        """The <target>, created after <source> (or <seg-source>) when absent, refilled."""
        target = self.owner.find(f"{{{self.ns}}}target")
        if target is None:
            anchor = self.source
            following = anchor.getnext()
            if following is not None and _local(following) == "seg-source":
                anchor = following
            target = etree.Element(f"{{{self.ns}}}target")
            anchor.addnext(target)
            target.tail = anchor.tail
        for child in list(target):
            target.remove(child)
        target.text = None
        stack = [target]

        def add_text(text: str) -> None:
            append_text(stack[-1], text)

        add_text(self.lead)
        for part in translated:
            if isinstance(part, str):
                add_text(part)
            elif isinstance(part, Open):
                original = self.markup[part.n]
                stack.append(etree.SubElement(stack[-1], original.tag, dict(original.attrib)))
            elif isinstance(part, Close):
                stack.pop()
            else:
                whole = copy.deepcopy(self.markup[part.n])
                whole.tail = None
                stack[-1].append(whole)
        add_text(self.trail)
        return target


class XliffDocument:
    def __init__(self, data: bytes) -> None:
        _refuse_dtd(data)
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
        )
        try:
            self._root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError as exc:
            raise DocumentRejected(f"not well-formed XML ({exc})") from exc
        self.ns = etree.QName(self._root).namespace or ""
        if etree.QName(self._root).localname != "xliff" or self.ns not in _PAIRED:
            raise DocumentRejected("not an XLIFF 1.2 or 2.0 file (no <xliff> root element)")
        self._units = self._units_12() if self.ns == NS_12 else self._units_20()
        self.segments = [Segment(unit.parts) for unit in self._units]
        self.target: str | None = None
        self._review: dict[int, str] = {}

    def set_target(self, language: str) -> None:
        self.target = language

    def keep_for_review(self, index: int, answer: str) -> None:
        """An answer whose tags came back damaged: in 1.2 its text (inline codes left out)
        becomes the target, state="needs-review-translation". XLIFF 2.0 has no such state:
        there the segment stays untranslated."""
        if self.ns == NS_12:
            self._review[index] = _NUMBERED_TAG.sub("", answer)

    def _q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    def _keep(self, unit: _Unit) -> bool:
        return not _LETTER.search("".join(p for p in unit.parts if isinstance(p, str)))

    def _units_12(self) -> list[_Unit]:
        units = []
        for owner in self._root.iter(self._q("trans-unit")):
            source = owner.find(self._q("source"))
            target = owner.find(self._q("target"))
            done = owner.get("approved") == "yes" and target is not None
            if source is None or owner.get("translate") == "no" or done:
                continue
            unit = _Unit(owner, source, self.ns)
            if not self._keep(unit):
                units.append(unit)
        return units

    def _units_20(self) -> list[_Unit]:
        units = []
        for element in self._root.iter(self._q("unit")):
            if element.get("translate") == "no":
                continue
            for owner in element.iter(self._q("segment")):
                source = owner.find(self._q("source"))
                final = owner.get("state") == "final" and owner.find(self._q("target")) is not None
                if source is None or final:
                    continue
                unit = _Unit(owner, source, self.ns)
                if not self._keep(unit):
                    units.append(unit)
        return units

    def rebuild(self, translations: list[list[Part] | None]) -> bytes:
        for index, (unit, translated) in enumerate(zip(self._units, translations, strict=True)):
            if translated is None:
                if index in self._review:
                    draft = unit.fill([self._review[index]])
                    draft.set("state", "needs-review-translation")
                continue  # otherwise left as it was: the job's report lists the segment
            target = unit.fill(translated)
            if self.ns == NS_12:
                target.set("state", "translated")
            else:
                unit.owner.set("state", "translated")
        if self.target:
            if self.ns == NS_12:
                for file in self._root.iter(self._q("file")):
                    if not file.get("target-language"):
                        file.set("target-language", self.target)
            elif not self._root.get("trgLang"):
                self._root.set("trgLang", self.target)
        tree = self._root.getroottree()
        return etree.tostring(
            tree,
            xml_declaration=True,
            encoding=tree.docinfo.encoding or "UTF-8",
            # lxml reads an absent declaration as False: only a standalone="yes" is written back.
            standalone=True if tree.docinfo.standalone else None,
        )
