"""Outputs of the cost model, one module per format.

`tables` and `money` are shared by all of them (one per-service table, one money format);
`terminal` (rich), `markdown` (PR comment), `html_page` (+ `charts`) and `document` (CSV and
versioned JSON, with `estimate_from_json` for diffs across revisions) render an `Estimate` or a
`costmodel.diff.Diff`; `sections` gathers the optional model-wide sections (sweep, headroom,
levers, seed check).
"""
