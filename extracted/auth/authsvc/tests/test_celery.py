from authsvc.celery import app
from strangler.sync.relay import APPLY_EVENTS_TASK


def test_the_worker_knows_the_sync_consumer_task_so_events_sent_here_are_applied():
    # What `celery -A authsvc worker` imports at start; a task it does not know is discarded.
    app.loader.import_default_modules()

    assert APPLY_EVENTS_TASK == "strangler.sync.apply_events"
    assert APPLY_EVENTS_TASK in app.tasks
