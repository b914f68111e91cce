"""Word (.docx) in full and PDF: every part a reader sees is translated, the rest is kept.

The .docx fixture is built here with python-docx (plus the raw XML python-docx has no API for:
footnotes, endnotes, a text box, a hyperlink); the PDF fixtures are written by LibreOffice from
a .docx, or by pypdf for the hostile ones.
"""

from __future__ import annotations

import base64
import io
import re
import zipfile
from pathlib import Path

import docx
import hostile_files as hf
import httpx
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part as DocxPart
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from lxml import etree
from office import convert
from tradia.documents.pdf import PdfDocument
from tradia.documents.tagged_text import Part
from tradia.documents.word import WordDocument
from tradia_testkit import of_type, stream_events

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {
    "w": W,
    "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
}
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# Every text of the fixture, by where it sits.
TEXTS = {
    "heading": "Rapport annuel",
    "plain": "Le texte normal et ",
    "bold": "un passage en gras",
    "between": " puis ",
    "italic": "un passage en italique",
    "before_link": " et ",
    "link": "le site du projet",
    "list1": "Premier point de la liste",
    "list2": "Second point de la liste",
    "cell": "Cellule de tableau",
    "textbox": "Texte dans la zone de texte",
    "header": "En-tête de chaque page",
    "first_header": "En-tête de la première page",
    "footer": "Pied de page commun",
    "footnote": "Une note de bas de page.",
    "endnote": "Une note de fin de document.",
    "comment": "Un commentaire de relecture.",
}
NUMBER = "3.14"
DATE = "30/11/2026"
URL = "https://example.org/projet"


def _textbox_run(text: str) -> str:
    """A floating text box as Word writes it: the DrawingML shape, and its VML copy for older
    readers (mc:Fallback)."""
    paragraph = f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"
    return (
        f"<w:r {nsdecls('w', 'wp', 'a')}"
        f' xmlns:mc="{NS["mc"]}" xmlns:v="urn:schemas-microsoft-com:vml"'
        ' xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        '<mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>'
        '<wp:anchor distT="0" distB="0" distL="114300" distR="114300" simplePos="0"'
        ' relativeHeight="251659264" behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/>'
        '<wp:positionH relativeFrom="column"><wp:posOffset>0</wp:posOffset></wp:positionH>'
        '<wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset></wp:positionV>'
        '<wp:extent cx="2743200" cy="914400"/><wp:effectExtent l="0" t="0" r="0" b="0"/>'
        '<wp:wrapSquare wrapText="bothSides"/><wp:docPr id="100" name="Zone de texte 1"/>'
        "<wp:cNvGraphicFramePr/><a:graphic>"
        '<a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        '<wps:wsp><wps:cNvSpPr txBox="1"/><wps:spPr><a:xfrm><a:off x="0" y="0"/>'
        '<a:ext cx="2743200" cy="914400"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/>'
        f"</a:prstGeom></wps:spPr><wps:txbx><w:txbxContent>{paragraph}</w:txbxContent>"
        "</wps:txbx><wps:bodyPr/></wps:wsp></a:graphicData></a:graphic></wp:anchor>"
        "</w:drawing></mc:Choice><mc:Fallback><w:pict>"
        '<v:shape style="width:216pt;height:72pt" type="#_x0000_t202"><v:textbox>'
        f"<w:txbxContent>{paragraph}</w:txbxContent></v:textbox></v:shape></w:pict>"
        "</mc:Fallback></mc:AlternateContent></w:r>"
    )


def _notes(kind: str, text: str) -> bytes:
    """footnotes.xml or endnotes.xml: Word's two separators, then note 1."""
    separators = "".join(
        f'<w:{kind} w:type="{t}" w:id="{i}"><w:p><w:r><w:{t}/></w:r></w:p></w:{kind}>'
        for i, t in ((-1, "separator"), (0, "continuationSeparator"))
    )
    note = (
        f'<w:{kind} w:id="1"><w:p><w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
        f"<w:{kind}Ref/></w:r><w:r><w:t>{text}</w:t></w:r></w:p></w:{kind}>"
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"<w:{kind}s {nsdecls('w')}>{separators}{note}</w:{kind}s>"
    ).encode()


def add_note(document: docx.document.Document, kind: str, text: str) -> None:
    """Word's notes part with note 1, referenced from the last paragraph so far."""
    content_type, reltype = {
        "footnote": (CT.WML_FOOTNOTES, RT.FOOTNOTES),
        "endnote": (CT.WML_ENDNOTES, RT.ENDNOTES),
    }[kind]
    part = DocxPart(
        PackURI(f"/word/{kind}s.xml"), content_type, _notes(kind, text), document.part.package
    )
    document.part.relate_to(part, reltype)
    reference = parse_xml(
        f'<w:r {nsdecls("w")}><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
        f'<w:{kind}Reference w:id="1"/></w:r>'
    )
    document.paragraphs[-1]._p.append(reference)


