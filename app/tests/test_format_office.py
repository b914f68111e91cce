"""Office formats (.xlsx, .pptx, .odt, .odp): each fixture is built here with the features of its
format, translated, re-opened with its library and checked: same cells / shapes / paragraphs,
formatting runs in place, numbers and formulas unchanged, and LibreOffice converts the result.

Most tests translate through the Document class with a fake model that upper-cases each text
part and keeps the tags; one per format family goes through the API with the simulator."""

from __future__ import annotations

import base64
import datetime
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import httpx
import openpyxl
import pptx
import pypdf
import pytest
import xlsxwriter
from hostile_files import PNG_1X1
from lxml import etree
from office import convert
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles import Font
from pptx.oxml.ns import qn
from pptx.util import Inches
from tradia.documents.formats import open_document
from tradia.documents.model import Document
from tradia.documents.tagged_text import Part
from tradia_testkit import of_type, stream_events


def upper(parts: list[Part]) -> list[Part]:
    return [p.upper() if isinstance(p, str) else p for p in parts]


def translate_locally(name: str, data: bytes) -> tuple[Document, bytes]:
    document = open_document(name, data)
    return document, document.rebuild([upper(s.parts) for s in document.segments])


def translate_by_api(client: httpx.Client, name: str, data: bytes) -> bytes:
    events = stream_events(
        client,
        "/api/documents/translate",
        data={"target": "en"},
        files=[("files", (name, data, "application/octet-stream"))],
    )
    assert of_type(events, "file_done")[0]["failed"] == [], events
    download = of_type(events, "download")[0]
    assert download["filename"] == name.replace(".", ".en.")
    return base64.b64decode(download["data_base64"])


# ---- .xlsx ------------------------------------------------------------------------------------

WHEN = datetime.datetime(2026, 3, 14, 9, 30)


