"""Results for readers outside fourfold: per-case exports (CSV, JSONL, Parquet)
and figures for a paper (radar, heatmap, per-cell bars).

A stage after ``score``: it reads a merged ``score.collection.Collection`` and
the ``Scores`` made from it, and writes files. Nothing heavy is imported here:
matplotlib and pyarrow load in the module that draws or writes with them, when
it runs.
"""
