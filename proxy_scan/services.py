"""Writes (and signed issues) for paper health codes."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from healthcode import tokens
from healthcode.errors import DomainError
from healthcode.models import Resident
from proxy_scan.models import PaperCodeSeries
from proxy_scan.selectors import paper_code_version

NOT_YOURS = _("您无权为此人打印或作废纸质码。")


def paper_code_ensure_may_act(*, viewer, resident: Resident) -> None:
    """403 unless ``viewer`` may print or revoke ``resident``'s paper codes. Today: the person
    themself. (Family holders are the one place to add here.)"""
    if viewer is None or not viewer.is_authenticated or resident.user_id != viewer.pk:
        raise DomainError(NOT_YOURS, code="not_yours", status=403)


def paper_code_issue(
    *, viewer, resident: Resident, now: dt.datetime | None = None
) -> tokens.IssuedToken:
    """A signed paper token for ``resident`` at their current series version. Writes
    nothing: a print is valid until it expires or the series is revoked."""
    paper_code_ensure_may_act(viewer=viewer, resident=resident)
    return tokens.issue_paper(
        public_id=resident.public_id,
        version=paper_code_version(resident=resident),
        now=now or timezone.now(),
    )


def paper_codes_revoke(
    *, viewer, resident: Resident, now: dt.datetime | None = None
) -> PaperCodeSeries:
    """Revoke every paper code of ``resident`` printed so far (lost, or handed to someone who
    should no longer hold it): the series version goes up by one, older prints are refused."""
    paper_code_ensure_may_act(viewer=viewer, resident=resident)
    with transaction.atomic():
        # Lock the person so two revokes at once each bump once (no lost update, no
        # duplicate first row).
        Resident.objects.select_for_update().filter(pk=resident.pk).first()
        series, _new = PaperCodeSeries.objects.get_or_create(resident=resident)
        series.version += 1
        series.revoked_at = now or timezone.now()
        series.revoked_by = viewer
        series.save(update_fields=["version", "revoked_at", "revoked_by"])
    return series
