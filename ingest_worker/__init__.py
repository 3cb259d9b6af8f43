"""The ingest worker: the pipeline and its stages, external converters, the Celery queue,
and the ingest and search HTTP API (one wing each)."""
