"""PDF files: the text a reader of the pages sees, tied to the pages it is printed on, and a
page rendered with a passage highlighted.

:mod:`~qa.corpus.pdf.pdfium` reads each page's glyphs with pypdfium2 (boxes, type size and
weight, in content-stream order) and renders pages; the layout is undone by pure functions
over those glyphs: :mod:`~qa.corpus.pdf.lines`, :mod:`~qa.corpus.pdf.tables` and
:mod:`~qa.corpus.pdf.blocks`. The rules are general; each constant states what it was
measured on, the 17 Ofsted reports in ``shared/ilacs`` (Word exports of 9-14 A4 pages with
12 pt body text), and generated PDFs in ``tests/test_pdf.py`` check them on other layouts.

1. **Lines and columns.** Glyphs that follow each other in the stream on one baseline form a
   line; a horizontal gap wider than any word space splits a line into segments (table cells).
   A run of lines the stream printed late, above text printed before it, moves back to where
   it is read. Footnote marks (small raised digits) are left out.
2. **Running headers and footers.** A line near the top or bottom edge that recurs, digits
   aside, on most pages ("Inspection of Dorset local authority children's services / 17 to 21
   March 2025 11") is removed, as is a lone page number there.
3. **Tables.** Lines side by side in two or more columns whose gaps line up down the page, and
   whose cells the stream gives row by row, are a table: each row becomes one block of cells,
   a cell's wrapped lines joined.
4. **Paragraphs.** Lines join into a paragraph until the gap to the next line is wider than the
   document's line spacing, the type changes, or a line starts with a bullet or a paragraph
   number. A paragraph cut by a page break is joined across it (footnotes between its parts
   go before it).
5. **Hyphens.** A word hyphenated at a line end is joined when the document uses the joined
   word elsewhere and never the hyphenated one; otherwise the hyphen stays ("multi-agency").
6. **Headings.** A short block in larger type than the body, or bold before plain text, or a
   short title-case line standing alone before body text, is a heading.

Example::

    pdf = read_pdf(Path("report.pdf"), Settings().read_limits)
    page = bisect.bisect_right(pdf.extracted.pages, start)
    png = render_page(Path("report.pdf"), page, highlight=(start, end))
"""

from qa.corpus.pdf.pdfium import Box, PdfText, passage_boxes, read_pdf, render_page

__all__ = ["Box", "PdfText", "passage_boxes", "read_pdf", "render_page"]
