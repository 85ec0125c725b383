"""The Celery app. Workers, one per queue group (routes: the Celery block of config/settings.py):
``celery -A config worker -Q recompute`` and ``celery -A config worker -Q bulk,default``;
schedule: ``celery -A config beat``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("healthcode")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
