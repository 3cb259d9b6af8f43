"""One beat scheduler per schedule file: a second one waits for the first to end."""

import threading

from ingest_worker.queue.beat import SingleScheduler
from ingest_worker.queue.celery_app import make_celery


def test_a_second_scheduler_waits_until_the_first_closes(settings):
    app = make_celery(settings)

    def scheduler() -> SingleScheduler:
        return SingleScheduler(app=app, schedule_filename=app.conf.beat_schedule_filename)

    first = scheduler()
    opened: list[SingleScheduler] = []
    second = threading.Thread(target=lambda: opened.append(scheduler()))
    second.start()
    second.join(1.0)
    assert second.is_alive() and opened == []  # blocked on the lock, schedule untouched
    first.close()
    second.join(30)
    assert len(opened) == 1
    assert "sweep-stuck-assets" in opened[0].schedule
    opened[0].close()