def workbook() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Données"
    sheet["A1"] = "Bonjour le monde"
    sheet["A1"].font = Font(bold=True, color="FF0000")
    sheet["A2"] = 1234.5
    sheet["A2"].number_format = "#,##0.00"
    sheet["A3"] = "=SUM(A2:A2)*2"
    sheet["A4"] = WHEN
    sheet["A5"] = True
    sheet["A6"] = "Bonjour le monde"  # the same text again: translated once
    sheet["A7"] = "2026-03-14"  # text without a letter: not sent
    sheet["B1"] = CellRichText(
        "Texte ",
        TextBlock(InlineFont(b=True), "en gras"),
        " et ",
        TextBlock(InlineFont(i=True, color="0000FF"), "en italique"),
    )
    sheet["C1"] = "Cellule fusionnée"
    sheet.merge_cells("C1:D2")
    sheet.column_dimensions["A"].width = 31.5
    other = book.create_sheet("Résumé")
    other["A1"] = "Deuxième feuille"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def workbook_with_shared_strings() -> bytes:
    """The same sheet written by XlsxWriter, which stores text as shared strings (rich text
    included), where openpyxl writes inline strings."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Données")
    bold, italic = book.add_format({"bold": True}), book.add_format({"italic": True})
    sheet.write_string("A1", "Bonjour le monde", book.add_format({"bold": True, "color": "red"}))
    sheet.write_number("A2", 1234.5, book.add_format({"num_format": "#,##0.00"}))
    # With its cached result, as Excel saves it: LibreOffice shows that value (XlsxWriter's
    # default is 0), and the translation keeps the sheet's cells as they were.
    sheet.write_formula("A3", "=SUM(A2:A2)*2", None, 2469)
    sheet.write_datetime("A4", WHEN, book.add_format({"num_format": "yyyy-mm-dd hh:mm"}))
    sheet.write_boolean("A5", True)
    sheet.write_string("A6", "Bonjour le monde")
    sheet.write_string("A7", "2026-03-14")
    sheet.write_rich_string("B1", "Texte ", bold, "en gras", " et ", italic, "en italique")
    sheet.merge_range("C1:D2", "Cellule fusionnée")
    sheet.set_column("A:A", 31.5)
    book.add_worksheet("Résumé").write_string("A1", "Deuxième feuille")
    book.close()
    return out.getvalue()


def font_xml(font: object) -> bytes:
    return b"" if font is None else etree.tostring(font.to_tree())  # type: ignore[attr-defined]


def check_workbook(original: bytes, data: bytes, translate: Callable[[str], str]) -> None:
    """Every cell keeps its type, style and number format; text cells hold their translation
    (run by run for rich text, fonts in place); everything else is the original value."""
    before = openpyxl.load_workbook(io.BytesIO(original), rich_text=True)
    after = openpyxl.load_workbook(io.BytesIO(data), rich_text=True)
    assert after.sheetnames == before.sheetnames == ["Données", "Résumé"]
    for old_sheet, new_sheet in zip(before.worksheets, after.worksheets, strict=True):
        assert new_sheet.merged_cells.ranges == old_sheet.merged_cells.ranges
        assert {k: d.width for k, d in new_sheet.column_dimensions.items()} == {
            k: d.width for k, d in old_sheet.column_dimensions.items()
        }
        cells = zip(old_sheet.iter_rows(), new_sheet.iter_rows(), strict=True)
        for old, new in (pair for rows in cells for pair in zip(*rows, strict=True)):
            assert (new.data_type, new.number_format) == (old.data_type, old.number_format)
            assert font_xml(new.font) == font_xml(old.font)
            if isinstance(old.value, CellRichText):
                assert isinstance(new.value, CellRichText)
                assert [(font_xml(getattr(b, "font", None)), str(b)) for b in new.value] == [
                    (font_xml(getattr(b, "font", None)), translate(str(b))) for b in old.value
                ]
            elif old.data_type == "s" and old.value is not None:
                assert new.value == translate(old.value)
            else:
                assert new.value == old.value
    sheet = after["Données"]
    assert sheet["A2"].value == 1234.5
    assert sheet["A3"].value == "=SUM(A2:A2)*2"
    assert sheet["A4"].value == WHEN
    assert sheet["A5"].value is True
    assert sheet["A7"].value == "2026-03-14"
    bold = [b for b in sheet["B1"].value if isinstance(b, TextBlock) and b.font.b]
    assert [b.text for b in bold] == [translate("en gras")]
    assert sheet.column_dimensions["A"].width > 31  # the custom width, not the default 13


@pytest.mark.parametrize("build", [workbook, workbook_with_shared_strings])
def test_xlsx_text_cells_translated_numbers_formulas_styles_kept(
    build: Callable[[], bytes], tmp_path: Path
) -> None:
    original = build()
    with zipfile.ZipFile(io.BytesIO(original)) as archive:
        shared = "xl/sharedStrings.xml" in archive.namelist()
        inline = b't="inlineStr"' in archive.read("xl/worksheets/sheet1.xml")
    # One fixture stores its text as shared strings, the other as inline strings.
    assert (shared, inline) == (
        (True, False) if build is workbook_with_shared_strings else (False, True)
    )
    document, data = translate_locally("tableau.xlsx", original)
    # A1 and A6 share one segment; numbers, formula, date, boolean, "2026-03-14" are not sent.
    assert [s.text for s in document.segments] == [
        "Bonjour le monde",
        "<1>Texte </1><2>en gras</2><3> et </3><4>en italique</4>",
        "Cellule fusionnée",
        "Deuxième feuille",
    ]
    check_workbook(original, data, str.upper)
    if build is workbook:
        return  # one LibreOffice conversion is enough
    path = tmp_path / "tableau.xlsx"
    path.write_bytes(data)
    # Filter options 44,34,76: comma, double quote, UTF-8.
    converted = convert(path, "csv:Text - txt - csv (StarCalc):44,34,76", tmp_path)
    csv = converted.read_text(encoding="utf-8")
    assert "BONJOUR LE MONDE" in csv
    assert "TEXTE EN GRAS ET EN ITALIQUE" in csv
    assert "CELLULE FUSIONNÉE" in csv
    assert '\n"1,234.50",,\n2469,,\n' in csv  # the number, its format, the formula's result


def test_xlsx_through_the_api(client: httpx.Client) -> None:
    data = translate_by_api(client, "tableau.xlsx", workbook())
    book = openpyxl.load_workbook(io.BytesIO(data), rich_text=True)
    sheet = book["Données"]
    assert sheet["A1"].value.startswith('You wrote: "')
    assert "Bonjour le monde" in sheet["A1"].value
    assert sheet["A2"].value == 1234.5
    assert sheet["A3"].value == "=SUM(A2:A2)*2"
    rich = sheet["B1"].value
    bold = [b for b in rich if isinstance(b, TextBlock) and b.font.b]
    assert [b.text for b in bold] == ["en gras"]


def workbook_with_objects() -> bytes:
    """What openpyxl loses or never reads, beside cells: sparklines (an x14 extension of the
    sheet), a text box (a drawing shape), plus a chart, an image, a comment, data validation and
    conditional formatting, as Excel would hold them (XlsxWriter writes them)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Ventes")
    sheet.write_row("A1", ["Janvier", "Février", "Mars"])
    sheet.write_row("A2", [10, 20, 15])
    sheet.write_formula("D2", "=SUM(A2:C2)", None, 45)
    sheet.write_string("A4", "Total des ventes")
    sheet.write_comment("A4", "Vérifier les chiffres")
    sheet.add_sparkline("E2", {"range": "Ventes!A2:C2", "markers": True})
    sheet.data_validation("A2:C2", {"validate": "integer", "criteria": ">=", "value": 0})
    sheet.conditional_format(
        "A2:C2",
        {"type": "cell", "criteria": ">", "value": 12, "format": book.add_format({"bold": 1})},
    )
    chart = book.add_chart({"type": "column"})
    chart.add_series({"categories": "=Ventes!$A$1:$C$1", "values": "=Ventes!$A$2:$C$2"})
    chart.set_title({"name": "Ventes du trimestre"})
    sheet.insert_chart("A6", chart)
    sheet.insert_image("H2", "logo.png", {"image_data": io.BytesIO(PNG_1X1)})
    sheet.insert_textbox("H8", "Zone de texte\nSeconde ligne", {"font": {"bold": True}})
    book.close()
    return out.getvalue()


