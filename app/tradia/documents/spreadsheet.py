"""Excel (.xlsx): the text of the workbook translated in place with lxml; everything else kept.

Read: the shared strings that text cells use, the sheets' inline strings, the text boxes and
shapes of the sheets' drawings, and the cells' comments, in sheet order (cells, then drawings,
then comments). A string in several fonts (rich text) sends each run of one font as a numbered
tag; a text box paragraph is read as in a slide (slides.py). Formulas (with their cached
result), numbers, dates, booleans and errors are never sent, nor text without a letter; the same
text in several places is translated once. Sheet names, chart titles and phonetic guides
(<rPh>) are kept: the document API has no per-request option to ask for them.

Why not openpyxl: it rewrites every part and drops what it does not model (seen: shapes and
text boxes, sparklines (an x14 extension), threaded comments, custom XML parts).
Here only the parts that hold translated text are re-serialised; every other ZIP member is
copied byte for byte, in its order.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from urllib.parse import unquote

from lxml import etree

from tradia.documents.model import DocumentRejected, Segment
from tradia.documents.package import check_package
from tradia.documents.slides import Paragraph, fill_paragraph, read_paragraph
from tradia.documents.stretches import Pieces, from_parts, to_parts
from tradia.documents.tagged_text import Part

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_SHAPE = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}sp"
_DRAWING_P = "{http://schemas.openxmlformats.org/drawingml/2006/main}p"
_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
# The package passed check_package (no DTD, well-formed): this parser never resolves anything.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
# Text cells only, found by libxml2 rather than a Python loop over every cell of a big sheet.
_TEXT_CELLS = etree.XPath(
    ".//m:sheetData/m:row/m:c[@t='s' or @t='inlineStr'][not(m:f)]", namespaces={"m": _MAIN}
)
# OOXML strings write a character XML cannot hold (a control character) as _xHHHH_, and a
# literal "_xHHHH_" with its underscore escaped as _x005F_.
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\ufffe\uffff]")


def _x(tag: str) -> str:
    return f"{{{_MAIN}}}{tag}"


def _unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)


def _escape(text: str) -> str:
    text = _ESCAPED.sub(lambda m: "_x005F" + m.group(0), text)
    return _NOT_XML.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)


@dataclass
class _Rich:
    """A string element (<si>, a cell's <is>, a comment's <text>): per stretch, its <t>s."""

    texts: list[list[etree._Element]]
    pieces: Pieces


def _read_rich(element: etree._Element) -> _Rich:
    texts: list[list[etree._Element]] = []
    pieces: Pieces = []
    last_key: bytes | None = None
    for child in element:
        if child.tag == _x("t"):
            t, key = child, b""
        elif child.tag == _x("r"):
            found = child.find(_x("t"))
            if found is None:
                continue
            rpr = child.find(_x("rPr"))
            t, key = found, (b"" if rpr is None else etree.tostring(rpr))
        else:
            continue  # phonetic runs (<rPh>) and their properties stay as they are
        text = _unescape(t.text or "")
        if texts and key == last_key:
            texts[-1].append(t)
            pieces[-1] = (pieces[-1] or "") + text
        else:
            texts.append([t])
            pieces.append(text)
        last_key = key
    return _Rich(texts, pieces)


def _write(t: etree._Element, text: str) -> None:
    t.text = _escape(text)
    if text[:1].isspace() or text[-1:].isspace():
        # Without it Excel trims the spaces a translation starts or ends with.
        t.set(_SPACE, "preserve")


def _fill_rich(rich: _Rich, translated: list[Part]) -> None:
    new = from_parts(rich.pieces, translated)
    for elements, text in zip(rich.texts, new, strict=True):
        first, *rest = elements
        _write(first, text)
        for element in rest:
            element.text = ""
    # Runs left empty (merged into the first of their stretch, or a tag the answer emptied)
    # are removed rather than written as empty <r>, keeping at least one.
    holders = [t for elements in rich.texts for t in elements]
    keep_one = not any(t.text for t in holders)
    for t in holders:
        run = t.getparent()
        if t.text or run is None or run.tag != _x("r") or (keep_one and t is holders[0]):
            continue
        container = run.getparent()
        if container is not None:
            container.remove(run)


_Target = _Rich | Paragraph


def _has_letters(pieces: Pieces) -> bool:
    return any(any(c.isalpha() for c in piece or "") for piece in pieces)


class _Package:
    """The ZIP's parts and relationships, every failure a DocumentRejected."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self._archive = archive
        self.names = set(archive.namelist())

    def parse(self, name: str) -> etree._Element:
        if name not in self.names:
            raise DocumentRejected(f"not a valid .xlsx file (no {name[:100]})")
        try:
            return etree.fromstring(self._archive.read(name), _PARSER)
        except etree.XMLSyntaxError as exc:
            # check_package found it well-formed: this is one of lxml's depth or size limits.
            raise DocumentRejected(f"not a valid .xlsx file ({name[:100]}: {exc})") from exc

    def relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """Id -> (type, part name) of `part`'s relationships inside the package ("" for the
        package's own)."""
        directory, base = posixpath.split(part)
        name = posixpath.join(directory, "_rels", f"{base}.rels")
        if name not in self.names:
            return {}
        found: dict[str, tuple[str, str]] = {}
        for rel in self.parse(name).iter(_RELATIONSHIP):
            target = unquote(rel.get("Target", ""))
            if rel.get("TargetMode") == "External" or not target:
                continue
            path = (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join(directory, target))
            )
            found[rel.get("Id", "")] = (rel.get("Type", ""), path)
        return found

    def related(self, part: str, kind: str) -> list[str]:
        """The parts `part` relates to with a relationship type ending in "/<kind>"."""
        return [path for t, path in self.relationships(part).values() if t.endswith(f"/{kind}")]


