"""OpenDocument text and presentations (.odt, .odp): paragraphs translated in place with lxml.

Every text:p and text:h of content.xml (body, lists, table cells, text boxes in draw:frame,
presentation notes) and of styles.xml (headers, footers, master pages) is one segment. Inside a
paragraph, text:span (a style) and text:a (a link) stretches become numbered tags; anything else
(tabs, line breaks, spaces, fields, notes, frames, bookmarks) is a fixed piece `<n/>` kept where
it is, and paragraphs nested in it (a footnote, a text box) are segments of their own.

lxml on the two parts rather than odfpy: odfpy re-serialises every part it loads, whereas here
only the parts holding translated text are rewritten and every other part of the package is
copied byte for byte; `mimetype` is written first and stored uncompressed, as ODF requires.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from lxml import etree

from tradia.documents.model import DocumentRejected, Segment
from tradia.documents.package import check_package
from tradia.documents.stretches import Pieces, from_parts, to_parts
from tradia.documents.tagged_text import Part

_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_PARAGRAPHS = (f"{{{_TEXT}}}p", f"{{{_TEXT}}}h")
_INLINE = (f"{{{_TEXT}}}span", f"{{{_TEXT}}}a")
_PARTS = ("content.xml", "styles.xml")
MEDIA_TYPES = {
    ".odt": "application/vnd.oasis.opendocument.text",
    ".odp": "application/vnd.oasis.opendocument.presentation",
}
# No DTD, no entity, no network: check_package has refused any DTD already.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

# Where a stretch's text lives: an element's .text or .tail.
_Slot = tuple[etree._Element, str]


@dataclass
class _Paragraph:
    slots: list[list[_Slot]]  # per piece: the slots of a stretch, [] for a fixed piece
    pieces: Pieces


def _key(element: etree._Element) -> tuple[str, tuple[tuple[str, str], ...]]:
    return element.tag, tuple(sorted(element.attrib.items()))


def _paragraph(p: etree._Element) -> _Paragraph:
    slots: list[list[_Slot]] = []
    pieces: Pieces = []
    last_key: object = None

    def text(owner: etree._Element, attribute: str, key: tuple[object, ...]) -> None:
        nonlocal last_key
        value = getattr(owner, attribute)
        if not value:
            return
        if key == last_key:
            slots[-1].append((owner, attribute))
            pieces[-1] = (pieces[-1] or "") + value
        else:
            slots.append([(owner, attribute)])
            pieces.append(value)
        last_key = key

    def walk(element: etree._Element, chain: tuple[object, ...]) -> None:
        nonlocal last_key
        text(element, "text", chain)
        for child in element:
            if child.tag in _INLINE:
                walk(child, (*chain, _key(child)))
            else:
                slots.append([])
                pieces.append(None)
                last_key = None
            text(child, "tail", chain)

    walk(p, ())
    return _Paragraph(slots, pieces)


class OpenDocument:
    def __init__(self, data: bytes, extension: str) -> None:
        check_package(data, extension)
        self._data = data
        self._trees: dict[str, etree._Element] = {}
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
                if mimetype != MEDIA_TYPES[extension]:
                    raise DocumentRejected(
                        f"not a valid {extension} file (its mimetype is '{mimetype[:80]}')"
                    )
                names = archive.namelist()
                for name in _PARTS:
                    if name in names:
                        self._trees[name] = etree.fromstring(archive.read(name), _PARSER)
        except KeyError as exc:
            raise DocumentRejected(f"not a valid {extension} file (no mimetype)") from exc
        except etree.XMLSyntaxError as exc:
            # check_package found it well-formed: this is lxml's depth or size limit.
            raise DocumentRejected(f"not a valid {extension} file ({exc})") from exc
        if "content.xml" not in self._trees:
            raise DocumentRejected(f"not a valid {extension} file (no content.xml)")
        self._paragraphs: list[_Paragraph] = []
        self._owners: list[str] = []
        self.segments: list[Segment] = []
        for name, root in self._trees.items():
            for p in root.iter(*_PARAGRAPHS):
                paragraph = _paragraph(p)
                if not any(any(c.isalpha() for c in piece or "") for piece in paragraph.pieces):
                    continue
                self._paragraphs.append(paragraph)
                self._owners.append(name)
                self.segments.append(Segment(to_parts(paragraph.pieces)))

    def rebuild(self, translations: list[list[Part] | None]) -> bytes:
        changed: set[str] = set()
        for paragraph, owner, translated in zip(
            self._paragraphs, self._owners, translations, strict=True
        ):
            if translated is None:
                continue
            changed.add(owner)
            new = from_parts(paragraph.pieces, translated)
            for slots, text in zip(paragraph.slots, new, strict=True):
                if slots:
                    (first, attribute), *rest = slots
                    setattr(first, attribute, text or None)
                    for element, other in rest:
                        setattr(element, other, None)
        out = io.BytesIO()
        with (
            zipfile.ZipFile(io.BytesIO(self._data)) as source,
            zipfile.ZipFile(out, "w") as archive,
        ):
            infos = source.infolist()
            # ODF: `mimetype` first, stored, so the type can be read at a fixed offset.
            infos.sort(key=lambda info: info.filename != "mimetype")
            for info in infos:
                if info.filename in changed:
                    data = etree.tostring(
                        self._trees[info.filename], xml_declaration=True, encoding="UTF-8"
                    )
                else:
                    data = source.read(info)
                entry = zipfile.ZipInfo(info.filename, info.date_time)
                entry.external_attr = info.external_attr
                entry.compress_type = (
                    zipfile.ZIP_STORED if info.filename == "mimetype" else info.compress_type
                )
                archive.writestr(entry, data)
        return out.getvalue()
