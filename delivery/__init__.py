"""Delivery: renders `/render/{id}?…` on the fly from the object store (no database)."""
