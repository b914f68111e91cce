"""Text written into an lxml tree in document order: after an element's last child (its tail)
or, in an element without children yet, as its text."""

from __future__ import annotations

from lxml import etree


def append_text(container: etree._Element, text: str) -> None:
    if len(container):
        container[-1].tail = (container[-1].tail or "") + text
    else:
        container.text = (container.text or "") + text