XDR = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"
X14_EXTENSIONS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}extLst"


def test_xlsx_keeps_what_openpyxl_drops(tmp_path: Path) -> None:
    original = workbook_with_objects()
    document, data = translate_locally("ventes.xlsx", original)
    # The parts that hold text may be rewritten; every other one comes back byte for byte, in
    # the same order (chart, image, VML of the comment, styles, content types...).
    text_parts = {
        "xl/sharedStrings.xml",
        "xl/worksheets/sheet1.xml",
        "xl/drawings/drawing1.xml",
        "xl/comments1.xml",
    }
    with (
        zipfile.ZipFile(io.BytesIO(original)) as before,
        zipfile.ZipFile(io.BytesIO(data)) as after,
    ):
        assert after.namelist() == before.namelist()
        assert text_parts < set(before.namelist())
        assert "xl/charts/chart1.xml" in before.namelist()
        for name in sorted(set(before.namelist()) - text_parts):
            assert after.read(name) == before.read(name), name
        old_sheet = etree.fromstring(before.read("xl/worksheets/sheet1.xml"))
        new_sheet = etree.fromstring(after.read("xl/worksheets/sheet1.xml"))
        old_drawing = etree.fromstring(before.read("xl/drawings/drawing1.xml"))
        new_drawing = etree.fromstring(after.read("xl/drawings/drawing1.xml"))
    # The sparklines, data validation and conditional formatting are still there, unchanged.
    for tag in (
        X14_EXTENSIONS,
        *(f"{{{old_sheet.nsmap[None]}}}{t}" for t in ("dataValidations", "conditionalFormatting")),
    ):
        assert [etree.tostring(e) for e in new_sheet.iter(tag)] == [
            etree.tostring(e) for e in old_sheet.iter(tag)
        ], tag
    assert b"sparklineGroup" in etree.tostring(new_sheet.find(X14_EXTENSIONS))
    # The drawing keeps its chart, picture and shape; only the text box's text changed.
    assert [e.tag for e in new_drawing.iter()] == [e.tag for e in old_drawing.iter()]
    assert [e.text for e in new_drawing.iter(qn("a:t"))] == ["ZONE DE TEXTE", "SECONDE LIGNE"]
    assert [s.text for s in document.segments] == [
        "Janvier",
        "Février",
        "Mars",
        "Total des ventes",
        "Zone de texte",
        "Seconde ligne",
        "Vérifier les chiffres",
    ]
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book["Ventes"]
    assert [c.value for c in sheet[1]][:3] == ["JANVIER", "FÉVRIER", "MARS"]
    assert [c.value for c in sheet[2]][:4] == [10, 20, 15, "=SUM(A2:C2)"]
    assert sheet["A4"].value == "TOTAL DES VENTES"
    assert sheet["A4"].comment is not None
    assert sheet["A4"].comment.text == "VÉRIFIER LES CHIFFRES"
    path = tmp_path / "ventes.xlsx"
    path.write_bytes(data)
    pdf = convert(path, "pdf", tmp_path)
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    for expected in ("JANVIER", "FÉVRIER", "TOTAL DES VENTES", "ZONE DE TEXTE", "45"):
        assert expected in text, text
    assert "Janvier" not in text


