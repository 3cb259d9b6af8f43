"""The ingest and search HTTP API: routes (assets, search, people, AI), upload streaming,
API keys, idempotency, the Lambda handlers (API Gateway, S3 upload events)."""
