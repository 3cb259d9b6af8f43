"""The `bedrock` provider: Rekognition, Titan embeddings and image generation, Claude."""