# ---- .pptx ------------------------------------------------------------------------------------

LINK = "https://example.org/rapport"


def presentation() -> bytes:
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Rapport annuel"
    body = slide.placeholders[1].text_frame
    body.text = "Premier point"
    paragraph = body.add_paragraph()
    paragraph.add_run().text = "Texte normal et "
    bold = paragraph.add_run()
    bold.text = "texte en gras"
    bold.font.bold = True
    paragraph.add_run().text = " avec "
    link = paragraph.add_run()
    link.text = "un lien"
    link.hyperlink.address = LINK
    paragraph.add_line_break()
    paragraph.add_run().text = "après la coupure, page "
    # A slide-number field: kept as it is, never sent.
    paragraph._p.append(
        etree.fromstring(
            '<a:fld xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
            ' id="{B6F15528-21DE-4FAA-801E-634DDDAF4B2B}" type="slidenum"><a:t>1</a:t></a:fld>'
        )
    )
    slide.notes_slide.notes_text_frame.text = "Notes de l'orateur"
    second = deck.slides.add_slide(deck.slide_layouts[6])
    table = second.shapes.add_table(2, 2, Inches(1), Inches(1), Inches(4), Inches(1)).table
    table.cell(0, 0).text = "Chiffre d'affaires"
    table.cell(0, 1).text = "1 234,50"
    table.cell(1, 0).text = "Bénéfice"
    table.cell(1, 1).text = "42"
    group = second.shapes.add_group_shape()
    group.shapes.add_textbox(Inches(1), Inches(3), Inches(3), Inches(1)).text = "Dans un groupe"
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def test_pptx_shapes_tables_groups_notes_translated_runs_kept(tmp_path: Path) -> None:
    document, data = translate_locally("diapos.pptx", presentation())
    assert [s.text for s in document.segments] == [
        "Rapport annuel",
        "Premier point",
        "<1>Texte normal et </1><2>texte en gras</2><3> avec </3><4>un lien</4><5/>"
        "<6>après la coupure, page </6><7/>",
        "Notes de l'orateur",
        "Chiffre d'affaires",
        "Bénéfice",
        "Dans un groupe",
    ]
    deck = pptx.Presentation(io.BytesIO(data))
    first, second = deck.slides
    assert first.shapes.title.text == "RAPPORT ANNUEL"
    paragraphs = first.placeholders[1].text_frame.paragraphs
    assert paragraphs[0].text == "PREMIER POINT"
    runs = paragraphs[1].runs
    assert [r.text for r in runs] == [
        "TEXTE NORMAL ET ",
        "TEXTE EN GRAS",
        " AVEC ",
        "UN LIEN",
        "APRÈS LA COUPURE, PAGE ",
    ]
    assert [r.font.bold for r in runs] == [None, True, None, None, None]
    assert runs[3].hyperlink.address == LINK
    p = paragraphs[1]._p
    assert [c.tag for c in p if c.tag != qn("a:pPr")] == [
        qn(f"a:{t}") for t in ("r", "r", "r", "r", "br", "r", "fld")
    ]
    assert p.find(qn("a:fld")).findtext(qn("a:t")) == "1"
    assert first.notes_slide.notes_text_frame.text == "NOTES DE L'ORATEUR"
    table = next(s for s in second.shapes if s.has_table).table
    assert [[c.text for c in row.cells] for row in table.rows] == [
        ["CHIFFRE D'AFFAIRES", "1 234,50"],
        ["BÉNÉFICE", "42"],
    ]
    group = next(s for s in second.shapes if s.shape_type == 6)  # MSO_SHAPE_TYPE.GROUP
    assert [s.text_frame.text for s in group.shapes] == ["DANS UN GROUPE"]
    path = tmp_path / "diapos.pptx"
    path.write_bytes(data)
    odp = convert(path, "odp", tmp_path)
    with zipfile.ZipFile(odp) as archive:
        content = archive.read("content.xml").decode()
    assert "RAPPORT ANNUEL" in content
    assert "DANS UN GROUPE" in content


