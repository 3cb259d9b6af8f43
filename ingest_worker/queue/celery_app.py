"""The Celery app. Embedded mode uses a filesystem transport (fs_broker): no broker process."""

from celery import Celery

import ingest_worker.queue.signals  # noqa: F401 - worker metrics + log context via signals
from ingest_worker.queue import fs_broker
from ingest_worker.queue.beat import SingleScheduler
from shared.settings import Settings, get_settings

INGEST_QUEUE = "ingest"
# Names from when the tasks lived in ingest_worker/tasks.py: queued messages carry them,
# so they never change with the module.
INGEST_TASK = "ingest_worker.tasks.ingest_asset"
SWEEP_TASK = "ingest_worker.tasks.sweep_stuck"
# AI analysis has its own queue so slow model calls never hold up ingest (issue 5).
ANALYSIS_QUEUE = "analysis"
ANALYSIS_TASK = "ingest_worker.tasks.analyze_asset"


def make_celery(settings: Settings) -> Celery:
    app = Celery("picsha", include=["ingest_worker.queue.tasks"])
    if settings.embedded_broker:
        queue_dir = (settings.broker_dir / "queue").resolve()
        control_dir = (settings.broker_dir / "control").resolve()
        for folder in (queue_dir, control_dir):
            folder.mkdir(parents=True, exist_ok=True)
        # A host the transport ignores: without one kombu warns "No hostname was supplied"
        # on every connection, i.e. on every upload.
        app.conf.broker_url = f"{fs_broker.SCHEME}://localhost/"
        app.conf.broker_transport_options = {
            "data_folder_in": str(queue_dir),
            "data_folder_out": str(queue_dir),
            "control_folder": str(control_dir),
            "store_processed": False,
            # A folder scan is cheap; a short poll keeps queue wait well under a frame.
            "polling_interval": 0.05,
        }
    else:
        app.conf.broker_url = settings.broker_url
        app.conf.broker_transport_options = {
            # Above the longest task time limit, so a slow job is not redelivered while alive
            # (a lost one comes back sooner through the sweeper).
            "visibility_timeout": max(
                settings.broker_visibility_timeout, settings.ingest_time_limit_seconds + 120
            ),
            # Without these a broker that is gone without closing the connection holds a
            # publish for ever (kombu's default): the API answers 503 instead.
            "socket_connect_timeout": settings.broker_timeout_seconds,
            "socket_timeout": settings.broker_timeout_seconds,
        }
        # A publish retried at most twice, 0.5 s apart (Celery's default: three times).
        app.conf.task_publish_retry_policy = {
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 0.5,
        }
    app.conf.update(
        task_default_queue=INGEST_QUEUE,
        task_routes={ANALYSIS_TASK: {"queue": ANALYSIS_QUEUE}},
        task_acks_late=True,  # a worker killed mid-job leaves the message for another
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,  # the manifest is the result
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # Long enough for the longest video allowed (shared/settings.py); the hard limit
        # kills a job that ignores the soft one's exception.
        task_soft_time_limit=settings.ingest_time_limit_seconds,
        task_time_limit=settings.ingest_time_limit_seconds + 60,
        beat_schedule={
            "sweep-stuck-assets": {"task": SWEEP_TASK, "schedule": settings.sweep_interval_seconds}
        },
        beat_schedule_filename=str((settings.data_dir / "celerybeat-schedule").resolve()),
        beat_scheduler=SingleScheduler,  # one at a time, ending with its worker
    )
    return app


app = make_celery(get_settings())
