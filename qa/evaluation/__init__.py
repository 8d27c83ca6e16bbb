"""How well retrieval finds the evidence, and answers state it (``qa eval``), at home and outside.

The path runs one way: :mod:`.reference` parses and checks the questions, :mod:`.run`
searches them in every mode and scores the passages with :mod:`.metrics` and the answers
with :mod:`.answers`, :mod:`.records` scores extracted records against gold, :mod:`.beir`
does the same for a public benchmark in the BEIR layout, and :mod:`.anchor` ranks the same
units naively beside them. :mod:`.suite` runs all of it as one loop; the outcome is a typed
:class:`~.report.EvaluationRun` (stored by :mod:`.report_json`), which :mod:`.render`,
:mod:`.markdown`, :mod:`.chart` and :mod:`.compare` turn into tables, Markdown and a chart.
"""