def test_pptx_through_the_api(client: httpx.Client) -> None:
    data = translate_by_api(client, "diapos.pptx", presentation())
    deck = pptx.Presentation(io.BytesIO(data))
    assert deck.slides[0].shapes.title.text.startswith('You wrote: "')
    runs = deck.slides[0].placeholders[1].text_frame.paragraphs[1].runs
    assert [r.text for r in runs if r.font.bold] == ["texte en gras"]
    assert [r.hyperlink.address for r in runs if r.hyperlink.address] == [LINK]


# ---- .odt and .odp ------------------------------------------------------------------------------

NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
    "xlink": "http://www.w3.org/1999/xlink",
    "svg": "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0",
    "presentation": "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0",
    "manifest": "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0",
}
DECLARATIONS = " ".join(f'xmlns:{k}="{v}"' for k, v in NS.items() if k != "manifest")
ODT = "application/vnd.oasis.opendocument.text"
ODP = "application/vnd.oasis.opendocument.presentation"
BOLD_STYLE = (
    '<office:automatic-styles><style:style style:name="T1" style:family="text">'
    '<style:text-properties fo:font-weight="bold"/></style:style></office:automatic-styles>'
)
ODT_BODY = f"""<office:text>
<text:h text:outline-level="1">Rapport annuel</text:h>
<text:p>Texte normal, <text:span text:style-name="T1">texte en gras</text:span> et <text:a
 xlink:type="simple" xlink:href="{LINK}">un lien</text:a>.<text:line-break/>Ligne
 suivante<text:tab/>après<text:s text:c="3"/>espaces.</text:p>
<text:list><text:list-item><text:p>Premier point</text:p></text:list-item>
<text:list-item><text:p>Second point</text:p></text:list-item></text:list>
<table:table table:name="Tableau1"><table:table-column table:number-columns-repeated="2"/>
<table:table-row><table:table-cell office:value-type="string"><text:p>Chiffre d'affaires</text:p>
</table:table-cell><table:table-cell office:value-type="float" office:value="1234.5">
<text:p>1 234,50</text:p></table:table-cell></table:table-row></table:table>
<text:p>Voir le cadre<draw:frame draw:name="Cadre1" text:anchor-type="as-char" svg:width="5cm"
 svg:height="2cm"><draw:text-box><text:p>Texte du cadre</text:p></draw:text-box></draw:frame>
</text:p>
</office:text>"""
ODP_BODY = """<office:presentation>
<draw:page draw:name="page1" draw:master-page-name="Standard">
<draw:frame presentation:class="title" svg:x="2cm" svg:y="1cm" svg:width="20cm" svg:height="3cm">
<draw:text-box><text:p>Rapport annuel</text:p></draw:text-box></draw:frame>
<draw:frame presentation:class="outline" svg:x="2cm" svg:y="5cm" svg:width="20cm"
 svg:height="10cm"><draw:text-box><text:list><text:list-item><text:p>Texte normal et <text:span
 text:style-name="T1">texte en gras</text:span></text:p></text:list-item></text:list>
</draw:text-box></draw:frame>
<presentation:notes><draw:frame presentation:class="notes" svg:x="2cm" svg:y="14cm"
 svg:width="17cm" svg:height="12cm"><draw:text-box><text:p>Notes de l'orateur</text:p>
</draw:text-box></draw:frame></presentation:notes>
</draw:page>
</office:presentation>"""


