"""Briefs: the one-page reading of a document (issue 16).

- `factcheck.py`: which facts an abstract states (numbers, percentages, years, 文号,
  unit names) and whether each occurs in the document's text or extracted items;
- `abstract.py`: the compact input the model writes an abstract from, the fixed
  template abstract, and `add_summaries`, which the pipeline calls for every result;
- `measure_summary.py`: one extractive line per measure, with its offsets.

The page itself is rendered by `summarizer/interfaces/brief.py`.
"""
