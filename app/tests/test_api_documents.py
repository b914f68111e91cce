"""Document translation over HTTP: SCENARI XML, txt, md, docx, several files, failures."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import docx
import httpx
from tradia_testkit import Simulator, last, of_type, stream_events

DATA = Path(__file__).parent / "data"
SC = "{http://www.utc.fr/ics/scenari/v3/core}"


def translate(client: httpx.Client, files: list[tuple[str, bytes]], **form: str) -> list[dict]:
    return stream_events(
        client,
        "/api/documents/translate",
        data={"target": "en", **form},
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
    )


def downloaded(events: list[dict]) -> tuple[str, bytes]:
    download = of_type(events, "download")[0]
    return download["filename"], base64.b64decode(download["data_base64"])


def shape(element: ElementTree.Element) -> list[tuple[str, dict]]:
    return [(e.tag, dict(e.attrib)) for e in element.iter()]


def test_scenari_markup_titles_and_layout_kept(client: httpx.Client) -> None:
    original = (DATA / "cours.xml").read_bytes()
    events = translate(client, [("cours.xml", original)])
    assert last(events)["type"] == "done"
    assert of_type(events, "documents")[0]["total"] == 5
    progress = of_type(events, "progress")
    assert [p["done"] for p in progress] == [1, 2, 3, 4, 5]
    assert of_type(events, "file_done")[0]["failed"] == []
    name, data = downloaded(events)
    assert name == "cours.en.xml"
    text = data.decode("utf-8")
    # Same elements and attributes, in the same order: the markup is intact.
    assert shape(ElementTree.fromstring(data)) == shape(ElementTree.fromstring(original))
    # Every text-bearing element went through the model, the title included.
    root = ElementTree.fromstring(data)
    title = root.find(".//{http://www.utc.fr/ics/scenari/v3/primitive}title")
    assert title is not None
    assert title.text.startswith("You wrote")
    para = root.find(f".//{SC}para")
    assert para is not None
    assert para.find(f"{SC}inlineStyle").text == "bien formé"
    assert para.find(f"{SC}uLink").get("url") == "https://www.w3.org/TR/xml/"
    # Not reformatted: declaration, indentation, comment and formula bytes are the original's.
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<sc:item xmlns:sc=')
    assert "    <!-- commentaire de l'auteur : ne pas traduire -->\n" in text
    assert '<sc:textLeaf role="mathtex">a &lt; b</sc:textLeaf>' in text
    assert text.count("\n") >= original.decode().count("\n")


def test_scenari_original_encoding_kept(client: httpx.Client) -> None:
    original = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        '<sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core"><sc:para>Été à Noël</sc:para>'
        "</sc:item>\n"
    ).encode("iso-8859-1")
    _, data = downloaded(translate(client, [("latin.xml", original)], target="ar"))
    assert data.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert "Été à Noël".encode("iso-8859-1") in data
    ElementTree.fromstring(data)  # still well-formed in its declared encoding


def test_several_files_come_back_as_zip_with_report(client: httpx.Client) -> None:
    text = "Premier paragraphe.\nSuite du premier.\n\nSecond paragraphe.\r\n"
    markdown = "# Titre\n\n- un point\n- deux points\n\n```\ncode non traduit\n```\n"
    events = translate(
        client,
        [
            ("notes.txt", text.encode()),
            ("lisez-moi.md", markdown.encode()),
            ("cassé.xml", b"<a><b></a>"),
        ],
    )
    files = of_type(events, "documents")[0]["files"]
    assert "not well-formed" in files[2]["error"]
    name, data = downloaded(events)
    assert name == "tradia-en.zip"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == [
            "lisez-moi.en.md",
            "notes.en.txt",
            "tradia-report.txt",
        ]
        txt = archive.read("notes.en.txt").decode()
        md = archive.read("lisez-moi.en.md").decode()
        report = archive.read("tradia-report.txt").decode()
    assert txt.count("You wrote") == 2
    assert "\n\n" in txt
    assert md.startswith("# You wrote")
    assert "- You wrote" in md
    assert "```\ncode non traduit\n```\n" in md
    assert "cassé.xml: not translated" in report


def test_docx_paragraphs_translated_formatting_kept(client: httpx.Client) -> None:
    document = docx.Document()
    document.add_heading("Rapport annuel", level=1)
    paragraph = document.add_paragraph("Texte normal et ")
    paragraph.add_run("texte en gras").bold = True
    table = document.add_table(rows=1, cols=1)
    table.cell(0, 0).text = "Cellule de tableau"
    buffer = io.BytesIO()
    document.save(buffer)
    events = translate(client, [("rapport.docx", buffer.getvalue())])
    assert of_type(events, "file_done")[0]["failed"] == []
    name, data = downloaded(events)
    assert name == "rapport.en.docx"
    result = docx.Document(io.BytesIO(data))
    texts = [p.text for p in result.paragraphs]
    assert texts[0].startswith("You wrote")
    assert result.paragraphs[0].style.name == "Heading 1"
    bold_runs = [r for r in result.paragraphs[1].runs if r.bold]
    assert bold_runs
    assert "texte en gras" in bold_runs[0].text
    assert result.tables[0].cell(0, 0).text.startswith("You wrote")


def test_failed_segment_is_reported_and_kept(client: httpx.Client, sim: Simulator) -> None:
    sim.fault("midstream_error", after=1, count=1)
    events = translate(client, [("cours.xml", (DATA / "cours.xml").read_bytes())], as_zip="true")
    failed = of_type(events, "file_done")[0]["failed"]
    assert len(failed) == 1
    assert failed[0]["segment"] == 1
    assert failed[0]["reason"] == "generation_failed"
    assert failed[0]["excerpt"] == "Introduction au format XML"
    _, data = downloaded(events)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("cours.en.xml").decode()
        assert (
            "segment 1 kept in the original language" in archive.read("tradia-report.txt").decode()
        )
    assert "<sp:title>Introduction au format XML</sp:title>" in xml
    assert last(events)["type"] == "done"


def test_lasting_upstream_failure_ends_the_job(client: httpx.Client, sim: Simulator) -> None:
    sim.fault("not_found")
    events = translate(client, [("cours.xml", (DATA / "cours.xml").read_bytes())])
    assert last(events)["type"] == "error"
    assert last(events)["error"] == "model_missing"
    assert not of_type(events, "download")
