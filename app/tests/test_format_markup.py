"""Markup formats: HTML, SubRip and WebVTT subtitles, XLIFF 1.2 and 2.0.

Each fixture is built here; each is translated through the API with the simulator (which quotes
the text back, numbered tags included) and through the document class with a fake translator
that upper-cases the text and keeps the tags; the result is re-parsed and its structure compared
with the original's: same elements and untouched attributes, same cues and timings, same units
and ids, scripts and code byte for byte.
"""

from __future__ import annotations

import base64
import io
import re
import zipfile

import httpx
import lxml.html
import pytest
from lxml import etree
from tradia.documents.html_document import HtmlDocument
from tradia.documents.subtitles import SubtitleDocument
from tradia.documents.tagged_text import Part
from tradia.documents.xliff import NS_12, NS_20, XliffDocument
from tradia_testkit import of_type, stream_events


def translate(client: httpx.Client, files: list[tuple[str, bytes]], target: str) -> list[dict]:
    return stream_events(
        client,
        "/api/documents/translate",
        data={"target": target, "as_zip": "true"},
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
    )


def outputs(events: list[dict]) -> dict[str, bytes]:
    data = base64.b64decode(of_type(events, "download")[0]["data_base64"])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def upper(parts: list[Part]) -> list[Part]:
    return [p.upper() if isinstance(p, str) else p for p in parts]


# ---- fixtures ---------------------------------------------------------------------------------

SCRIPT = 'var message = "Bonjour le monde";'
BODY_SCRIPT = 'document.title = "Cliquez ici";'
STYLE = "p { color: #c00 }"
HTML = f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="iso-8859-1">
<title>Rapport d'été</title>
<style>{STYLE}</style>
<script>{SCRIPT}</script>
</head>
<body>
  <h1 id="haut" class="titre">Le <em>grand</em> titre</h1>
  <p>Un <b>mot</b> et un <a href="/doc?id=42" title="Voir la page">lien <i>utile</i></a>,
    la commande <code>ls -l</code> et 42 %.<br>
    Suite <img src="chat.png" alt="Un chat gris" width="40"> fin.</p>
  <p translate="no">Marque déposée</p>
  <script>{BODY_SCRIPT}</script>
  <pre>ne pas traduire</pre>
  <form action="/envoi">
    <input type="text" name="nom" placeholder="Votre nom">
    <input type="submit" value="Envoyer">
    <input type="hidden" name="jeton" value="abc123">
    <button type="button" aria-label="Fermer la fenêtre">&times;</button>
  </form>
  <ul><li>Premier point</li><li>Second <span class="x">point</span></li></ul>
  <!-- commentaire de l'auteur -->
</body>
</html>
""".encode("iso-8859-1")
TRANSLATED_ATTRIBUTES = {"alt", "title", "placeholder", "aria-label"}

SRT = (
    "1\r\n00:00:01,000 --> 00:00:03,500\r\n<i>Bonjour</i> tout le monde,\r\ncomment ça va ?\r\n"
    "\r\n2\r\n00:00:04,000 --> 00:00:05,000 X1:100 X2:600 Y1:10 Y2:50\r\n2024\r\n"
    "\r\n3\r\n00:00:06,250 --> 00:00:09,000\r\n{\\an8}Le <b>chat</b> dort.\r\n"
    '\r\n4\r\n00:01:00,000 --> 00:01:02,000\r\n<font color="#ffff00">Fin</font> du film.\r\n'
).encode()
VTT = (
    b"WEBVTT - sous-titres\nKind: captions\n\n"
    b"NOTE Ne pas traduire\nce commentaire\n\n"
    b"STYLE\n::cue(.jaune) { color: yellow }\n\n"
    b"intro\n00:01.000 --> 00:03.000 align:start line:0 position:10%\n"
    b"<v Bob>Salut &amp; bienvenue\n<c.jaune>ici</c> <00:02.000>maintenant\n\n"
    b"00:00:04.000 --> 00:00:05.500\n<v.fort Ann>Oui</v>, <i>vraiment</i>.\n\n"
    b"3\n00:06.000 --> 00:07.000\n12:30\n"
)
SRT_TIMINGS = re.findall(rb"^\d+:\d\d:\d\d,\d+ --> .*$", SRT, re.M)
VTT_TIMINGS = re.findall(rb"^[\d:.]+ --> .*$", VTT, re.M)

XLIFF_12 = b"""<?xml version="1.0" encoding="UTF-8"?>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">
  <file source-language="fr" datatype="html" original="accueil.html">
    <header><note>fichier d'exemple</note></header>
    <body>
      <group id="g1">
        <trans-unit id="tu-1" resname="titre">
          <source>Un <g id="1" ctype="bold">mot</g> et <x id="2"
            ctype="lb"/> 42 <ph id="3">{0}</ph>.</source>
          <note from="dev">garder {0}</note>
        </trans-unit>
      </group>
      <trans-unit id="tu-2"><source>Paire <bx id="4"/>ouverte<ex id="5"/> ici</source>
        <target state="new">vieux</target></trans-unit>
      <trans-unit id="tu-3" translate="no"><source>Marque</source></trans-unit>
      <trans-unit id="tu-4" approved="yes"><source>Valide</source>
        <target>Approved</target></trans-unit>
      <trans-unit id="tu-5"><source>123</source></trans-unit>
    </body>
  </file>
