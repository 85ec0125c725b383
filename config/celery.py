"""The Celery app. Workers, one per queue group (routes: the Celery block of config/settings.py):
``celery -A config worker -Q recompute`` and ``celery -A config worker -Q bulk,default``;
schedule: ``celery -A config beat``."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("healthcode")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_old_connections(sender=None, **_kwargs) -> None:
    """Around each task, what Django does around each request: close a database connection
    that is past CONN_MAX_AGE or unusable, keep the rest (settings: CELERY_DB_REUSE_MAX). Not
    for an eager task, which runs inside its caller's connection and transaction."""
    if sender is None or getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections as close  # after Django is set up

    close()
