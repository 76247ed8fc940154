import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authsvc.settings")

app = Celery("authsvc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
