"""Code both deployables import: settings, object storage, manifest, imaging primitives."""