def word_fixture() -> bytes:
    document = docx.Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = TEXTS["header"]
    section.footer.paragraphs[0].text = TEXTS["footer"]
    section.different_first_page_header_footer = True
    section.first_page_header.paragraphs[0].text = TEXTS["first_header"]
    document.add_heading(TEXTS["heading"], level=1)
    paragraph = document.add_paragraph(TEXTS["plain"])
    paragraph.add_run(TEXTS["bold"]).bold = True
    paragraph.add_run(TEXTS["between"])
    paragraph.add_run(TEXTS["italic"]).italic = True
    paragraph.add_run(TEXTS["before_link"])
    rid = document.part.relate_to(URL, RT.HYPERLINK, is_external=True)
    paragraph._p.append(
        parse_xml(
            f'<w:hyperlink {nsdecls("w", "r")} r:id="{rid}"><w:r><w:rPr>'
            f'<w:rStyle w:val="Hyperlink"/></w:rPr><w:t>{TEXTS["link"]}</w:t></w:r></w:hyperlink>'
        )
    )
    add_note(document, "footnote", TEXTS["footnote"])
    add_note(document, "endnote", TEXTS["endnote"])
    document.add_paragraph(TEXTS["list1"], style="List Number")
    document.add_paragraph(TEXTS["list2"], style="List Number")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = TEXTS["cell"]
    table.cell(0, 1).text = NUMBER
    table.cell(1, 0).text = DATE
    table.cell(1, 1).text = NUMBER
    anchor = document.add_paragraph()
    anchor._p.append(parse_xml(_textbox_run(TEXTS["textbox"])))
    commented = document.add_paragraph().add_run(NUMBER)
    document.add_comment(commented, text=TEXTS["comment"], author="Relecteur")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def shout(text: str) -> str:
    return f"EN:{text.upper()}"


def shouting(parts: list[Part]) -> list[Part]:
    """A fake translator: every text upper-cased and marked, tags where they were."""
    return [shout(p) if isinstance(p, str) and p.strip() else p for p in parts]


