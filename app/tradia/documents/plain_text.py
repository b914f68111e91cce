"""Plain text and Markdown: translated paragraph by paragraph, layout kept.

Blank lines, line endings and the encoding are kept; in Markdown, code blocks stay untouched and
the markers at the start of a line (#, -, *, 1., >) stay outside what the model sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tradia.documents.model import DocumentRejected, Segment
from tradia.documents.tagged_text import Part

_MD_PREFIX = re.compile(r"^(\s*(?:#{1,6}\s+|[-*+]\s+(?:\[[ xX]\]\s+)?|\d+[.)]\s+|>\s*)*)")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


def decode_text(data: bytes) -> tuple[str, str]:
    """The text and the encoding to write it back in."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentRejected("UTF-16 text is not supported; save the file as UTF-8.")
    if b"\x00" in data:
        # Windows-1252 decodes almost any bytes: a NUL is what tells a binary file apart.
        raise DocumentRejected("binary content: this is not a text file")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise DocumentRejected("the text encoding is not UTF-8 nor Windows-1252") from exc


@dataclass
class _Piece:
    prefix: str
    text: str | None  # None: kept as is
    suffix: str


class TextDocument:
    def __init__(self, data: bytes, *, markdown: bool) -> None:
        text, self.encoding = decode_text(data)
        self._pieces: list[_Piece] = []
        lines = text.splitlines(keepends=True)
        if markdown:
            self._split_markdown(lines)
        else:
            self._split_paragraphs(lines)
        self.segments = [Segment([p.text]) for p in self._pieces if p.text is not None]

    def _add(self, prefix: str, body: str, ending: str) -> None:
        if _LETTER.search(body):
            self._pieces.append(_Piece(prefix, body, ending))
        else:
            self._pieces.append(_Piece(prefix + body + ending, None, ""))

    def _split_paragraphs(self, lines: list[str]) -> None:
        paragraph: list[str] = []

        def flush() -> None:
            if paragraph:
                block = "".join(paragraph)
                body = block.rstrip("\r\n")
                self._add("", body, block[len(body) :])
                paragraph.clear()

        for line in lines:
            if line.strip():
                paragraph.append(line)
            else:
                flush()
                self._pieces.append(_Piece(line, None, ""))
        flush()

    def _split_markdown(self, lines: list[str]) -> None:
        in_code = False
        for line in lines:
            if line.lstrip().startswith(("```", "~~~")):
                in_code = not in_code
                self._pieces.append(_Piece(line, None, ""))
                continue
            if in_code or line.startswith(("    ", "\t")) or not line.strip():
                self._pieces.append(_Piece(line, None, ""))
                continue
            body = line.rstrip("\r\n")
            prefix = _MD_PREFIX.match(body).group(1)  # type: ignore[union-attr]
            self._add(prefix, body[len(prefix) :], line[len(body) :])

    def rebuild(self, translations: list[list[Part] | None]) -> bytes:
        out = []
        pending = iter(translations)
        for piece in self._pieces:
            if piece.text is None:
                out.append(piece.prefix)
                continue
            translated = next(pending)
            body = (
                piece.text
                if translated is None
                else "".join(p for p in translated if isinstance(p, str))
            )
            out.append(piece.prefix + body + piece.suffix)
        text = "".join(out)
        try:
            return text.encode(self.encoding)
        except UnicodeEncodeError:
            # The target language does not fit the original 8-bit encoding (e.g. Arabic).
            return text.encode("utf-8")
