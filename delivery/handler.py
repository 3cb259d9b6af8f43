"""AWS Lambda entry point (behind API Gateway / CloudFront): Mangum around the app."""

from mangum import Mangum

from delivery.app import create_app

# Mangum base64-encodes non-text bodies and sets isBase64Encoded for API Gateway.
handler = Mangum(create_app(), lifespan="off")