def package_texts(data: bytes) -> dict[str, str]:
    """Each XML part's text (w:t only), by part name."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            name: "".join(etree.fromstring(archive.read(name)).itertext())
            for name in archive.namelist()
            if name.startswith("word/") and name.endswith(".xml")
        }


# ---- .docx ----------------------------------------------------------------------------------


def test_docx_every_part_translated_formatting_kept(tmp_path: Path) -> None:
    source = word_fixture()
    document = WordDocument(source)
    sent = " ".join(s.plain for s in document.segments)
    for where, text in TEXTS.items():
        assert text.strip() in sent, f"{where} is not sent for translation"
    # Numbers and dates are never sent; the text box's legacy copy is not sent twice.
    assert NUMBER not in sent
    assert DATE not in sent
    assert sent.count(TEXTS["textbox"]) == 1
    output = document.rebuild([shouting(s.parts) for s in document.segments])

    texts = package_texts(output)
    for where, text in TEXTS.items():
        assert text.strip() not in "".join(texts.values()), f"{where} kept its original text"
        assert shout(text) in "".join(texts.values()), where
    assert "EN:" + TEXTS["header"].upper() in texts["word/header1.xml"] + texts.get(
        "word/header2.xml", ""
    )
    assert "EN:" in texts["word/footnotes.xml"]
    assert "EN:" in texts["word/endnotes.xml"]
    assert "EN:" in texts["word/comments.xml"]
    # The text box's modern and legacy versions read the same.
    main = etree.fromstring(zipfile.ZipFile(io.BytesIO(output)).read("word/document.xml"))
    boxes = ["".join(b.itertext()) for b in main.iterfind(".//w:txbxContent", NS)]
    assert boxes == [shout(TEXTS["textbox"])] * 2

    result = docx.Document(io.BytesIO(output))
    paragraph = result.paragraphs[1]
    bold = [r.text for r in paragraph.runs if r.bold]
    italic = [r.text for r in paragraph.runs if r.italic]
    assert bold == [shout(TEXTS["bold"])]
    assert italic == [shout(TEXTS["italic"])]
    link = paragraph._p.find(qn("w:hyperlink"))
    assert link is not None
    assert [t.text for t in link.iter(qn("w:t"))] == [shout(TEXTS["link"])]
    assert result.part.rels[link.get(qn("r:id"))].target_ref == URL
    assert result.paragraphs[0].style.name == "Heading 1"
    listed = [p for p in result.paragraphs if p.style.name == "List Number"]
    assert [p.text for p in listed] == [shout(TEXTS[k]) for k in ("list1", "list2")]
    cells = [[c.text for c in row.cells] for row in result.tables[0].rows]
    assert cells == [[shout(TEXTS["cell"]), NUMBER], [DATE, NUMBER]]
    assert result.sections[0].different_first_page_header_footer
    assert result.sections[0].first_page_header.paragraphs[0].text.startswith("EN:")
    assert result.sections[0].footer.paragraphs[0].text.startswith("EN:")

    # LibreOffice opens it: headers and footers land in styles.xml, the rest in content.xml.
    translated = tmp_path / "rapport.en.docx"
    translated.write_bytes(output)
    odt = convert(translated, "odt", tmp_path)
    with zipfile.ZipFile(odt) as archive:
        content = archive.read("content.xml").decode()
        styles = archive.read("styles.xml").decode()
    for where in ("heading", "bold", "link", "list1", "cell", "textbox", "footnote", "endnote"):
        assert shout(TEXTS[where]) in content, where
    assert shout(TEXTS["comment"]) in content
    for where in ("header", "first_header", "footer"):
        assert shout(TEXTS[where]) in styles, where
    assert NUMBER in content
    assert DATE in content


def test_docx_through_the_api(client: httpx.Client) -> None:
    events = stream_events(
        client,
        "/api/documents/translate",
        data={"target": "en"},
        files=[("files", ("rapport.docx", word_fixture(), DOCX_TYPE))],
    )
    assert of_type(events, "documents")[0]["total"] == len(TEXTS) - 5  # 6 runs make one paragraph
    assert of_type(events, "file_done")[0]["failed"] == []
    download = of_type(events, "download")[0]
    assert download["filename"] == "rapport.en.docx"
    texts = package_texts(base64.b64decode(download["data_base64"]))
    for name in ("word/footnotes.xml", "word/endnotes.xml", "word/comments.xml"):
        assert "You wrote" in texts[name], name
    headers = [v for k, v in texts.items() if re.fullmatch(r"word/(header|footer)\d+\.xml", k)]
    assert len(headers) == 3
    assert all("You wrote" in text for text in headers)


# ---- PDF ------------------------------------------------------------------------------------


def lines(*texts: str, top: int = 720) -> bytes:
    """A content stream writing one line per text, 14 points apart."""
    shown = b" 0 -14 Td ".join(b"(%s) Tj" % t.encode("latin-1") for t in texts)
    return b"BT /F1 12 Tf 72 %d Td %s ET" % (top, shown)


def test_pdf_paragraphs_rebuilt_from_lines() -> None:
    wide = "Une ligne longue qui remplit presque toute la largeur de la page du document"
    source = hf.pdf_document(
        [
            lines(
                "Rapport annuel",
                wide,
                "et qui se termine sur la ligne suivante.",
                "Un mot coupe en fin de ligne, la pro-",
                "duction, est recolle.",
                "\x95 Premier point",
                "\x95 Second point",
                "3.14",
                "Un paragraphe coupe par la fin de la",
            ),
            lines("page reprend sur la page suivante."),
        ]
    )
    document = PdfDocument(source)
    assert [s.plain for s in document.segments] == [
        "Rapport annuel",
        f"{wide} et qui se termine sur la ligne suivante.",
        "Un mot coupe en fin de ligne, la production, est recolle.",
        "Premier point",
        "Second point",
        "Un paragraphe coupe par la fin de la page reprend sur la page suivante.",
    ]
    result = docx.Document(
        io.BytesIO(document.rebuild([shouting(s.parts) for s in document.segments]))
    )
    paragraphs = [(p.style.name, p.text) for p in result.paragraphs]
    assert paragraphs[3:6] == [
        ("List Bullet", shout("Premier point")),
        ("List Bullet", shout("Second point")),
        ("Normal", "3.14"),  # no letter: never sent, kept as it is
    ]
    assert len(paragraphs) == 7


def test_pdf_through_the_api_comes_back_as_docx(client: httpx.Client, tmp_path: Path) -> None:
    word = docx.Document()
    word.add_heading(TEXTS["heading"], level=1)
    long_text = (
        "Le premier paragraphe est assez long pour tenir sur plusieurs lignes de la page, ce qui"
        " oblige le lecteur à recoller les lignes en un seul paragraphe avant de le traduire."
    )
    word.add_paragraph(long_text)
    word.add_paragraph(TEXTS["list1"], style="List Bullet")
    word.add_paragraph(NUMBER)
    source = tmp_path / "rapport.docx"
    word.save(source)
    pdf = convert(source, "pdf", tmp_path / "pdf").read_bytes()

    events = stream_events(
        client,
        "/api/documents/translate",
        data={"target": "en"},
        files=[("files", ("rapport.pdf", pdf, "application/pdf"))],
    )
    assert of_type(events, "documents")[0]["total"] == 3
    done = of_type(events, "file_done")[0]
    assert done["output"] == "rapport.en.docx"
    assert "layout is not kept" in done["note"]
    download = of_type(events, "download")[0]
    assert download["filename"] == "rapport.en.docx"
    assert download["media_type"] == DOCX_TYPE
    output = base64.b64decode(download["data_base64"])
    result = docx.Document(io.BytesIO(output))
    texts = [p.text for p in result.paragraphs]
    assert len(texts) == 4
    assert all(
        f'You wrote: "{t}' in text
        for t, text in zip([TEXTS["heading"], long_text, TEXTS["list1"]], texts, strict=False)
    )
    assert result.paragraphs[2].style.name == "List Bullet"
    assert texts[3] == NUMBER
    # Word's reader opens it: LibreOffice reads the translation out of it.
    translated = tmp_path / "rapport.en.docx"
    translated.write_bytes(output)
    text = convert(translated, "txt:Text", tmp_path / "txt").read_text(encoding="utf-8-sig")
    assert text.count("You wrote") == 3
    assert NUMBER in text
