"""Batch uploads shared by the lab results API and the risk-flag API.

A batch is JSON ``{"records": [...]}`` or CSV with a header line (UTF-8 with or without BOM,
or GBK, since Excel in China saves GBK). Each record is cleaned on its own; good ones land,
bad ones come back with their index, key and field errors in Chinese; a record never lands
half. Records are upserted by a natural key, so re-sending a batch changes nothing.
"""

import csv
import datetime as dt
import functools
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from healthcode import idnumbers
from healthcode.errors import DomainError
from healthcode.models import Resident

MAX_RECORDS = 10_000
CLOCK_SKEW = dt.timedelta(minutes=5)


# PostgreSQL's text and jsonb cannot hold NUL (U+0000), and UTF-8 cannot encode a lone
# surrogate (U+D800-U+DFFF, which a JSON "\ud800" escape yields): a value carrying one is a
# field error of its record, checked before any cleaner, and is never echoed into the errors
# stored on the batch (ResultBatch.errors, a JSON column) or returned.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_KEY_ECHO_LIMIT = 64


class CsvRecords(list):
    """The records of a CSV body, with the file line each record starts on (the header is
    line 1), so that errors name the line a person sees in their editor."""

    def __init__(self, records: list[dict], lines: list[int]) -> None:
        super().__init__(records)
        self.lines = lines


