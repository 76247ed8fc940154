from authsvc.celery import app


def test_the_worker_knows_the_sync_consumer_task_so_events_sent_here_are_applied():
    # What `celery -A authsvc worker` imports at start; a task it does not know is discarded.
    app.loader.import_default_modules()

    assert "strangler.sync.apply_event" in app.tasks
