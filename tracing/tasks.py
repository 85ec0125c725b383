"""Celery tasks for tracing. Thin: ids in, a service call."""

from celery import shared_task

from tracing import services


@shared_task(acks_late=True, ignore_result=True)
def trace_run(trace_id: int) -> None:
    """Run a trace (idempotent: a rerun replaces its contacts)."""
    try:
        services.trace_run(trace_id=trace_id)
    except Exception:
        from tracing.models import Trace

        Trace.objects.filter(pk=trace_id).update(status=Trace.Status.FAILED)
        raise


@shared_task(ignore_result=True)
def colour_counts_snapshot() -> None:
    """Hourly (beat): today's residents by colour per district, for the workbench's plot."""
    services.colour_counts_snapshot()
