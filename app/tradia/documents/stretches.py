"""A paragraph as the model sees it: stretches of text, one per formatting, and fixed pieces.

Spreadsheet cells, slide paragraphs and OpenDocument paragraphs all read as a sequence of
stretches (consecutive text with one formatting, or one link) and fixed pieces (line breaks,
fields, tabs, notes: kept in place, never translated). A paragraph with one stretch and nothing
fixed is sent as plain text; otherwise every stretch becomes `<n>...</n>` and every fixed piece
`<n/>`, numbered in document order, and the answer is split back by those numbers.
"""

from __future__ import annotations

from tradia.documents.tagged_text import Close, Empty, Open, Part

# One entry per piece, in document order: the stretch's text, or None for a fixed piece.
Pieces = list[str | None]


def to_parts(pieces: Pieces) -> list[Part]:
    if len(pieces) == 1 and pieces[0] is not None:
        return [pieces[0]]
    parts: list[Part] = []
    for number, piece in enumerate(pieces, start=1):
        if piece is None:
            parts.append(Empty(number))
        else:
            parts += [Open(number), piece, Close(number)]
    return parts


def from_parts(pieces: Pieces, translated: list[Part]) -> list[str]:
    """The new text of each piece ("" for fixed ones). Text outside every tag joins the stretch
    before it; after a fixed piece, the first stretch that follows it in the original."""
    texts: list[list[str]] = [[] for _ in pieces]
    stretches = [index for index, piece in enumerate(pieces) if piece is not None]
    if not stretches:
        return ["" for _ in pieces]
    if len(pieces) == 1:
        texts[0] = [p for p in translated if isinstance(p, str)]
        return ["".join(t) for t in texts]
    current = stretches[0]
    for part in translated:
        if isinstance(part, Open | Close):
            current = part.n - 1
        elif isinstance(part, Empty):
            after = [index for index in stretches if index > part.n - 1]
            current = after[0] if after else stretches[-1]
        else:
            texts[current].append(part)
    return ["".join(t) for t in texts]
