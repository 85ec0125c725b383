"""The daily retention run (beat, 03:30 Beijing time). Belongs on the ``bulk`` queue."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from retention import services


@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=8,
)
def retention_purge(self) -> dict[str, int]:
    """Delete what is past its retention period (idempotent: a retry deletes what is left)."""
    return services.retention_purge()