class RecordInvalid(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def parse_body(body: bytes, content_type: str) -> list[dict]:
    """The records of a request body, or DomainError (400/413/415) for the whole batch."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(body.decode("utf-8-sig"))
        except (ValueError, RecursionError):  # bad UTF-8 or JSON, an over-long int, nesting
            raise DomainError(_("请求体不是有效的 JSON。"), code="bad_body") from None
        records = data.get("records") if isinstance(data, dict) else None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise DomainError(_('JSON 应为 {"records": [记录, …]}。'), code="bad_body")
    elif kind in ("text/csv", "application/csv"):
        records = _csv_records(body)
    else:
        raise DomainError(
            _("只接受 application/json 或 text/csv。"), code="unsupported_media_type", status=415
        )
    if not records:
        raise DomainError(_("批次中没有记录。"), code="empty")
    if len(records) > MAX_RECORDS:
        raise DomainError(
            _("每批最多 %(max)s 条记录，本批 %(n)s 条；请拆分后上传。")
            % {"max": MAX_RECORDS, "n": len(records)},
            code="too_many",
            status=413,
        )
    return records


def _csv_records(body: bytes) -> CsvRecords:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = body.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise DomainError(_("CSV 编码无法识别，请使用 UTF-8 或 GBK。"), code="bad_body")
    reader = csv.reader(io.StringIO(text, newline=""))
    header, rows, lines = None, [], []
    while True:
        start = reader.line_num + 1  # a quoted field may span lines: the record starts here
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:  # e.g. a field over the csv module's size limit
            raise DomainError(
                _("CSV 第 %(line)s 行无法解析。") % {"line": start}, code="bad_body"
            ) from None
        if not row:
            continue  # a blank line
        if header is None:
            header = [name.strip() for name in row]
            continue
        if len(row) > len(header):
            raise DomainError(
                _("CSV 第 %(line)s 行的列数多于表头。") % {"line": start}, code="bad_body"
            )
        rows.append({k: v.strip() for k, v in zip(header, row, strict=False)})
        lines.append(start)
    if header is None:
        raise DomainError(_("CSV 缺少表头行。"), code="bad_body")
    return CsvRecords(rows, lines)


@functools.cache
def _values(choices) -> frozenset[str]:
    return frozenset(choices.values)


def choice(value, choices, default=None):
    value = str(value).strip() if value not in (None, "") else default
    if value not in _values(choices):
        raise ValidationError(_("应为以下之一：%(c)s。") % {"c": "、".join(choices.values)})
    return value


@functools.lru_cache(maxsize=4096)  # a batch repeats its times; parsing is pure
def _parse_datetime(value: str) -> dt.datetime | None:
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def parse_time(
    value, *, now: dt.datetime, required: bool = True, future_ok: bool = False
) -> dt.datetime | None:
    """An ISO 8601 time ("2022-05-27 08:30", optional seconds and offset; no offset means
    Beijing time), not in the future beyond a few minutes of clock skew unless allowed."""
    if value in (None, ""):
        if required:
            raise ValidationError(_("必填。"))
        return None
    parsed = _parse_datetime(str(value).strip())
    if parsed is None:
        raise ValidationError(_("时间格式应为 YYYY-MM-DD HH:MM[:SS]。"))
    if not future_ok and parsed > now + CLOCK_SKEW:
        raise ValidationError(_("时间晚于当前时间。"))
    return parsed


def clean_identity(raw: dict, today: dt.date) -> dict:
    """Cleaners for the person fields every batch record carries."""
    return {
        "id_type": lambda v, c: choice(v, idnumbers.IdType, default="resident_id"),
        "id_number": lambda v, c: idnumbers.clean_id_number(
            c.get("id_type") or raw.get("id_type") or "resident_id", str(v or ""), today=today
        ),
        "name": lambda v, c: idnumbers.clean_name(str(v or "")),
    }


def clean_fields(raw: dict, cleaners: dict[str, Callable]) -> dict:
    """Run each field's cleaner; collect every field's error, then raise them together."""
    clean, errors = {}, {}
    for name, cleaner in cleaners.items():
        value = raw.get(name)
        if isinstance(value, (dict, list)):
            errors[name] = [_("应为文本，不能是列表或对象。")]
            continue
        if isinstance(value, str) and _UNSTORABLE.search(value):
            errors[name] = [_("含有无法保存的字符（如空字符 NUL），请删除后重新上传。")]
            continue
        try:
            clean[name] = cleaner(value, clean)
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise RecordInvalid(errors)
    return clean


@dataclass
class Outcome:
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)  # (object, before, after)
    unchanged: int = 0
    errors: list = field(default_factory=list)
    # The registered residents the batch's clean records name, by (id_type, id_number), as
    # read for the name check (clean_records): the people to recompute, without asking again.
    residents: dict = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        return len(self.errors)

    def report(self) -> dict:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": self.errors,
        }


def clean_records(
    records: list[dict],
    *,
    clean: Callable[[dict], dict],
    key: Callable[[dict], str],
    key_field: str,
    outcome: Outcome,
) -> list[dict]:
    """Cleaned records, in order; the rejects go to ``outcome.errors`` with index, CSV line
    and key. A key seen twice in one batch is rejected the second time."""
    lines = getattr(records, "lines", None)

    def reject(index: int, raw: dict, errors: dict) -> None:
        where = {"index": index} if lines is None else {"index": index, "line": lines[index]}
        outcome.errors.append({**where, key_field: echo_key(raw.get(key_field)), "errors": errors})

    good, seen = [], set()
    for index, raw in enumerate(records):
        try:
            record = clean(raw)
        except RecordInvalid as exc:
            reject(index, raw, exc.errors)
            continue
        if key(record) in seen:
            reject(index, raw, {key_field: [_("同一批次中重复。")]})
            continue
        seen.add(key(record))
        record["_index"], record["_raw"] = index, raw
        good.append(record)
    agreed = _names_agree(good, reject=reject, outcome=outcome)
    outcome.errors.sort(key=lambda e: e["index"])
    return agreed


def echo_key(value) -> str | None:
    """A record's key as sent, to name it in its error, when it is short printable text;
    anything else (NUL, control characters, objects, NaN) is not echoed."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > _KEY_ECHO_LIMIT or not value.isprintable():
        return None
    return value if not _UNSTORABLE.search(value) else None


def _names_agree(good: list[dict], *, reject: Callable, outcome: Outcome) -> list[dict]:
    """A record about a registered person must carry that person's name; one that does not
    is rejected rather than silently linked to them. The people found go to
    ``outcome.residents``."""
    registered = {}
    for pk, id_type, number, name in Resident.objects.filter(
        id_number__any={r["id_number"] for r in good}
    ).values_list("pk", "id_type", "id_number", "name"):
        registered[(id_type, number)] = name
        outcome.residents[(id_type, number)] = pk
    agreed = []
    for record in good:
        index, raw = record.pop("_index"), record.pop("_raw")
        name = registered.get((record["id_type"], record["id_number"]))
        if name is not None and name != record["name"]:
            reject(index, raw, {"name": [_("姓名与该证件号码的登记信息不一致。")]})
        else:
            agreed.append(record)
    return agreed


def upsert(
    existing: dict[str, models.Model],
    records: Iterable[dict],
    *,
    key: Callable[[dict], str],
    fields: list[str],
    new: Callable[[dict], models.Model],
    outcome: Outcome,
) -> None:
    """Sort records into new objects, changed objects (with before/after) and unchanged."""
    for record in records:
        obj = existing.get(key(record))
        if obj is None:
            outcome.created.append(new(record))
            continue
        before = {f: getattr(obj, f) for f in fields}
        after = {f: record[f] for f in fields}
        if before == after:
            outcome.unchanged += 1
            continue
        for f in fields:
            setattr(obj, f, record[f])
        outcome.updated.append((obj, _jsonable(before), _jsonable(after)))


def land_records(
    good: list[dict],
    *,
    owned: models.QuerySet,
    key_field: str,
    fields: list[str],
    new: Callable[[dict], models.Model],
    insert: Callable[[list], None],
    change_model: type[models.Model],
    change_of: str,
    batch: "UploadBatch",
    now: dt.datetime,
    outcome: Outcome,
) -> None:
    """Write a batch's clean records inside the caller's transaction (labs' results,
    vaccination sites' doses): lock the owner's rows with these keys (``owned``: one lab's
    samples, one site's doses), create the new ones (``insert``), update the changed ones —
    stamped with the batch and ``now``, each earlier version kept as a ``change_model`` row
    pointing at it by ``change_of`` — count the unchanged, and record the batch's counts. A
    concurrent upload creating the same key raises IntegrityError for the caller to answer."""
    existing = {
        getattr(row, key_field): row
        for row in owned.select_for_update().filter(
            **{f"{key_field}__any": [r[key_field] for r in good]}
        )
    }
    upsert(existing, good, key=lambda r: r[key_field], fields=fields, new=new, outcome=outcome)
    insert(outcome.created)
    updated = [row for row, _before, _after in outcome.updated]
    for row in updated:
        row.batch, row.updated_at = batch, now
    owned.model.objects.bulk_update(updated, [*fields, "batch", "updated_at"], batch_size=1000)
    change_model.objects.bulk_create(
        change_model(**{change_of: row}, batch=batch, before=before, after=after, changed_at=now)
        for row, before, after in outcome.updated
    )
    batch.record_outcome(outcome)


def _jsonable(values: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()}


class UploadBatch(models.Model):
    """One machine upload (a lab's results, a vaccination site's doses), kept for audit: when,
    in what format, what came of it. Subclasses add who sent it (the owner and its key)."""

    REPORT_FIELDS = [
        "id",
        "received_at",
        "content_type",
        "total",
        "created",
        "updated",
        "unchanged",
        "rejected",
        "errors",
    ]
    ERRORS_KEPT = 1000

    # Indexed: the retention sweep deletes raw batches older than their period.
    received_at = models.DateTimeField(_lazy("接收时间"), default=timezone.now, db_index=True)
    content_type = models.CharField(_lazy("格式"), max_length=16)
    total = models.PositiveIntegerField(_lazy("记录数"), default=0)
    created = models.PositiveIntegerField(_lazy("新增"), default=0)
    updated = models.PositiveIntegerField(_lazy("更新"), default=0)
    unchanged = models.PositiveIntegerField(_lazy("未变"), default=0)
    rejected = models.PositiveIntegerField(_lazy("拒收"), default=0)
    errors = models.JSONField(_lazy("错误"), default=list)

    class Meta:
        abstract = True
        ordering = ["-received_at", "-id"]

    def record_outcome(self, outcome: Outcome) -> None:
        """Store what came of the batch (the first ``ERRORS_KEPT`` errors)."""
        report = outcome.report()
        self.created, self.updated = report["created"], report["updated"]
        self.unchanged, self.rejected = report["unchanged"], report["rejected"]
        self.errors = report["errors"][: self.ERRORS_KEPT]
        self.save(update_fields=["created", "updated", "unchanged", "rejected", "errors"])
