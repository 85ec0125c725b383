"""Writes for vaccination: a site's batch of doses, through the ingest shared with labs."""

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from healthcode.errors import DomainError
from healthcode.ingest import Outcome, clean_fields, clean_identity, clean_records, land_records
from vaccination.models import (
    FIRST_DOSE_DATE,
    MAX_DOSE_NUMBER,
    Dose,
    DoseBatch,
    DoseChange,
    SiteKey,
)

DOSE_FIELDS = ["id_type", "id_number", "name", "product", "dose_number", "vaccinated_on"]


def _record_id(value, _clean):
    value = str(value or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9\-_]{4,64}", value):
        raise ValidationError(_("接种记录编号应为4至64位字母、数字、连字符或下划线。"))
    return value


def _product(value, _clean):
    value = " ".join(unicodedata.normalize("NFKC", str(value or "")).split())
    if not value:
        raise ValidationError(_("必填。"))
    if len(value) > 64 or not value.isprintable():
        raise ValidationError(_("疫苗产品名称应为不超过64个字符的文本。"))
    return value


def _dose_number(value, _clean):
    text = str(value).strip() if value is not None and not isinstance(value, bool) else ""
    if not re.fullmatch(r"[0-9]{1,2}", text) or not 1 <= int(text) <= MAX_DOSE_NUMBER:
        raise ValidationError(_("剂次应为1至%(max)s的整数。") % {"max": MAX_DOSE_NUMBER})
    return int(text)


def _vaccinated_on(value, _clean, today: dt.date):
    text = str(value or "").strip()
    if not text:
        raise ValidationError(_("必填。"))
    try:
        day = dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationError(_("日期格式应为 YYYY-MM-DD。"))
    if day > today:
        raise ValidationError(_("接种日期晚于今天。"))
    if day < FIRST_DOSE_DATE:
        raise ValidationError(_("接种日期不能早于 %(d)s。") % {"d": FIRST_DOSE_DATE.isoformat()})
    return day


def clean_dose_record(raw: dict, *, now: dt.datetime) -> dict:
    today = timezone.localdate(now)
    return clean_fields(
        raw,
        {
            "record_id": _record_id,
            **clean_identity(raw, today),
            "product": _product,
            "dose_number": _dose_number,
            "vaccinated_on": lambda v, c: _vaccinated_on(v, c, today),
        },
    )


def doses_ingest(
    *, key: SiteKey, records: list[dict], content_type: str, now: dt.datetime | None = None
) -> tuple[DoseBatch, Outcome]:
    """Land a vaccination site's batch: new doses are created, a record sent again unchanged
    is counted as unchanged, a changed one updates its dose (the earlier version kept as a
    DoseChange); bad records come back with their field errors and write nothing. The batch is
    kept for audit. No colour depends on doses, so nothing is recomputed: the door reads them
    as it decides."""
    now = now or timezone.now()
    site = key.site
    outcome = Outcome()
    good = clean_records(
        records,
        clean=lambda raw: clean_dose_record(raw, now=now),
        key=lambda r: r["record_id"],
        key_field="record_id",
        outcome=outcome,
    )
    try:
        with transaction.atomic():
            batch = DoseBatch.objects.create(
                site=site, key=key, received_at=now, content_type=content_type, total=len(records)
            )
            land_records(
                good,
                owned=Dose.objects.filter(site=site),
                key_field="record_id",
                fields=DOSE_FIELDS,
                new=lambda r: Dose(
                    site=site,
                    record_id=r["record_id"],
                    batch=batch,
                    updated_at=now,
                    **{f: r[f] for f in DOSE_FIELDS},
                ),
                insert=lambda created: Dose.objects.bulk_create(created, batch_size=2000),
                change_model=DoseChange,
                change_of="dose",
                batch=batch,
                now=now,
                outcome=outcome,
            )
    except IntegrityError:
        # Another upload created one of these records between our read and our write.
        raise DomainError(
            _("同一接种记录正被另一批次同时上传，请稍后重试本批次。"), code="conflict", status=409
        ) from None
    return batch, outcome
