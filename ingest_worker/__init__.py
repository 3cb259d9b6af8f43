"""The ingest worker: Celery app, pipeline stages, and the ingest HTTP API."""
