"""AWS Lambda entry point (behind API Gateway / CloudFront): Mangum around the app."""

from mangum import Mangum

from shared.libvips import use_bundled

use_bundled()  # before delivery imports pyvips: render on libvips 8.18 (shared/libvips.py)

from delivery.app import create_app  # noqa: E402

# Mangum base64-encodes non-text bodies and sets isBase64Encoded for API Gateway.
handler = Mangum(create_app(), lifespan="off")
