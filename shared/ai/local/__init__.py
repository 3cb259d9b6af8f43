"""Local AI: models that ship inside installed packages, on CPU, offline (the `ai` extra)."""
