"""The stages `ingest_worker.pipeline` runs, in its order; each raises its own stage name
and writes fixed keys."""
