"""AWS Lambda entry point for the ingest/search API (API Gateway `/v1/*`)."""

from mangum import Mangum

from ingest_worker.http.app import create_app

handler = Mangum(create_app(), lifespan="off")
