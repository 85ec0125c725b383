"""Writes for paper health codes and 老幼助查 (帮扫 joins them)."""

import datetime as dt
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from healthcode import tokens
from healthcode.errors import DomainError
from healthcode.idnumbers import IdType, parse_resident_id
from healthcode.models import Resident, User
from healthcode.services import person_lookup_record, person_lookup_unmatched_record
from proxy_scan.ages import elder_lookup_age_allowed
from proxy_scan.models import ELDER_LOOKUP_RESULT_LIFETIME, ElderLookupResult, PaperCodeSeries
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


ELDER_LOOKUP_CHANNEL = "elder_lookup"


def elder_lookup_refusal() -> DomainError:
    """One answer for a wrong name, a number nobody registered and an age outside the rule,
    so that the page cannot tell which, nor whether the person exists."""
    return DomainError(_("未找到符合老幼助查条件的人员，请核对姓名与证件号码。"), code="not_found")


def elder_lookup(
    *, viewer: User, name: str, id_number: str, now: dt.datetime | None = None
) -> ElderLookupResult:
    """老幼助查: ``viewer`` (a companion or venue staff) looks up the person a name and a
    mainland resident ID number name. Allowed only for a registered person of that name who is
    60 or older, or 16 or younger, today in Asia/Shanghai; anyone else raises the neutral
    ``elder_lookup_refusal``. Either way the lookup is recorded (``PersonLookup``, channel
    ``elder_lookup``): of the resident when name and number match one, else of a masked
    subject. Inputs are cleaned (``proxy_scan.forms``). Returns the result's one-time address,
    readable by ``viewer`` for ``ELDER_LOOKUP_RESULT_LIFETIME``."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    info = parse_resident_id(id_number, today=today)
    resident = Resident.objects.filter(
        id_type=IdType.RESIDENT_ID, id_number=id_number, name=name
    ).first()
    if resident is None:
        person_lookup_unmatched_record(
            viewer=viewer, id_number=id_number, channel=ELDER_LOOKUP_CHANNEL
        )
        raise elder_lookup_refusal()
    person_lookup_record(viewer=viewer, resident=resident, channel=ELDER_LOOKUP_CHANNEL)
    if not elder_lookup_age_allowed(info, today=today):
        raise elder_lookup_refusal()  # the attempt stays recorded: the person may see it
    elder_lookup_results_purge(now=now)
    return ElderLookupResult.objects.create(
        key=secrets.token_urlsafe(24), viewer=viewer, resident=resident, created_at=now
    )


def elder_lookup_results_purge(*, now: dt.datetime) -> int:
    """Delete every result address past its lifetime; return how many."""
    deleted, _by_model = ElderLookupResult.objects.filter(
        created_at__lte=now - ELDER_LOOKUP_RESULT_LIFETIME
    ).delete()
    return deleted
