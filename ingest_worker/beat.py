"""Celery beat as `picsha serve` runs it: embedded in the worker (`celery worker --beat`)."""

from celery import signals

from ingest_worker.lifetime import set_name

BEAT_NAME = "celery beat"


@signals.beat_embedded_init.connect
def _name_the_process(**_: object) -> None:
    # The embedded beat is a fork of the worker with the same command line: without a name
    # of its own, `ps -e` and `top` cannot tell it from the worker or its pool processes.
    set_name(BEAT_NAME)
