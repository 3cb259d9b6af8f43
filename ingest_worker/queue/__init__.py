"""Celery plumbing: the app and its thin tasks, worker signals (metrics, log context), the
embedded filesystem broker, per-asset locks, the sweeper and its single beat."""
