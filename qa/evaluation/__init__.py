"""How well retrieval finds the evidence of a reference set (``qa eval``) or a BEIR dataset.

The path runs one way: :mod:`.reference` parses and checks the questions, :mod:`.run`
searches them in every mode and scores the passages with :mod:`.metrics`, the outcome is
a typed record of :mod:`.report` (stored by :mod:`.report_json`), and :mod:`.render` and
:mod:`.compare` turn records into tables, Markdown and a chart. :mod:`.beir` does the same
for a public benchmark in the BEIR layout.
"""