</xliff>
"""
XLIFF_20 = b"""<?xml version="1.0" encoding="UTF-8"?>
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="fr">
  <file id="f1">
    <unit id="u1">
      <notes><note id="n1">ne pas toucher</note></notes>
      <originalData><data id="d1">&lt;br/&gt;</data></originalData>
      <segment id="s1"><source>Le <pc id="1" dataRefStart="d1">chat</pc> <ph id="2"
        dataRef="d1"/>dort <sc id="3"/>ici<ec startRef="3"/>.</source></segment>
      <ignorable><source> </source></ignorable>
      <segment id="s2"><source>Fin de l'unit\xc3\xa9.</source></segment>
    </unit>
    <unit id="u2" translate="no"><segment id="s3"><source>Marque</source></segment></unit>
    <unit id="u3"><segment id="s4" state="final"><source>Fait</source>
      <target>Done</target></segment></unit>
  </file>
</xliff>
"""


# ---- HTML -------------------------------------------------------------------------------------


def html_shape(root: etree._Element) -> list[tuple[str, dict[str, str]]]:
    """Every element with its attributes, except the ones translated or set by the target."""
    shape = []
    for element in root.iter():
        attributes = {
            k: v
            for k, v in element.attrib.items()
            if k not in TRANSLATED_ATTRIBUTES
            and not (element.tag == "html" and k in ("lang", "dir"))
            and not (element.get("type") == "submit" and k == "value")
        }
        shape.append((str(element.tag), attributes))
    return shape


def test_html_through_the_api(client: httpx.Client) -> None:
    events = translate(client, [("page.html", HTML)], target="ar")
    assert of_type(events, "file_done")[0]["failed"] == []
    data = outputs(events)["page.ar.html"]
    # Written back in the declared encoding: the declaration stays true.
    assert data.startswith(b"<!DOCTYPE html>\n")
    assert b'<meta charset="iso-8859-1">' in data
    root = lxml.html.document_fromstring(data.decode("iso-8859-1"))
    original = lxml.html.document_fromstring(HTML.decode("iso-8859-1"))
    assert html_shape(root) == html_shape(original)
    assert root.get("lang") == "ar"
    assert root.get("dir") == "rtl"
    assert root.findtext(".//title").startswith("You wrote")
    assert [e.text for e in root.iter("script")] == [SCRIPT, BODY_SCRIPT]
    assert root.findtext(".//style") == STYLE
    assert root.findtext(".//code") == "ls -l"
    assert root.findtext(".//pre") == "ne pas traduire"
    assert root.find(".//p[@translate='no']").text == "Marque déposée"
    # Inline elements stay inside their paragraph, around their translated text.
    paragraph = root.find(".//body/p")
    assert paragraph.text.startswith("You wrote")
    assert [e.tag for e in paragraph.iter()] == ["p", "b", "a", "i", "code", "br", "img"]
    assert paragraph.find("b").text == "mot"
    assert paragraph.find("a").get("href") == "/doc?id=42"
    assert "42 %" in paragraph.text_content()
    assert root.find(".//img").get("alt").startswith("You wrote")
    assert root.find(".//a").get("title").startswith("You wrote")
    assert root.find(".//input[@type='text']").get("placeholder").startswith("You wrote")
    assert root.find(".//input[@type='submit']").get("value").startswith("You wrote")
    assert root.find(".//input[@type='hidden']").get("value") == "abc123"
    assert root.find(".//button").get("aria-label").startswith("You wrote")
    assert b"<!-- commentaire de l'auteur -->" in data


def test_html_runs_in_place_and_nothing_else_changed() -> None:
    document = HtmlDocument(HTML)
    document.set_target("en")
    texts = [s.text for s in document.segments]
    assert "Un <1>mot</1> et un <2>lien <3>utile</3></2>," in texts[texts.index("Voir la page") + 2]
    never_sent = ("Bonjour le monde", "Cliquez", "ls -l", "Marque", "ne pas traduire", "abc")
    assert not [t for t in texts if any(word in t for word in never_sent)]
    data = document.rebuild([upper(s.parts) for s in document.segments])
    text = data.decode("iso-8859-1")
    assert '<h1 id="haut" class="titre">LE <em>GRAND</em> TITRE</h1>' in text
    assert '<a href="/doc?id=42" title="VOIR LA PAGE">LIEN <i>UTILE</i></a>' in text
    assert '<img src="chat.png" alt="UN CHAT GRIS" width="40"> FIN.' in text
    assert '<html lang="en">' in text
    assert f"<script>{SCRIPT}</script>" in text
    # Untranslated segments keep their text.
    unchanged = HtmlDocument(HTML)
    kept = unchanged.rebuild([None] * len(unchanged.segments)).decode("iso-8859-1")
    assert "<title>Rapport d'été</title>" in kept
    assert '<a href="/doc?id=42" title="Voir la page">lien <i>utile</i></a>' in kept


def test_html_translation_text_never_becomes_markup() -> None:
    """The model's answer is text: a <script> in it comes back escaped, not as an element;
    Arabic that Latin-1 cannot hold becomes character references."""
    document = HtmlDocument(HTML)
    answers: list[list[Part] | None] = [None] * len(document.segments)
    title = [s.text for s in document.segments].index("Rapport d'été")
    answers[title] = ["<script>alert(1)</script> تقرير"]
    data = document.rebuild(answers)
    assert b"&lt;script&gt;alert(1)&lt;/script&gt; &#1578;" in data
    root = lxml.html.document_fromstring(data.decode("iso-8859-1"))
    assert [e.text for e in root.iter("script")] == [SCRIPT, BODY_SCRIPT]
    assert root.findtext(".//title") == "<script>alert(1)</script> تقرير"


# ---- subtitles --------------------------------------------------------------------------------


def cues(data: bytes) -> list[list[bytes]]:
    """The blocks of a subtitle file, each as its lines (an independent split on blank lines)."""
    blocks = re.split(rb"(?:\r?\n){2,}", data.strip())
    return [block.splitlines() for block in blocks]


def test_subtitles_through_the_api(client: httpx.Client) -> None:
    events = translate(client, [("film.srt", SRT), ("film.vtt", VTT)], target="en")
    assert [f["failed"] for f in of_type(events, "file_done")] == [[], []]
    assert [f["segments"] for f in of_type(events, "documents")[0]["files"]] == [3, 2]
    files = outputs(events)
    srt = files["film.en.srt"]
    assert re.findall(rb"^\d+:\d\d:\d\d,\d+ --> .*$", srt, re.M) == SRT_TIMINGS
    blocks = cues(srt)
    assert len(blocks) == 4
    assert [b[0] for b in blocks] == [b"1", b"2", b"3", b"4"]
    assert blocks[0][2].startswith(b'You wrote: "<i>Bonjour</i>')
    assert blocks[1][2:] == [b"2024"]  # a number-only cue is never sent
    assert blocks[2][2].startswith(b"{\\an8}You wrote")
    assert b'<font color="#ffff00">Fin</font>' in blocks[3][2]
    # Each answer's filler sentence adds one line (its blank line dropped), in CRLF as the file.
    assert srt.count(b"\r\n") == SRT.count(b"\r\n") + 3
    assert srt.count(b"\n") == srt.count(b"\r\n")
    vtt = files["film.en.vtt"]
    assert vtt.startswith(b"WEBVTT - sous-titres\nKind: captions\n\nNOTE Ne pas traduire\n")
    assert b"STYLE\n::cue(.jaune) { color: yellow }\n\n" in vtt
    assert re.findall(rb"^[\d:.]+ --> .*$", vtt, re.M) == VTT_TIMINGS
    blocks = cues(vtt)
    assert len(blocks) == 6
    assert blocks[3][:2] == [b"intro", VTT_TIMINGS[0]]
    assert blocks[3][2].startswith(b'<v Bob>You wrote: "Salut &amp; bienvenue')
    assert blocks[4][1].startswith(b'You wrote: "<v.fort Ann>Oui</v>, <i>vraiment</i>.')
    assert blocks[5] == [b"3", VTT_TIMINGS[2], b"12:30"]


def test_subtitle_cues_one_segment_each_lines_kept() -> None:
    document = SubtitleDocument(VTT, vtt=True)
    # The unclosed voice tag stays outside; "12:30" (no word) is never sent.
    assert [s.text for s in document.segments] == [
        "Salut & bienvenue\n<2>ici</2> <3/>maintenant",
        "<1>Oui</1>, <2>vraiment</2>.",
    ]
    data = document.rebuild([upper(s.parts) for s in document.segments])
    assert (
        b"<v Bob>SALUT &amp; BIENVENUE\n<c.jaune>ICI</c> <00:02.000>MAINTENANT\n\n"
        b"00:00:04.000 --> 00:00:05.500\n<v.fort Ann>OUI</v>, <i>VRAIMENT</i>.\n"
    ) in data
    assert document.rebuild([None, None]) == VTT
    srt = SubtitleDocument(SRT, vtt=False)
    assert srt.rebuild([None] * len(srt.segments)) == SRT


def test_subtitle_answer_cannot_break_the_cue_structure() -> None:
    """Blank lines would end the cue and '-->' would read as a timing: neither gets through."""
    document = SubtitleDocument(SRT, vtt=False)
    data = document.rebuild([["Yes\n\n\nno --> maybe"], None, None])
    assert data.startswith(b"1\r\n00:00:01,000 --> 00:00:03,500\r\nYes\r\nno -> maybe\r\n\r\n2\r\n")
    assert len(cues(data)) == 4


# ---- XLIFF ------------------------------------------------------------------------------------


def test_xliff_through_the_api(client: httpx.Client) -> None:
    events = translate(client, [("a.xlf", XLIFF_12), ("b.xliff", XLIFF_20)], target="de")
    assert [f["failed"] for f in of_type(events, "file_done")] == [[], []]
    assert [f["segments"] for f in of_type(events, "documents")[0]["files"]] == [2, 2]
    files = outputs(events)
    root = etree.fromstring(files["a.de.xlf"])
    q = f"{{{NS_12}}}"
    assert root.find(f"{q}file").get("target-language") == "de"
    units = {u.get("id"): u for u in root.iter(f"{q}trans-unit")}
    assert list(units) == ["tu-1", "tu-2", "tu-3", "tu-4", "tu-5"]
    target = units["tu-1"].find(f"{q}target")
    assert target.get("state") == "translated"
    assert target.text.startswith('You wrote: "Un ')
    assert [(etree.QName(e).localname, dict(e.attrib)) for e in target] == [
        ("g", {"id": "1", "ctype": "bold"}),
        ("x", {"id": "2", "ctype": "lb"}),
        ("ph", {"id": "3"}),
    ]
    assert target.find(f"{q}ph").text == "{0}"
    # The new target sits after the source, before the note, which is untouched.
    assert [etree.QName(e).localname for e in units["tu-1"]] == ["source", "target", "note"]
    assert units["tu-1"].findtext(f"{q}note") == "garder {0}"
    assert units["tu-2"].find(f"{q}target").text.startswith("You wrote")
    assert units["tu-3"].find(f"{q}target") is None
    assert units["tu-4"].findtext(f"{q}target") == "Approved"
    assert units["tu-5"].find(f"{q}target") is None
    root = etree.fromstring(files["b.de.xliff"])
    q = f"{{{NS_20}}}"
    assert root.get("trgLang") == "de"
    segments = {s.get("id"): s for s in root.iter(f"{q}segment")}
    assert segments["s1"].get("state") == "translated"
    target = segments["s1"].find(f"{q}target")
    assert [etree.QName(e).localname for e in target] == ["pc", "ph", "sc", "ec"]
    assert target.find(f"{q}pc").get("dataRefStart") == "d1"
    assert segments["s2"].findtext(f"{q}target").startswith("You wrote")
    assert segments["s3"].find(f"{q}target") is None
    assert segments["s4"].findtext(f"{q}target") == "Done"
    assert root.findtext(f".//{q}note") == "ne pas toucher"


def test_xliff_inline_codes_and_untranslated_units() -> None:
    document = XliffDocument(XLIFF_12)
    assert [s.text for s in document.segments] == [
        "Un <1>mot</1> et <2/> 42 <3/>.",
        "Paire <1/>ouverte<2/> ici",
    ]
    # The second segment's tags did not survive: that unit is left exactly as it was.
    data = document.rebuild([upper(document.segments[0].parts), None])
    assert b'<target state="translated">UN <g id="1" ctype="bold">MOT</g> ET <x id="2"' in data
    assert b'<target state="new">vieux</target>' in data
    assert b"target-language" not in data  # no target given: nothing invented
    document = XliffDocument(XLIFF_20)
    document.set_target("ar")
    assert [s.text for s in document.segments] == [
        "Le <1>chat</1> <2/>dort <3/>ici<4/>.",
        "Fin de l'unité.",
    ]
    data = document.rebuild([upper(s.parts) for s in document.segments])
    assert b'srcLang="fr" trgLang="ar"' in data
    assert "<target>FIN DE L'UNITÉ.</target>".encode() in data


def test_xliff_damaged_markup_is_kept_for_review(client: httpx.Client) -> None:
    """Text that looks like a numbered tag (&lt;2&gt;) comes back from the simulator as an
    unclosed tag: the unit gets the answer's text, flagged needs-review-translation."""
    source = XLIFF_12.replace(b"ici</source>", b"ici &lt;9&gt;</source>")
    events = translate(client, [("a.xlf", source)], target="de")
    failed = of_type(events, "file_done")[0]["failed"]
    assert [(f["segment"], f["reason"]) for f in failed] == [(2, "markup_lost")]
    root = etree.fromstring(outputs(events)["a.de.xlf"])
    units = {u.get("id"): u for u in root.iter(f"{{{NS_12}}}trans-unit")}
    flagged = units["tu-2"].find(f"{{{NS_12}}}target")
    assert flagged.get("state") == "needs-review-translation"
    assert flagged.text.startswith('You wrote: "Paire ouverte ici')
    assert units["tu-1"].find(f"{{{NS_12}}}target").get("state") == "translated"


@pytest.mark.parametrize("source", [XLIFF_12, XLIFF_20], ids=["1.2", "2.0"])
def test_xliff_keeps_an_existing_target_language(source: bytes) -> None:
    marked = source.replace(b'source-language="fr"', b'source-language="fr" target-language="es"')
    marked = marked.replace(b'srcLang="fr"', b'srcLang="fr" trgLang="es"')
    document = XliffDocument(marked)
    document.set_target("de")
    data = document.rebuild([upper(s.parts) for s in document.segments])
    assert re.search(rb'(target-language|trgLang)="es"', data)
    assert b'"de"' not in data
