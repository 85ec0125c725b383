"""Reads for check-ins and alerts."""

from dataclasses import dataclass, field

from django.db.models import BooleanField, F, QuerySet

from checkins.models import Alert, CheckIn, Device, GridWorker
from healthcode import rawrows, regions, rowcache, tokens
from vaccination.selectors import VACCINATION_FIELDS, Vaccination, vaccination_columns_sql


def device_key(key_hash: str) -> str:
    return f"door:device:{key_hash}"


def device_by_key_hash(key_hash: str) -> Device | None:
    """The scan device with this key (and its venue), from the row cache: every gate scan reads
    it. Dropped when the device (a revocation) or its venue is saved."""
    return rowcache.cached(
        device_key(key_hash),
        lambda: Device.objects.select_related("venue").filter(key_hash=key_hash).first(),
    )


def forget_devices(key_hashes: list[str]) -> None:
    rowcache.forget(*(device_key(h) for h in key_hashes))


def alerts_for_grid_worker(*, grid_worker: GridWorker) -> QuerySet[Alert]:
    """Alerts about people living in the regions this grid worker looks after."""
    if not grid_worker.region_codes:
        return Alert.objects.none()
    covered = regions.covered_q("region_code", grid_worker.region_codes)
    return Alert.objects.filter(covered).select_related("venue", "resident", "checkin")


def alerts_for_venue(*, venue) -> QuerySet[Alert]:
    # checkin__resident: the list names each person through the check-in (masked).
    return Alert.objects.filter(venue=venue).select_related("resident", "checkin__resident")


@dataclass
class PersonAlerts:
    """One person's alerts on a grid worker's page, unacknowledged first, newest first."""

    masked_name: str
    region_code: str
    resident_id: int | None = None
    alerts: list[Alert] = field(default_factory=list)

    @property
    def region_name(self) -> str:
        return regions.region_name(self.region_code)

    @property
    def unacknowledged(self) -> int:
        return sum(alert.acknowledged_at is None for alert in self.alerts)

    @property
    def first_unacknowledged(self) -> Alert | None:
        """The alert the 全部标记已处理 button names (the service finds the person by it)."""
        return next((alert for alert in self.alerts if alert.acknowledged_at is None), None)


def alerts_unacknowledged_count(*, grid_worker: GridWorker) -> int:
    return alerts_for_grid_worker(grid_worker=grid_worker).filter(acknowledged_at=None).count()


def alerts_by_person(*, grid_worker: GridWorker, limit: int = 200) -> list[PersonAlerts]:
    """The latest ``limit`` alerts of this grid worker's regions, grouped by person: people
    with unacknowledged alerts first (the newest of those first), then the rest. One query."""
    rows = alerts_for_grid_worker(grid_worker=grid_worker).order_by(
        F("acknowledged_at").desc(nulls_first=True), "-created_at", "-pk"
    )[:limit]
    groups: dict[object, PersonAlerts] = {}
    for alert in rows:
        # A person is their resident row; an alert without one (never so for a region's
        # alerts today, which come from registered residents) stands alone.
        key = alert.resident_id or f"checkin-{alert.checkin_id}"
        if key not in groups:
            name = alert.resident.masked_name if alert.resident else alert.checkin.masked_name
            groups[key] = PersonAlerts(
                masked_name=name, region_code=alert.region_code, resident_id=alert.resident_id
            )
        groups[key].alerts.append(alert)
    return list(groups.values())


def checkins_for_venue(*, venue, day) -> QuerySet[CheckIn]:
    """A venue's check-ins on one local day, newest first (indexed by venue and time)."""
    return (
        CheckIn.objects.filter(venue=venue, checked_in_at__date=day)
        .select_related("resident")
        .order_by("-checked_in_at")
    )


_TOKEN_USED_ELSEWHERE = (
    f'EXISTS (SELECT 1 FROM "{CheckIn._meta.db_table}" t WHERE t.resident_id = %s '
    "AND t.token_digest = %s AND t.checked_in_at > %s AND t.venue_id <> %s)"
)
_PREVIEW = rawrows.Rows(extra=(*VACCINATION_FIELDS, BooleanField()))
_USED = rawrows.Rows(extra=(BooleanField(),))


def token_used_elsewhere_sql(*, resident, token: str, venue, now) -> tuple[str, list]:
    """Whether a check-in of this holder with this token, within its life, was made at another
    venue: an EXISTS on the check-ins' (resident, token) index, and its parameters; FALSE for
    no token (a paper code, a scan without one)."""
    if not token:
        return "FALSE", []
    since = rawrows.param(CheckIn, "checked_in_at", now - tokens.lifetime())
    return _TOKEN_USED_ELSEWHERE, [resident.pk, tokens.digest(token), since, venue.pk]


def door_preview_facts(*, resident, token: str, venue, now) -> tuple[bool, Vaccination]:
    """For the inspector's preview, in one statement: whether this token (if any: a paper
    code has none) checked its holder in at another venue, and the person's doses."""
    doses, params = vaccination_columns_sql(resident=resident)
    used, used_params = token_used_elsewhere_sql(
        resident=resident, token=token, venue=venue, now=now
    )
    count, last_date, used_elsewhere = _PREVIEW.one(f"SELECT {doses}, {used}", params + used_params)
    return bool(used_elsewhere), Vaccination(count or 0, last_date)


def token_used_elsewhere(*, resident, token: str, venue, now) -> bool:
    """Whether this token has already checked its holder in at another venue within its life:
    then it is refused there (a forwarded screenshot works once). The exit scan asks it alone;
    the rule (``token_used_elsewhere_sql``) is also asked by the inspector's preview
    (``door_preview_facts``) and by ``checkins.services.checkin_record`` beside the latest stay,
    under the holder's code-row lock, so that two venues racing with one token record one
    check-in."""
    sql, params = token_used_elsewhere_sql(resident=resident, token=token, venue=venue, now=now)
    return bool(_USED.one(f"SELECT {sql}", params)[0])


def checkins_of(*, resident, since) -> QuerySet[CheckIn]:
    """The resident's own check-ins since ``since``, newest first, with the venue and, for a
    帮扫 check-in, the helper's account and resident (to name them masked) loaded."""
    return (
        CheckIn.objects.filter(resident=resident, checked_in_at__gte=since)
        .select_related("venue", "helper", "helper__resident")
        .order_by("-checked_in_at", "-id")
    )
