"""Test data made through the real services, so every resident is a registered one."""

import datetime as dt
import itertools

from healthcode import services
from healthcode.idnumbers import IdType, resident_id_check_char
from healthcode.models import Resident

PASSWORD = "Test-pass-2026!"
_seq = itertools.count(1)


def resident_id(*, region: str = "110105", birth: str = "19900101", seq: int = 1) -> str:
    first17 = f"{region}{birth}{seq:03d}"
    return first17 + resident_id_check_char(first17)


def registration_data(**overrides) -> dict:
    """Valid page/API input for a new resident; each call yields a fresh ID and phone."""
    n = next(_seq)
    data = {
        "name": "张三丰",
        "id_type": IdType.RESIDENT_ID,
        "id_number": resident_id(seq=n % 1000, birth=f"19{50 + n % 40}0101"),
        "phone": f"139{n:08d}",
        "nationality": "中国",
        "region_code": "110105",
        "address": "北京市朝阳区建国路 1 号",
        "contact_history": ["none"],
        "contact_note": "",
        "password": PASSWORD,
        "password_again": PASSWORD,
        "commitment": True,
    }
    data.update(overrides)
    return data


def make_resident(**overrides) -> Resident:
    data = registration_data(**overrides)
    return services.resident_register(
        name=data["name"],
        id_type=data["id_type"],
        id_number=data["id_number"],
        phone=data["phone"],
        password=data["password"],
        nationality=data["nationality"],
        region_code=data["region_code"],
        address=data["address"],
        committed=True,
    )


def add_flag(
    resident: Resident,
    kind: str = "close_contact",
    *,
    starts=None,
    ends=None,
    recompute: bool = True,
    **extra,
):
    """A risk flag on this resident (by identity, as imports key them); recomputed at once."""
    from django.utils import timezone

    from healthcode.models import RiskFlag

    starts = starts or timezone.now() - dt.timedelta(minutes=1)
    flag = RiskFlag.objects.create(
        source=extra.pop("source", "test"),
        external_id=extra.pop("external_id", f"f{next(_seq)}"),
        id_type=resident.id_type,
        id_number=resident.id_number,
        name=resident.name,
        kind=kind,
        starts_at=starts,
        ends_at=ends,
        **extra,
    )
    if recompute:
        services.healthcode_recompute_many(resident_ids=[resident.pk], cause="test", now=starts)
    return flag


def lab_token(name: str = "测试检测机构"):
    from nucleic.models import Lab, LabToken

    lab, _ = Lab.objects.get_or_create(name=name, defaults={"region_code": "330106"})
    return LabToken.issue(lab=lab)


def post_result(
    *,
    id_number: str,
    name: str,
    sampled,
    reported=None,
    result="negative",
    barcode=None,
    token=None,
):
    """A lab result through the ingest service (as the API lands it); must not be rejected."""
    from nucleic import services as nucleic_services

    token = token or lab_token()[0]
    _batch, outcome = nucleic_services.results_ingest(
        token=token,
        content_type="test",
        now=reported or sampled,
        records=[
            {
                "barcode": barcode or f"T{next(_seq):06d}",
                "id_number": id_number,
                "name": name,
                "sampled_at": sampled.isoformat(),
                "reported_at": reported.isoformat() if reported else "",
                "result": result,
            }
        ],
    )
    assert outcome.rejected == 0, outcome.errors
    # Tests run inside a transaction that never commits, so the recompute the service
    # enqueues after commit never runs: it is done here, by hand. The path this skips
    # (the ingest API, the task enqueued on commit, a real worker storing the colour) is
    # tested in tests/test_celery_worker.py (a positive posted by a lab) and
    # tests/test_worker_failures.py.
    services.healthcode_recompute_many(
        resident_ids=services.residents_with_identities({("resident_id", id_number)}),
        cause="test result",
        now=reported or sampled,
    )
    return outcome


def credit_code(*, region: str = "330106", seq: int | None = None) -> str:
    """A valid 统一社会信用代码 (company, 91…) with a fresh organisation code."""
    from venues import creditcode

    first17 = f"91{region}{(seq if seq is not None else next(_seq)):08d}A"
    return first17 + creditcode.check_char(first17)


def make_officer(*, region_codes=("330106",), phone: str | None = None):
    """A health officer (卫健疾控) responsible for these regions, with a log-in."""
    from healthcode.models import HealthOfficer, User

    user = User.objects.create_user(phone=phone or f"136{next(_seq):08d}", password=PASSWORD)
    return HealthOfficer.objects.create(user=user, region_codes=list(region_codes))


def make_venue(*, administrator=None, status: str = "approved", **overrides):
    """A declared venue, approved by an officer of its district unless ``status`` says
    "pending" (as declared) or "rejected"."""
    from healthcode.models import User
    from venues import services as venue_services

    if administrator is None:
        administrator = User.objects.create_user(phone=f"137{next(_seq):08d}", password=PASSWORD)
    data = {
        "full_name": "西湖区文三路联华超市",
        "region_code": "330106",
        "address": "文三路 100 号",
        "category": "supermarket",
        "entry_rule": "policy",
    }
    data.update(overrides)
    data.setdefault("credit_code", credit_code(region=data["region_code"]))
    venue = venue_services.venue_register(administrator=administrator, **data)
    if status == "approved":
        officer = make_officer(region_codes=[data["region_code"]])
        venue = venue_services.venue_approve(venue=venue, officer=officer)
    elif status == "rejected":
        officer = make_officer(region_codes=[data["region_code"]])
        venue = venue_services.venue_reject(venue=venue, officer=officer, reason="名称与执照不符")
    return venue


def lookups(**filters):
    """The audit trail's reads of people (what ``PersonLookup`` rows were), filtered."""
    from audit.models import AuditEvent, AuditKind

    return AuditEvent.objects.filter(kind=AuditKind.READ, **filters)


def last_event_pk() -> int:
    """The newest audit event's key (0 if none): what a test saw before acting, since the
    trail cannot be cleared (PostgreSQL refuses DELETE of young rows)."""
    from audit.models import AuditEvent

    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def site_key(name: str = "测试接种点"):
    """A vaccination site (created once per name) and a new key of it: (SiteKey, key)."""
    from vaccination.models import Site, SiteKey

    site, _ = Site.objects.get_or_create(name=name, defaults={"region_code": "330106"})
    return SiteKey.issue(site=site)


def give_doses(resident, dates, *, product="新冠病毒灭活疫苗（Vero细胞）", key=None):
    """Doses 1, 2, … on these dates (ISO strings) for ``resident``, through the ingest
    service as the API lands them; none may be rejected."""
    from vaccination import services as vaccination_services

    key = key or site_key()[0]
    _batch, outcome = vaccination_services.doses_ingest(
        key=key,
        content_type="test",
        records=[
            {
                "record_id": f"V{next(_seq):06d}",
                "id_type": resident.id_type,
                "id_number": resident.id_number,
                "name": resident.name,
                "product": product,
                "dose_number": number,
                "vaccinated_on": day,
            }
            for number, day in enumerate(dates, start=1)
        ],
    )
    assert outcome.rejected == 0, outcome.errors
    return outcome


def tampered_token(token: str, position: int = 10) -> str:
    """A phone token with one character of its public id changed (what the server's HMAC
    covers; the Ed25519 signature at its end is for doors without network)."""
    return token[:position] + ("B" if token[position] == "A" else "A") + token[position + 1 :]
