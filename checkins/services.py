"""Writes for check-ins."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from checkins.models import CheckIn
from healthcode import engine
from healthcode.models import HealthCode, Resident
from healthcode.selectors import ensure_current
from venues.models import EntryRule, Venue


def checkin_record(
    *,
    resident: Resident,
    venue: Venue,
    method: str,
    scanned_by=None,
    now: dt.datetime | None = None,
) -> tuple[CheckIn, bool]:
    """Record that ``resident`` arrived at ``venue`` with the decision at the door; return
    the check-in and whether it is new.

    A second scan of the same venue within ``CHECKIN_REPEAT_SECONDS`` returns the first
    check-in and writes nothing. The resident's health-code row is locked for the check (and
    read in the same query), so two scans arriving at the same instant still leave one row.
    """
    now = now or timezone.now()
    window = dt.timedelta(seconds=settings.CHECKIN_REPEAT_SECONDS)
    with transaction.atomic():
        code = HealthCode.objects.select_for_update().get(resident=resident)
        recent = (
            CheckIn.objects.filter(
                resident=resident,
                venue=venue,
                checked_in_at__gt=now - window,
                checked_in_at__lte=now,
            )
            .order_by("checked_in_at")
            .first()
        )
        if recent is not None:
            return recent, False
        code = ensure_current(code, now=now)
        decision = engine.entry_decision(
            colour=code.colour,
            test=code.test,
            required_hours=venue.required_test_hours,
            test_required=venue.entry_rule != EntryRule.NONE,
            now=now,
        )
        checkin = CheckIn.objects.create(
            resident=resident,
            venue=venue,
            checked_in_at=now,
            method=method,
            colour=code.colour,
            reasons=code.reasons,
            test=code.test,
            decision=CheckIn.Decision.PASS if decision.passed else CheckIn.Decision.STOP,
            decision_code=decision.code,
            decision_text=decision.text,
            scanned_by=scanned_by,
        )
    return checkin, True