def open_document_package(media_type: str, body: str, styles_body: str) -> bytes:
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {DECLARATIONS}'
        f' office:version="1.3">{BOLD_STYLE}<office:body>{body}</office:body>'
        "</office:document-content>"
    )
    styles = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-styles {DECLARATIONS}'
        f' office:version="1.3">{styles_body}</office:document-styles>'
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest'
        f' xmlns:manifest="{NS["manifest"]}" manifest:version="1.3">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{media_type}"/>'
        + "".join(
            f'<manifest:file-entry manifest:full-path="{name}" manifest:media-type="text/xml"/>'
            for name in ("content.xml", "styles.xml", "meta.xml")
        )
        + "</manifest:manifest>"
    )
    meta = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<office:document-meta'
        f' xmlns:office="{NS["office"]}" office:version="1.3"><office:meta/></office:document-meta>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), media_type)  # stored
        archive.writestr("content.xml", content)
        archive.writestr("styles.xml", styles)
        archive.writestr("meta.xml", meta)
        archive.writestr("META-INF/manifest.xml", manifest)
    return out.getvalue()


def text_document() -> bytes:
    master = (
        '<office:master-styles><style:master-page style:name="Standard">'
        "<style:header><text:p>En-tête du rapport</text:p></style:header>"
        "<style:footer><text:p>Pied de page</text:p></style:footer>"
        "</style:master-page></office:master-styles>"
    )
    return open_document_package(ODT, ODT_BODY, master)


def slide_document() -> bytes:
    master = (
        '<office:master-styles><style:master-page style:name="Standard">'
        '<draw:frame presentation:class="title" svg:x="2cm" svg:y="1cm" svg:width="20cm"'
        ' svg:height="3cm"><draw:text-box><text:p>Titre du modèle</text:p></draw:text-box>'
        "</draw:frame></style:master-page></office:master-styles>"
    )
    return open_document_package(ODP, ODP_BODY, master)


def shape(root: etree._Element) -> list[tuple[object, dict[str, str]]]:
    return [(e.tag, dict(e.attrib)) for e in root.iter()]


def texts(root: etree._Element) -> list[str]:
    return ["".join(p.itertext()) for p in root.iter(f"{{{NS['text']}}}p", f"{{{NS['text']}}}h")]


def check_package_rebuilt(original: bytes, data: bytes) -> dict[str, etree._Element]:
    """Same members in the same order, `mimetype` first and stored, untouched parts byte for
    byte; the translated parts have the same elements and attributes. Returns the parsed
    (original, translated) content and styles."""
    with (
        zipfile.ZipFile(io.BytesIO(original)) as before,
        zipfile.ZipFile(io.BytesIO(data)) as after,
    ):
        assert after.namelist() == before.namelist()
        first = after.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        assert data[30:38] == b"mimetype"  # its local header is the file's very first bytes
        trees = {}
        for name in before.namelist():
            if name in ("content.xml", "styles.xml"):
                old, new = etree.fromstring(before.read(name)), etree.fromstring(after.read(name))
                assert shape(new) == shape(old)
                trees[name] = old
                trees[name + "#translated"] = new
            else:
                assert after.read(name) == before.read(name), name
    return trees