class SpreadsheetDocument:
    def __init__(self, data: bytes) -> None:
        check_package(data, ".xlsx")
        self._data = data
        self.segments: list[Segment] = []
        # Each segment's places: (part name, string element or drawing paragraph).
        self._targets: list[list[tuple[str, _Target]]] = []
        self._by_text: dict[str, int] = {}
        # The parsed parts that hold a segment, rewritten by rebuild.
        self._trees: dict[str, etree._Element] = {}
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            self._read(_Package(archive))

    def _read(self, package: _Package) -> None:
        books = package.related("", "officeDocument")
        if not books:
            raise DocumentRejected("not a valid .xlsx file (no workbook in the package)")
        book_name = books[0]
        book = package.parse(book_name)
        if book.tag == f"{{{_STRICT}}}workbook":
            raise DocumentRejected(
                "not a valid .xlsx file (Strict Open XML is not supported: save it in Excel as"
                " an \u201cExcel Workbook\u201d)"
            )
        if book.tag != _x("workbook"):
            raise DocumentRejected("not a valid .xlsx file (not an Excel workbook)")
        sheets = book.findall(f"{_x('sheets')}/{_x('sheet')}")
        if not sheets:
            raise DocumentRejected("not a valid .xlsx file (no sheet in the workbook)")
        book_rels = package.relationships(book_name)
        strings_name = next((p for t, p in book_rels.values() if t.endswith("/sharedStrings")), "")
        table = package.parse(strings_name) if strings_name else None
        if table is not None and table.tag != _x("sst"):
            raise DocumentRejected(f"not a valid .xlsx file ({strings_name} is no string table)")
        strings = table.findall(_x("si")) if table is not None else []
        used: set[int] = set()
        for sheet in sheets:
            relation = book_rels.get(sheet.get(_R_ID, ""))
            if relation is None:
                name = (sheet.get("name") or "")[:80]
                raise DocumentRejected(f"not a valid .xlsx file (the sheet '{name}' has no part)")
            kind, sheet_name = relation
            if not kind.endswith("/worksheet"):
                continue  # a chart sheet, a macro or dialog sheet: no cells to translate
            root = package.parse(sheet_name)
            for cell in _TEXT_CELLS(root):
                if cell.get("t") == "inlineStr":
                    inline = cell.find(_x("is"))
                    if inline is not None:
                        self._add(sheet_name, root, _read_rich(inline))
                    continue
                value = cell.findtext(_x("v"), "").strip()
                index = int(value) if value.isdigit() else -1
                # A shared string is sent once, however many cells show it.
                if table is not None and 0 <= index < len(strings) and index not in used:
                    used.add(index)
                    self._add(strings_name, table, _read_rich(strings[index]))
            for drawing_name in package.related(sheet_name, "drawing"):
                drawing = package.parse(drawing_name)
                for shape in drawing.iter(_SHAPE):
                    for p in shape.iter(_DRAWING_P):
                        self._add(drawing_name, drawing, read_paragraph(p))
            for comments_name in package.related(sheet_name, "comments"):
                comments = package.parse(comments_name)
                for text in comments.iter(_x("text")):
                    self._add(comments_name, comments, _read_rich(text))

    def _add(self, part: str, root: etree._Element, target: _Target) -> None:
        if not _has_letters(target.pieces):
            return
        segment = Segment(to_parts(list(target.pieces)))
        index = self._by_text.get(segment.text)
        if index is None:
            index = self._by_text[segment.text] = len(self.segments)
            self.segments.append(segment)
            self._targets.append([])
        self._targets[index].append((part, target))
        self._trees[part] = root

    def rebuild(self, translations: list[list[Part] | None]) -> bytes:
        changed: set[str] = set()
        for targets, translated in zip(self._targets, translations, strict=True):
            if translated is None:
                continue
            for part, target in targets:
                changed.add(part)
                if isinstance(target, Paragraph):
                    fill_paragraph(target, translated)
                else:
                    _fill_rich(target, translated)
        out = io.BytesIO()
        with (
            zipfile.ZipFile(io.BytesIO(self._data)) as source,
            zipfile.ZipFile(out, "w") as archive,
        ):
            archive.comment = source.comment
            for info in source.infolist():
                if info.filename in changed:
                    tree = self._trees[info.filename].getroottree()
                    data = etree.tostring(
                        tree,
                        xml_declaration=True,
                        encoding="UTF-8",
                        standalone=tree.docinfo.standalone,
                    )
                else:
                    data = source.read(info)
                entry = zipfile.ZipInfo(info.filename, info.date_time)
                entry.external_attr = info.external_attr
                entry.compress_type = info.compress_type
                archive.writestr(entry, data)
        return out.getvalue()
