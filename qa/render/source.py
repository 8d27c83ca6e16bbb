"""The source view's framed pages: a whole document with the cited passage marked, and a PDF
passage's printed pages, each opening scrolled to the passage.

They are shown in iframes, whole HTML documents built as strings by pure functions. The same
rule as :mod:`qa.render.html` holds: every piece of document text is escaped. Each page also
carries a Content-Security-Policy that allows only its one scroll script (pinned by hash) and
data: images, so even text that escaped escaping could not run.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Sequence
from dataclasses import dataclass

from qa.citation import Citation
from qa.render.html import highlight_spans, marked_html

SOURCE_SCRIPT = (
    "var m=document.getElementById('passage');"
    "if(m){var y=m.getBoundingClientRect().top+window.scrollY-0.15*window.innerHeight;"
    "window.scrollTo(0,Math.max(0,y));}"
)
# A frame's document (the text view, the printed pages): it may show data: images and run
# only the one script whose hash it names.
_FRAME_DOCUMENT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src '{script_hash}'">
<style>
body {{ margin: 0; padding: 0.75rem 1rem 40vh; color: #1f2328; background: #fff;
  font: 0.97rem/1.6 "Source Sans 3", "Source Sans Pro", -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif; }}
{style}
</style></head>
<body>{body}<script>{script}</script></body></html>"""
_TEXT_STYLE = """
.doc { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 52rem; margin: 0 auto; }
mark { display: inline-block; width: 100%; box-sizing: border-box; vertical-align: top;
  background: #fff4cc; color: inherit; border-left: 4px solid #d9a400;
  padding: 0.35rem 0.6rem; border-radius: 0 0.3rem 0.3rem 0; }
mark strong { background: #ffe08a; font-weight: 600; }"""
_PAGES_STYLE = """
body { padding: 0.5rem; background: #eef0f3; }
figure { margin: 0 auto 1rem; max-width: 60rem; }
figcaption { font-size: 0.85rem; color: #4a5361; margin-bottom: 0.25rem; }
.sheet { position: relative; box-shadow: 0 1px 4px rgba(0, 0, 0, 0.25); background: #fff; }
.sheet img { display: block; width: 100%; height: auto; }
#passage { position: absolute; left: 0; width: 0; height: 0; }"""


@dataclass(frozen=True)
class PageImage:
    """One printed page of a PDF drawn with the passage highlighted: its number, the PNG and
    its size in pixels, and where the passage starts on it (a fraction of the page's height
    from the top), or None when the passage is on another page."""

    number: int
    png: bytes
    width: int
    height: int
    passage_top: float | None


def source_html(text: str, start: int, end: int, question: str, anchor: str = "passage") -> str:
    """A whole document as escaped HTML with ``text[start:end]`` in ``<mark id=anchor>``.

    Inside the passage the question's words are in ``<strong>``, as in the result list.
    """
    passage = text[start:end]
    if passage.strip():  # the mark holds the words, not the blank lines around them
        start += len(passage) - len(passage.lstrip())
        passage = passage.strip()
        end = start + len(passage)
    inner = marked_html(passage, highlight_spans(passage, question), tag="strong")
    return (
        html.escape(text[:start])
        + f'<mark id="{html.escape(anchor, quote=True)}">{inner}</mark>'
        + html.escape(text[end:])
    )


def _frame_document(style: str, body: str) -> str:
    digest = base64.b64encode(hashlib.sha256(SOURCE_SCRIPT.encode()).digest()).decode()
    return _FRAME_DOCUMENT.format(
        script_hash=f"sha256-{digest}", style=style, body=body, script=SOURCE_SCRIPT
    )


def source_page(text: str, citation: Citation, question: str) -> str:
    """The iframe page of a whole document, scrolled to the cited place by a hash-pinned script.

    The Content-Security-Policy allows only this one script, so even text that
    escaped escaping could not run.
    """
    body = source_html(text, citation.start, citation.end, question)
    return _frame_document(_TEXT_STYLE, f'<div class="doc">{body}</div>')


def pdf_page(pages: Sequence[PageImage], title: str) -> str:
    """The iframe page of a passage's printed pages, each under its number, scrolled (by the
    text view's script) to where the passage starts, so both views open on the passage.

    Each image carries its size, so the page is laid out before the images are decoded
    and the scroll lands on the passage rather than on an empty page.
    """
    figures = []
    anchored = False
    for page in pages:
        anchor = ""
        if page.passage_top is not None and not anchored:
            anchored = True
            top = min(max(page.passage_top, 0.0), 1.0) * 100
            anchor = f'<span id="passage" style="top: {top:.2f}%"></span>'
        alt = html.escape(f"Page {page.number} of {title}, the passage highlighted", quote=True)
        data = base64.b64encode(page.png).decode()
        figures.append(
            f"<figure><figcaption>Page {page.number}</figcaption>"
            f'<div class="sheet"><img src="data:image/png;base64,{data}" alt="{alt}"'
            f' width="{page.width}" height="{page.height}">{anchor}</div></figure>'
        )
    return _frame_document(_PAGES_STYLE, "".join(figures))
