"""Writes for appeals: a resident submits one; a health officer upholds or rejects it.

Upholding withdraws the fact behind the reason — a risk flag ends now, a result is marked
disputed, a stay is set aside — and recomputes the code through the engine at once, in the
same transaction, so the HealthCodeChange it makes names the appeal (``appeal <pk> upheld``).
Every decision is in the audit trail. An officer who started or applied the trace a flag came
from cannot decide an appeal against it: a second officer must (the power to turn codes red
is the one most open to misuse, and so is the power to clear them).
"""

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals import photos
from appeals.models import TEXT_MAX, Appeal, AppealStatus, FactKind
from appeals.selectors import appealable_reason, trace_officers_of_flag
from audit.services import audit_change
from healthcode.errors import DomainError
from healthcode.models import HealthCode, ItineraryStay, Resident, RiskArea, RiskFlag, User
from healthcode.services import healthcode_recompute_many
from nucleic.models import Sample
from venues.selectors import officer_for_user

logger = logging.getLogger(__name__)


# --- Submitting --------------------------------------------------------------------------------
def appeal_submit(
    *, resident: Resident, fact: str, text: str, photo=None, now: dt.datetime | None = None
) -> Appeal:
    """The resident appeals the fact behind one reason of their code now (``fact`` as the
    reason names it), with a text of at most 500 characters and optionally a photo (an
    uploaded file; ``appeals.photos`` checks it). One open appeal per reason. Refusals are
    ``DomainError`` on their field, and write nothing: no row, no file."""
    now = now or timezone.now()
    text = (text or "").strip()
    if not text:
        raise DomainError(_("请填写申诉理由。"), field="text")
    if len(text) > TEXT_MAX:
        raise DomainError(
            _("申诉理由最多 %(max)s 个字（现在 %(n)s 个）。") % {"max": TEXT_MAX, "n": len(text)},
            field="text",
        )
    reason = appealable_reason(resident=resident, fact=fact or "")
    if reason is None:
        raise DomainError(
            _("您的健康码上现在没有这条原因，无需申诉；请回到健康码页面重新选择。"),
            field="fact",
            code="no_such_reason",
        )
    facts = _fact_objects(resident, fact)
    clean = photos.photo_clean(photo) if photo else None
    name = photos.photo_store(clean) if clean else ""
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(
                resident=resident,
                fact=fact,
                reason_code=reason["code"],
                reason_text=reason["text"][:100],
                text=text,
                photo=name,
                photo_format=clean.format if clean else "",
                created_at=now,
                **facts,
            )
    except IntegrityError:
        photos.photo_remove(name)
        # One open appeal per reason: the database's constraint decides (a pre-check would
        # only repeat it, and still race), and the stored photo goes again.
        raise _already_open() from None
    except BaseException:
        photos.photo_remove(name)
        raise
    logger.info("appeal %s submitted by resident %s", appeal.pk, resident.pk)
    return appeal


def _already_open() -> DomainError:
    return DomainError(
        _("这条原因已有一份处理中的申诉，请等待答复后再提交。"),
        field="fact",
        code="duplicate",
        status=409,
    )


def _fact_objects(resident: Resident, fact: str) -> dict:
    """The model rows behind an engine fact reference of this resident's reason."""
    first, _slash, second = fact.partition("/")
    kind, _colon, pk = first.partition(":")
    found: dict = {}
    if kind == FactKind.FLAG and pk.isdigit():
        found["flag"] = RiskFlag.objects.filter(
            pk=pk, id_type=resident.id_type, id_number=resident.id_number
        ).first()
    elif kind == FactKind.SAMPLE and pk.isdigit():
        found["sample"] = Sample.objects.filter(
            pk=pk, id_type=resident.id_type, id_number=resident.id_number
        ).first()
    elif kind == FactKind.STAY and pk.isdigit() and second.startswith("area:"):
        found["stay"] = ItineraryStay.objects.filter(pk=pk, resident=resident).first()
        area_pk = second.partition(":")[2]
        found["area"] = RiskArea.objects.filter(pk=area_pk).first() if area_pk.isdigit() else None
    if not found or None in found.values():
        # The engine named it a moment ago; it can only be gone if it was removed since.
        raise DomainError(_("该原因对应的记录已不存在。"), field="fact", code="no_such_reason")
    return {"kind": kind, **found}


# --- Deciding ----------------------------------------------------------------------------------
UPHOLD_ANSWER = gettext_lazy("经核查，申诉成立，相关记录已撤销。")


