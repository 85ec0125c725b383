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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from healthcode import idnumbers
from healthcode.errors import DomainError
from healthcode.models import Resident

MAX_RECORDS = 10_000
CLOCK_SKEW = dt.timedelta(minutes=5)


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
        except (UnicodeDecodeError, json.JSONDecodeError):
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


def _csv_records(body: bytes) -> list[dict]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = body.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise DomainError(_("CSV 编码无法识别，请使用 UTF-8 或 GBK。"), code="bad_body")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise DomainError(_("CSV 缺少表头行。"), code="bad_body")
    rows = []
    for row in reader:
        if None in row:
            raise DomainError(
                _("CSV 第 %(line)s 行的列数多于表头。") % {"line": reader.line_num},
                code="bad_body",
            )
        rows.append({k.strip(): (v or "").strip() for k, v in row.items() if k is not None})
    return rows


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
        try:
            clean[name] = cleaner(raw.get(name), clean)
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
    """Cleaned records, in order; the rejects go to ``outcome.errors`` with index and key.
    A key seen twice in one batch is rejected the second time."""
    good, seen = [], set()
    for index, raw in enumerate(records):
        try:
            record = clean(raw)
        except RecordInvalid as exc:
            outcome.errors.append(
                {"index": index, key_field: raw.get(key_field), "errors": exc.errors}
            )
            continue
        if key(record) in seen:
            outcome.errors.append(
                {
                    "index": index,
                    key_field: raw.get(key_field),
                    "errors": {key_field: [_("同一批次中重复。")]},
                }
            )
            continue
        seen.add(key(record))
        record["_index"] = index
        good.append(record)
    return _names_agree(good, key_field=key_field, outcome=outcome)


def _names_agree(good: list[dict], *, key_field: str, outcome: Outcome) -> list[dict]:
    """A record about a registered person must carry that person's name; one that does not
    is rejected rather than silently linked to them."""
    registered = {
        (id_type, number): name
        for id_type, number, name in Resident.objects.filter(
            id_number__in={r["id_number"] for r in good}
        ).values_list("id_type", "id_number", "name")
    }
    agreed = []
    for record in good:
        name = registered.get((record["id_type"], record["id_number"]))
        if name is not None and name != record["name"]:
            outcome.errors.append(
                {
                    "index": record["_index"],
                    key_field: record.get(key_field),
                    "errors": {"name": [_("姓名与该证件号码的登记信息不一致。")]},
                }
            )
        else:
            agreed.append(record)
    outcome.errors.sort(key=lambda e: e["index"])
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


def _jsonable(values: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in values.items()}
