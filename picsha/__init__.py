"""The composition root: one app and one CLI over `ingest_worker` and `delivery`.

The two deployables never import each other; this package is where they meet for
`picsha serve` (everything on one machine).
"""
