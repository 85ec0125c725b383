"""Reads for check-ins and alerts."""

from django.db.models import QuerySet

from checkins.models import Alert, CheckIn, GridWorker
from healthcode import regions, tokens


def alerts_for_grid_worker(*, grid_worker: GridWorker) -> QuerySet[Alert]:
    """Alerts about people living in the regions this grid worker looks after."""
    if not grid_worker.region_codes:
        return Alert.objects.none()
    covered = regions.covered_q("region_code", grid_worker.region_codes)
    return Alert.objects.filter(covered).select_related("venue", "resident", "checkin")


def alerts_for_venue(*, venue) -> QuerySet[Alert]:
    return Alert.objects.filter(venue=venue).select_related("resident", "checkin")


def checkins_for_venue(*, venue, day) -> QuerySet[CheckIn]:
    """A venue's check-ins on one local day, newest first (indexed by venue and time)."""
    return (
        CheckIn.objects.filter(venue=venue, checked_in_at__date=day)
        .select_related("resident")
        .order_by("-checked_in_at")
    )


def token_used_elsewhere(*, resident, token: str, venue, now) -> bool:
    """Whether this token has already checked its holder in at another venue within its life:
    then it is refused there (a forwarded screenshot works once). The one rule for the
    inspector's preview and for ``checkins.services.checkin_record``, which asks it under the
    holder's code-row lock so that two venues racing with one token record one check-in."""
    return (
        CheckIn.objects.filter(
            resident=resident,
            token_digest=tokens.digest(token),
            checked_in_at__gt=now - tokens.lifetime(),
        )
        .exclude(venue=venue)
        .exists()
    )


def checkins_of(*, resident, since) -> QuerySet[CheckIn]:
    """The resident's own check-ins since ``since``, newest first, with the venue and, for a
    帮扫 check-in, the helper's account and resident (to name them masked) loaded."""
    return (
        CheckIn.objects.filter(resident=resident, checked_in_at__gte=since)
        .select_related("venue", "helper", "helper__resident")
        .order_by("-checked_in_at", "-id")
    )
