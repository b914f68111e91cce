"""Excel (.xlsx): the text cells translated in place with openpyxl; everything else untouched.

Only string cells (shared or inline strings) are read: formulas, numbers, dates and booleans are
never sent to the model. A cell with rich text (runs in several fonts) sends each run as a
numbered tag. The same text in several cells is translated once. Sheet names are kept: the
document API has no per-request option to ask for their translation.
openpyxl keeps styles, merged cells, column widths, number formats, comments and images, but not
drawing shapes or text boxes (it does not read them).
"""

from __future__ import annotations

import io

import openpyxl
from lxml import etree
from openpyxl.cell.cell import Cell
from openpyxl.cell.rich_text import CellRichText, TextBlock

from tradia.documents.model import DocumentRejected, Segment
from tradia.documents.package import check_package
from tradia.documents.stretches import from_parts, to_parts
from tradia.documents.tagged_text import Part

_FORMULA = "f"
_STRING = "s"


def _font_key(block: str | TextBlock) -> bytes:
    if isinstance(block, TextBlock):
        return etree.tostring(block.font.to_tree())
    return b""


def _stretches(value: str | CellRichText) -> list[tuple[bytes, str | TextBlock, str]]:
    """(font key, first block, text) per run of blocks sharing one font."""
    if isinstance(value, str):
        return [(b"", value, value)]
    merged: list[tuple[bytes, str | TextBlock, str]] = []
    for block in value:
        text = block.text if isinstance(block, TextBlock) else block
        key = _font_key(block)
        if merged and merged[-1][0] == key:
            merged[-1] = (key, merged[-1][1], merged[-1][2] + text)
        else:
            merged.append((key, block, text))
    return merged


class SpreadsheetDocument:
    def __init__(self, data: bytes) -> None:
        check_package(data, ".xlsx")
        try:
            self._book = openpyxl.load_workbook(io.BytesIO(data), rich_text=True)
        except Exception as exc:
            # openpyxl fails in many ways on a malformed package (KeyError for a missing
            # workbook, lxml errors, TypeError on a wrong root...): each means "not a workbook".
            raise DocumentRejected("not a valid .xlsx file (not an Excel workbook)") from exc
        if not self._book.sheetnames:
            # A workbook part openpyxl could not read (a wrong root) lists no sheet, and saving
            # it would fail: Excel requires at least one.
            raise DocumentRejected("not a valid .xlsx file (no sheet in the workbook)")
        self.segments: list[Segment] = []
        # Each segment's cells (the same text in several cells is sent once).
        self._cells: list[list[Cell]] = []
        by_text: dict[str, int] = {}
        for sheet in self._book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    value = cell.value
                    if cell.data_type != _STRING or not isinstance(value, str | CellRichText):
                        continue
                    stretches = _stretches(value)
                    if not any(any(c.isalpha() for c in text) for _, _, text in stretches):
                        continue
                    segment = Segment(to_parts([text for _, _, text in stretches]))
                    known = by_text.get(segment.text)
                    if known is None:
                        by_text[segment.text] = len(self.segments)
                        self.segments.append(segment)
                        self._cells.append([cell])
                    else:
                        self._cells[known].append(cell)

    @staticmethod
    def _set(cell: Cell, translated: list[Part]) -> None:
        value = cell.value
        assert isinstance(value, str | CellRichText)
        stretches = _stretches(value)
        texts = from_parts([text for _, _, text in stretches], translated)
        if isinstance(value, str):
            cell.value = texts[0]
        else:
            blocks: list[str | TextBlock] = []
            for (_, first, _), text in zip(stretches, texts, strict=True):
                if not text:
                    continue  # an empty run is dropped rather than written as an empty <r>
                blocks.append(TextBlock(first.font, text) if isinstance(first, TextBlock) else text)
            cell.value = CellRichText(blocks)
        # A translation starting with "=" is still text, never a formula.
        if cell.data_type == _FORMULA:
            cell.data_type = _STRING

    def rebuild(self, translations: list[list[Part] | None]) -> bytes:
        for cells, translated in zip(self._cells, translations, strict=True):
            if translated is None:
                continue
            for cell in cells:
                self._set(cell, translated)
        out = io.BytesIO()
        self._book.save(out)
        return out.getvalue()