def test_odt_paragraphs_lists_tables_frames_headers_translated(tmp_path: Path) -> None:
    original = text_document()
    document, data = translate_locally("rapport.odt", original)
    assert [s.text for s in document.segments] == [
        "Rapport annuel",
        "<1>Texte normal, </1><2>texte en gras</2><3> et </3><4>un lien</4><5>.</5><6/>"
        "<7>Ligne\n suivante</7><8/><9>après</9><10/><11>espaces.</11>",
        "Premier point",
        "Second point",
        "Chiffre d'affaires",
        "<1>Voir le cadre</1><2/><3>\n</3>",
        "Texte du cadre",
        "En-tête du rapport",
        "Pied de page",
    ]
    trees = check_package_rebuilt(original, data)
    content = trees["content.xml#translated"]
    assert texts(content) == [t.upper() for t in texts(trees["content.xml"])]
    assert "1 234,50" in texts(content)  # the number is left as it was
    bold = content.find(".//text:span[@text:style-name='T1']", NS)
    assert bold is not None
    assert bold.text == "TEXTE EN GRAS"
    link = content.find(".//text:a", NS)
    assert link is not None
    assert link.text == "UN LIEN"
    assert link.get(f"{{{NS['xlink']}}}href") == LINK
    assert texts(trees["styles.xml#translated"]) == ["EN-TÊTE DU RAPPORT", "PIED DE PAGE"]
    path = tmp_path / "rapport.odt"
    path.write_bytes(data)
    convert(path, "pdf", tmp_path)
    word = docx.Document(str(convert(path, "docx", tmp_path)))
    body = [p.text for p in word.paragraphs]
    assert "RAPPORT ANNUEL" in body
    assert "PREMIER POINT" in body
    assert word.tables[0].cell(0, 0).text == "CHIFFRE D'AFFAIRES"
    assert [r.text for r in word.paragraphs[1].runs if r.bold] == ["TEXTE EN GRAS"]
    assert word.sections[0].header.paragraphs[0].text == "EN-TÊTE DU RAPPORT"


def test_odp_slides_notes_and_master_translated(tmp_path: Path) -> None:
    original = slide_document()
    document, data = translate_locally("diapos.odp", original)
    assert [s.text for s in document.segments] == [
        "Rapport annuel",
        "<1>Texte normal et </1><2>texte en gras</2>",
        "Notes de l'orateur",
        "Titre du modèle",
    ]
    trees = check_package_rebuilt(original, data)
    content = trees["content.xml#translated"]
    assert texts(content) == [
        "RAPPORT ANNUEL",
        "TEXTE NORMAL ET TEXTE EN GRAS",
        "NOTES DE L'ORATEUR",
    ]
    assert content.find(".//text:span", NS).text == "TEXTE EN GRAS"
    path = tmp_path / "diapos.odp"
    path.write_bytes(data)
    convert(path, "pdf", tmp_path)
    deck = pptx.Presentation(str(convert(path, "pptx", tmp_path)))
    slide = deck.slides[0]
    shown = [s.text_frame.text for s in slide.shapes if s.has_text_frame]
    assert "RAPPORT ANNUEL" in shown
    assert "TEXTE NORMAL ET TEXTE EN GRAS" in shown
    notes = [s.text_frame.text for s in slide.notes_slide.shapes if s.has_text_frame]
    assert "NOTES DE L'ORATEUR" in notes


def test_odt_through_the_api(client: httpx.Client) -> None:
    original = text_document()
    data = translate_by_api(client, "rapport.odt", original)
    trees = check_package_rebuilt(original, data)
    content = trees["content.xml#translated"]
    assert texts(content)[0].startswith('You wrote: "')
    assert content.find(".//text:span", NS).text == "texte en gras"