def appeal_uphold(
    *, appeal: Appeal, by: User, answer: str = "", now: dt.datetime | None = None
) -> Appeal:
    """Uphold: withdraw the fact (a flag ends now, a result is disputed, a stay set aside)
    and recompute the code through the engine now, the appeal named as the cause; audited
    as ``appeal_uphold``."""
    now = now or timezone.now()
    answer = _answer(answer, required=False) or str(UPHOLD_ANSWER)
    with transaction.atomic():
        appeal = _lock_for_decision(appeal, by)
        old_colour = HealthCode.objects.get(resident_id=appeal.resident_id).colour
        gone = _withdraw_fact(appeal, now)
        _close(appeal, AppealStatus.UPHELD, by=by, answer=answer, now=now)
        healthcode_recompute_many(
            resident_ids=[appeal.resident_id], cause=f"appeal {appeal.pk} upheld", now=gone
        )
        new_colour = HealthCode.objects.get(resident_id=appeal.resident_id).colour
        _audit("appeal_uphold", appeal, by, answer, now, old_colour, new_colour)
    logger.info("appeal %s upheld by user %s", appeal.pk, by.pk)
    return appeal


def appeal_reject(*, appeal: Appeal, by: User, answer: str, now: dt.datetime | None = None):
    """Reject with an answer (required) the resident reads; the colour stays as it is.
    Audited as ``appeal_reject``."""
    now = now or timezone.now()
    answer = _answer(answer, required=True)
    with transaction.atomic():
        appeal = _lock_for_decision(appeal, by)
        colour = HealthCode.objects.get(resident_id=appeal.resident_id).colour
        _close(appeal, AppealStatus.REJECTED, by=by, answer=answer, now=now)
        _audit("appeal_reject", appeal, by, answer, now, colour, colour)
    logger.info("appeal %s rejected by user %s", appeal.pk, by.pk)
    return appeal


def _answer(answer: str, *, required: bool) -> str:
    answer = (answer or "").strip()
    if required and not answer:
        raise DomainError(_("请填写驳回理由，申诉人会看到这段答复。"), field="answer")
    if len(answer) > TEXT_MAX:
        raise DomainError(
            _("答复最多 %(max)s 个字（现在 %(n)s 个）。") % {"max": TEXT_MAX, "n": len(answer)},
            field="answer",
        )
    return answer


def _lock_for_decision(appeal: Appeal, by: User) -> Appeal:
    """The appeal, locked, if ``by`` may decide it now; else DomainError: not an officer
    (403), not in their regions (404: as if it did not exist), already decided (409), or a
    flag from a trace they started or applied (403)."""
    officer = officer_for_user(user=by)
    if officer is None:
        raise DomainError(_("仅卫生健康部门工作人员可以处理申诉。"), code="not_officer", status=403)
    appeal = (
        Appeal.objects.select_for_update(of=("self",))
        .select_related("resident", "flag")
        .get(pk=appeal.pk)
    )
    if not officer.covers(appeal.resident.region_code):
        raise DomainError(_("未找到该申诉。"), code="not_found", status=404)
    if not appeal.is_open:
        raise DomainError(_("该申诉已处理，不能再次处理。"), code="decided", status=409)
    if appeal.flag_id and by.pk in trace_officers_of_flag(appeal.flag):
        raise DomainError(
            _("该风险标记来自您发起或赋码的流调，您不能处理针对它的申诉，请由另一名工作人员处理。"),
            code="own_trace",
            status=403,
        )
    return appeal


def _withdraw_fact(appeal: Appeal, now: dt.datetime) -> dt.datetime:
    """Withdraw the appeal's fact; return the instant from which the engine no longer sees
    it (now, or just after for a flag that began this very instant)."""
    if appeal.kind == FactKind.FLAG:
        flag = RiskFlag.objects.select_for_update().get(pk=appeal.flag_id)
        if flag.ends_at is None or flag.ends_at > now:
            # Ends now; a flag must end after it starts (a check constraint), so one that
            # began at this instant ends a microsecond later.
            flag.ends_at = max(now, flag.starts_at + dt.timedelta(microseconds=1))
            flag.updated_at = now
            flag.save(update_fields=["ends_at", "updated_at"])
        # Withdrawn as well as ended: the list it came from may send it again, with its old
        # end; the import writes its fields, never this one, so the flag stays withdrawn.
        RiskFlag.objects.filter(pk=flag.pk, withdrawn_at=None).update(withdrawn_at=now)
        return max(now, flag.ends_at)
    if appeal.kind == FactKind.SAMPLE:
        Sample.objects.filter(pk=appeal.sample_id, disputed_at=None).update(disputed_at=now)
    else:
        ItineraryStay.objects.filter(pk=appeal.stay_id, set_aside_at=None).update(set_aside_at=now)
    return now


def _close(appeal: Appeal, status: str, *, by: User, answer: str, now: dt.datetime) -> None:
    appeal.status, appeal.decided_by, appeal.decided_at, appeal.answer = status, by, now, answer
    appeal.save(update_fields=["status", "decided_by", "decided_at", "answer"])


def _audit(action, appeal, by, answer, now, old_colour, new_colour) -> None:
    audit_change(
        action=action,
        actor=by,
        subject=appeal.resident,
        reason=answer,
        detail={
            "appeal": appeal.pk,
            "fact": appeal.fact,
            "old_colour": old_colour,
            "new_colour": new_colour,
        },
        at=now,
    )
