"""Writes for nucleic-acid results and test-validity policies."""

import datetime as dt
import io
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from healthcode.errors import DomainError
from healthcode.ingest import (
    Outcome,
    choice,
    clean_fields,
    clean_identity,
    clean_records,
    land_records,
    parse_time,
)
from healthcode.services import (
    codes_mark_due,
    publish_after_commit,
    recompute_later,
    residents_with_identities,
)
from nucleic.models import LabToken, Result, ResultBatch, Sample, SampleChange, TestPolicy

SAMPLE_FIELDS = ["id_type", "id_number", "name", "sampled_at", "reported_at", "result"]


def _barcode(value, _clean):
    value = str(value or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9\-_]{4,64}", value):
        raise ValidationError(_("样本条码应为4至64位字母、数字、连字符或下划线。"))
    return value


def _reported_at(value, clean, now):
    if clean.get("result") == Result.PENDING:
        return None  # a report time means nothing until there is a result
    reported = parse_time(value, now=now)
    if clean.get("sampled_at") and reported < clean["sampled_at"]:
        raise ValidationError(_("报告时间早于采样时间。"))
    return reported


def clean_result_record(raw: dict, *, now: dt.datetime, today: dt.date | None = None) -> dict:
    """``today``: the local date of ``now`` (a batch passes it, computed once)."""
    today = today or timezone.localdate(now)
    return clean_fields(
        raw,
        {
            "barcode": _barcode,
            **clean_identity(raw, today),
            "result": lambda v, c: choice(v, Result),
            "sampled_at": lambda v, c: parse_time(v, now=now),
            "reported_at": lambda v, c: _reported_at(v, c, now),
        },
    )


def results_ingest(
    *, token: LabToken, records: list[dict], content_type: str, now: dt.datetime | None = None
) -> tuple[ResultBatch, Outcome]:
    """Land a lab's batch: create new samples, update changed ones (keeping their earlier
    version), count unchanged ones, reject bad records with their errors; record the batch
    for audit; recompute the residents it touched after commit."""
    now = now or timezone.now()
    lab = token.lab
    outcome = Outcome()
    today = timezone.localdate(now)
    good = clean_records(
        records,
        clean=lambda raw: clean_result_record(raw, now=now, today=today),
        key=lambda r: r["barcode"],
        key_field="barcode",
        outcome=outcome,
    )
    try:
        with transaction.atomic():
            batch = ResultBatch.objects.create(
                lab=lab,
                token=token,
                received_at=now,
                content_type=content_type,
                total=len(records),
            )
            land_records(
                good,
                owned=Sample.objects.filter(lab=lab),
                key_field="barcode",
                fields=SAMPLE_FIELDS,
                # A new sample stays its cleaned record until it is written (insert_samples):
                # a model instance each cost more than the COPY that writes them.
                new=lambda r: r,
                insert=lambda created: insert_samples(created, lab=lab, batch=batch, now=now),
                change_model=SampleChange,
                change_of="sample",
                batch=batch,
                now=now,
                outcome=outcome,
            )
            touched = {(r["id_type"], r["id_number"]) for r in outcome.created}
            touched |= {(s.id_type, s.id_number) for s, _b, _a in outcome.updated}
            # A correction may move a record to another person: recompute the earlier one too.
            touched |= {(b["id_type"], b["id_number"]) for _o, b, _a in outcome.updated}
            # The name check read the residents the records name; only an earlier person of a
            # correction may be missing from it.
            known = outcome.residents
            people = {known[i] for i in touched if i in known}
            people.update(residents_with_identities(i for i in touched if i not in known))
            recompute_later(resident_ids=people, cause=f"lab batch {batch.pk}", now=now)
    except IntegrityError:
        # Another upload created one of these samples between our read and our write.
        raise DomainError(
            _("同一样本正被另一批次同时上传，请稍后重试本批次。"), code="conflict", status=409
        ) from None
    return batch, outcome


_COPY_COLUMNS = [
    "lab_id",
    "batch_id",
    "updated_at",
    "barcode",
    "id_type",
    "id_number",
    "name",
    "sampled_at",
    "reported_at",
    "result",
]
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    text = value.isoformat() if isinstance(value, dt.datetime) else str(value)
    return text.translate(_COPY_ESCAPES)


def insert_samples(records: list[dict], *, lab, batch: ResultBatch, now: dt.datetime) -> None:
    """Insert new samples from their cleaned records. On PostgreSQL through COPY: a
    10,000-row batch is where ingest spends its time, and COPY writes it several times faster
    than a multi-row INSERT (docs/benchmarks.md)."""
    if connection.vendor != "postgresql":
        Sample.objects.bulk_create(
            (
                Sample(
                    lab=lab,
                    barcode=r["barcode"],
                    batch=batch,
                    updated_at=now,
                    **{f: r[f] for f in SAMPLE_FIELDS},
                )
                for r in records
            ),
            batch_size=2000,
        )
        return
    # The lab, batch and time are the same on every line; a batch repeats its times, so each
    # distinct one is formatted once.
    head = "\t".join(_copy_text(v) for v in (lab.pk, batch.pk, now)) + "\t"
    times: dict = {}

    def when(value):
        text = times.get(value)
        if text is None:
            text = times[value] = _copy_text(value)
        return text

    text = _copy_text
    lines = io.StringIO()
    lines.writelines(
        f"{head}{text(r['barcode'])}\t{text(r['id_type'])}\t{text(r['id_number'])}\t"
        f"{text(r['name'])}\t{when(r['sampled_at'])}\t{when(r['reported_at'])}\t"
        f"{text(r['result'])}\n"
        for r in records
    )
    lines.seek(0)
    # The raw cursor's errors are psycopg2's; wrap them so a duplicate barcode raised by a
    # concurrent upload is Django's IntegrityError, answered below with a 409.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.cursor.copy_expert(
            f"COPY {Sample._meta.db_table} ({', '.join(_COPY_COLUMNS)}) FROM STDIN", lines
        )


def policy_create(
    *,
    group: str,
    window_hours: int,
    effective_from: dt.datetime,
    counts_from: str = "sampling",
    pending_counts: bool = True,
    note: str = "",
    created_by=None,
) -> TestPolicy:
    """Add a test-validity policy. Everyone it affects is recomputed at its effective
    instant, not before: their review time is brought forward to it (the minute sweep and
    every read then recompute), or they are recomputed now if it is already in effect."""
    try:
        with transaction.atomic():
            policy = TestPolicy.objects.create(
                group=group,
                window_hours=window_hours,
                counts_from=counts_from,
                pending_counts=pending_counts,
                effective_from=effective_from,
                note=note,
                created_by=created_by,
            )
            codes_mark_due(group=group, at=effective_from)
            if effective_from <= timezone.now():
                from healthcode.tasks import recompute_due

                # Its review times are back at the instant, before the sweep's place: a new pass.
                publish_after_commit(
                    lambda: recompute_due.delay(from_start=True), what="sweep after a policy"
                )
    except IntegrityError:  # one per group and instant: the constraint decides
        raise DomainError(_("该人群在此生效时间已有政策。"), field="effective_from") from None
    return policy
