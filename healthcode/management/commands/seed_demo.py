"""Demo data with known log-ins. Safe to run twice: what exists is left as it is."""

import datetime as dt

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.utils import timezone

from audit.models import AuditEvent, AuditKind
from audit.services import audit_lookup
from checkins.models import CheckIn, Device, GridWorker, Method
from checkins.services import checkin_record
from healthcode import services
from healthcode.apikeys import hash_key
from healthcode.idnumbers import IdType, resident_id_check_char
from healthcode.models import HealthCode, HealthOfficer, Resident, RiskFlag, User
from nucleic import services as nucleic_services
from nucleic.models import Lab, LabToken, TestPolicy
from proxy_scan import services as proxy_services
from proxy_scan.selectors import family_members_of
from vaccination import services as vaccination_services
from vaccination.models import Site, SiteKey
from venues import codes
from venues import services as venue_services
from venues.models import Venue, VenueStatus

DEMO_PASSWORD = "demo-pass-2026"
DEMO_LAB_KEY = "lab_demo_key_for_local_use_only"
STAFF_PHONE = "13900000000"
VENUE_ADMIN_PHONE = "13900000002"
INSPECTOR_PHONE = "13900000003"
GRID_WORKER_PHONE = "13900000004"
DEMO_DEVICE_KEY = "dev_demo_key_for_local_use_only"
DEMO_VACCINATION_KEY = "vax_demo_key_for_local_use_only"
VACCINATION_VENUE_ADMIN_PHONE = "13900000006"
OFFICER_PHONE = "13900000001"
SECOND_OFFICER_PHONE = "13900000005"  # approves the first officer's large traces
DEMO_VENUE_REGION = "330106"  # 杭州市西湖区
DEMO_VENUE_CREDIT_CODE = "91330106MA28XY0A1T"  # made up; its GB 32100 check character is right
DEMO_VACCINATION_VENUE_CREDIT_CODE = "91330106MA28XY0B2Y"  # made up likewise
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _resident_id(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


# phone, name, first 17 digits of a resident ID (the check digit is computed), region
DEMO_RESIDENTS = [
    ("13800000001", "张三", "11010519800101001", "110105"),
    ("13800000002", "李小红", "33010619920315002", "330106"),
    ("13800000003", "王五", "44030419751230003", "440304"),
    ("13800000004", "赵六", "37010219881111004", "370102"),
    ("13800000005", "陈立", "33010619850620005", "330106"),  # holds an elder and a child
]
FAMILY_HOLDER_PHONE = "13800000005"
# Yellow (a flag) in the officers' district, with one open appeal against it.
APPEAL_RESIDENT = ("13800000006", "周敏", "33010619900721008", "330106")
# Bound to the holder under 代办, without a log-in: name, first 17 digits, relationship.
DEMO_FAMILY = [
    ("陈桂英", "33010619500312006", "parent"),
    ("陈小宝", "33010620160808007", "child"),
]
# Doses (四码一屏): name → (product, dates of doses 1, 2, …); 赵六 has none.
INACTIVATED = "新冠病毒灭活疫苗（Vero细胞）"
DEMO_DOSES = {
    "张三": (INACTIVATED, ["2021-04-01", "2021-05-06", "2022-01-10"]),
    "李小红": (INACTIVATED, ["2021-06-02", "2021-07-01"]),
    "王五": ("重组新冠病毒疫苗（5型腺病毒载体）", ["2021-09-15"]),
    "陈立": (INACTIVATED, ["2021-05-20", "2021-06-18", "2021-12-20"]),
    "陈桂英": (INACTIVATED, ["2021-08-03", "2021-09-01"]),
}
# Hangzhou's switch (seed 000): 48 h for everyone, 72 h from 2022-05-27 00:00.
DEMO_POLICIES = [
    (48, dt.datetime(2020, 1, 1, tzinfo=SHANGHAI), "常态化核酸检测 48 小时"),
    (72, dt.datetime(2022, 5, 27, tzinfo=SHANGHAI), "杭州：自 5 月 27 日零时起 72 小时"),
]
OFFICER_PERMISSIONS = [
    "healthcode.add_riskflag",
    "healthcode.change_riskflag",
    "healthcode.view_riskflag",
    "healthcode.add_riskarea",
    "healthcode.change_riskarea",
    "healthcode.view_riskarea",
    "nucleic.add_testpolicy",
    "nucleic.view_testpolicy",
]


class Command(BaseCommand):
    help = "Create demo residents, policies, a lab, results, doses and risk flags (idempotent)."

    def handle(self, *args, **options):
        # Not one transaction: each service commits and its recomputes run after the commit.
        now = timezone.now()
        for hours, effective, note in DEMO_POLICIES:
            TestPolicy.objects.get_or_create(
                group="general",
                effective_from=effective,
                defaults={"window_hours": hours, "note": note},
            )
        for phone, name, first17, region in DEMO_RESIDENTS:
            if not Resident.objects.filter(user__phone=phone).exists():
                services.resident_register(
                    name=name,
                    id_type=IdType.RESIDENT_ID,
                    id_number=_resident_id(first17),
                    phone=phone,
                    password=DEMO_PASSWORD,
                    nationality="中国",
                    region_code=region,
                    address="演示地址 1 号",
                    committed=True,
                )
        self._family()
        self._officer()
        token = self._lab()
        ids = {name: _resident_id(first17) for _p, name, first17, _r in DEMO_RESIDENTS}
        nucleic_services.results_ingest(
            token=token,
            content_type="seed",
            now=now,
            records=[
                {
                    "barcode": "DEMO-0001",
                    "id_number": ids["张三"],
                    "name": "张三",
                    "sampled_at": (now - dt.timedelta(hours=20)).isoformat(),
                    "reported_at": (now - dt.timedelta(hours=10)).isoformat(),
                    "result": "negative",
                },
                {
                    "barcode": "DEMO-0002",
                    "id_number": ids["李小红"],
                    "name": "李小红",
                    "sampled_at": (now - dt.timedelta(hours=2)).isoformat(),
                    "result": "pending",
                },
            ],
        ) if not token.lab.samples.exists() else None
        officer = User.objects.get(phone=OFFICER_PHONE)
        services.risk_flags_import(
            entered_by=officer,
            now=now,
            records=[
                {
                    "source": "演示数据",
                    "external_id": "fever-1",
                    "id_number": ids["王五"],
                    "name": "王五",
                    "kind": "fever_clinic",
                    "starts_at": now.isoformat(),
                    "reason": "演示：发热门诊就诊",
                },
                {
                    "source": "演示数据",
                    "external_id": "contact-1",
                    "id_number": ids["赵六"],
                    "name": "赵六",
                    "kind": "close_contact",
                    "starts_at": now.isoformat(),
                    "reason": "演示：密切接触者",
                },
            ],
        ) if not officer.riskflag_set.exists() else None
        if not User.objects.filter(phone=STAFF_PHONE).exists():
            User.objects.create_superuser(phone=STAFF_PHONE, password=DEMO_PASSWORD)
        self._doses(now=now)
        venue = self._venue()
        vaccinated_only = self._vaccination_venue()
        self._history(venue)
        self._visits(venue, now=now)
        self._appeal(now=now)
        self._print(venue, vaccinated_only)

    def _family(self) -> None:
        holder = Resident.objects.get(user__phone=FAMILY_HOLDER_PHONE)
        bound = {b.member.id_number for b in family_members_of(holder=holder)}
        for name, first17, relationship in DEMO_FAMILY:
            if _resident_id(first17) not in bound:
                proxy_services.family_member_bind(
                    holder=holder,
                    name=name,
                    id_type=IdType.RESIDENT_ID,
                    id_number=_resident_id(first17),
                    relationship=relationship,
                )

    def _officer(self) -> None:
        group, _ = Group.objects.get_or_create(name="卫健疾控")
        for perm in OFFICER_PERMISSIONS:
            app, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app, codename=codename)
            )
        officer = User.objects.filter(phone=OFFICER_PHONE).first()
        if officer is None:
            officer = User.objects.create_user(
                phone=OFFICER_PHONE, password=DEMO_PASSWORD, is_staff=True
            )
        officer.groups.add(group)
        # Approves the venues declared in the demo venue's district at /officer/venues/.
        HealthOfficer.objects.get_or_create(
            user=officer, defaults={"region_codes": [DEMO_VENUE_REGION]}
        )
        second = User.objects.filter(phone=SECOND_OFFICER_PHONE).first() or (
            User.objects.create_user(
                phone=SECOND_OFFICER_PHONE, password=DEMO_PASSWORD, is_staff=True
            )
        )
        second.groups.add(group)
        HealthOfficer.objects.get_or_create(
            user=second, defaults={"region_codes": [DEMO_VENUE_REGION]}
        )

    def _lab(self) -> LabToken:
        lab, _ = Lab.objects.get_or_create(name="演示检测机构", defaults={"region_code": "330106"})
        token, _ = LabToken.objects.get_or_create(
            key_hash=hash_key(DEMO_LAB_KEY),
            defaults={"lab": lab, "name": "演示", "prefix": DEMO_LAB_KEY[4:12]},
        )
        return token

    def _doses(self, *, now: dt.datetime) -> None:
        """A vaccination site, its key, and the doses of DEMO_DOSES sent as a site sends them."""
        site, _ = Site.objects.get_or_create(
            name="西湖区文新街道社区卫生服务中心接种点（演示）", defaults={"region_code": "330106"}
        )
        key, _ = SiteKey.objects.get_or_create(
            key_hash=hash_key(DEMO_VACCINATION_KEY),
            defaults={"site": site, "name": "演示", "prefix": DEMO_VACCINATION_KEY[4:12]},
        )
        if site.doses.exists():
            return
        people = {name: _resident_id(first17) for _p, name, first17, _r in DEMO_RESIDENTS}
        people |= {name: _resident_id(first17) for name, first17, _rel in DEMO_FAMILY}
        records = [
            {
                "record_id": f"DEMO-VAX-{people[name][-6:]}-{number}",
                "id_number": people[name],
                "name": name,
                "product": product,
                "dose_number": number,
                "vaccinated_on": day,
            }
            for name, (product, days) in DEMO_DOSES.items()
            for number, day in enumerate(days, start=1)
        ]
        vaccination_services.doses_ingest(key=key, records=records, content_type="seed", now=now)

    def _vaccination_venue(self) -> Venue:
        """A second venue, one that requires vaccination: 赵六 (no dose) is stopped there."""
        admin = User.objects.filter(phone=VACCINATION_VENUE_ADMIN_PHONE).first() or (
            User.objects.create_user(phone=VACCINATION_VENUE_ADMIN_PHONE, password=DEMO_PASSWORD)
        )
        venue = Venue.objects.filter(administrator=admin).first() or venue_services.venue_register(
            administrator=admin,
            full_name="西湖区文三路体育馆（演示，要求接种疫苗）",
            region_code=DEMO_VENUE_REGION,
            address="杭州市西湖区文三路 200 号",
            category="other",
            credit_code=DEMO_VACCINATION_VENUE_CREDIT_CODE,
            requires_vaccination=True,
        )
        if venue.status == VenueStatus.PENDING:
            officer = HealthOfficer.objects.get(user__phone=OFFICER_PHONE)
            venue = venue_services.venue_approve(venue=venue, officer=officer)
        inspector = User.objects.get(phone=INSPECTOR_PHONE)
        venue_services.inspector_bind(user=inspector, declaration_code=venue.declaration_code)
        return venue

    def _venue(self) -> Venue:
        admin = User.objects.filter(phone=VENUE_ADMIN_PHONE).first() or (
            User.objects.create_user(phone=VENUE_ADMIN_PHONE, password=DEMO_PASSWORD)
        )
        venue = Venue.objects.filter(administrator=admin).first() or venue_services.venue_register(
            administrator=admin,
            full_name="西湖区文三路联华超市（演示）",
            region_code=DEMO_VENUE_REGION,
            address="杭州市西湖区文三路 100 号",
            category="supermarket",
            credit_code=DEMO_VENUE_CREDIT_CODE,
        )
        if venue.status == VenueStatus.PENDING:
            officer = HealthOfficer.objects.get(user__phone=OFFICER_PHONE)
            venue = venue_services.venue_approve(venue=venue, officer=officer)
        inspector = User.objects.filter(phone=INSPECTOR_PHONE).first() or (
            User.objects.create_user(phone=INSPECTOR_PHONE, password=DEMO_PASSWORD)
        )
        venue_services.inspector_bind(user=inspector, declaration_code=venue.declaration_code)
        Device.objects.get_or_create(
            key_hash=hash_key(DEMO_DEVICE_KEY),
            defaults={"venue": venue, "name": "演示闸机", "prefix": DEMO_DEVICE_KEY[4:12]},
        )
        worker = User.objects.filter(phone=GRID_WORKER_PHONE).first() or (
            User.objects.create_user(phone=GRID_WORKER_PHONE, password=DEMO_PASSWORD)
        )
        GridWorker.objects.get_or_create(
            user=worker, defaults={"region_codes": ["440300", "370100"]}
        )
        return venue

    def _history(self, venue: Venue) -> None:
        """Something to show in 我的记录 (/me/record/): 张三 scanned at the door by the
        inspector, the holder's elder checked in by 帮扫 from the family list."""
        zhang = Resident.objects.get(user__phone=DEMO_RESIDENTS[0][0])
        if not AuditEvent.objects.filter(subject=zhang, kind=AuditKind.READ).exists():
            inspector = User.objects.get(phone=INSPECTOR_PHONE)
            audit_lookup(
                action="inspector_scan",
                actor=inspector,
                subject=zhang,
                venue_name=venue.full_name,
            )
            checkin_record(
                resident=zhang, venue=venue, method=Method.INSPECTOR_SCAN, scanned_by=inspector
            )
        holder = Resident.objects.select_related("user").get(user__phone=FAMILY_HOLDER_PHONE)
        elder = family_members_of(holder=holder).first()
        if elder is not None and not CheckIn.objects.filter(resident=elder.member).exists():
            proxy_services.proxy_checkin(
                helper=holder.user, venue=venue, way="family", binding_id=str(elder.public_id)
            )

    def _visits(self, venue: Venue, *, now: dt.datetime) -> None:
        """Two weeks of visits to the demo venue, to trace and to plot: each demo resident
        with a log-in comes most days, 张三 and 李小红 at the same hour (tracing 张三 finds
        李小红)."""
        if CheckIn.objects.filter(venue=venue).count() >= 20:
            return
        residents = list(
            Resident.objects.filter(user__phone__in=[p for p, *_r in DEMO_RESIDENTS]).order_by(
                "user__phone"
            )
        )
        today = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)
        visits = []
        for days_ago in range(14, 0, -1):
            for n, resident in enumerate(residents):
                if (days_ago + n) % 3 == 2:
                    continue  # not every day
                hour = 9 + (days_ago * 5 + n * 3) % 11 if n > 1 else 10 + days_ago % 8
                at = (
                    today
                    - dt.timedelta(days=days_ago)
                    + dt.timedelta(hours=hour - today.hour, minutes=7 * n)
                )
                visits.append((at, resident))
        for at, resident in sorted(visits, key=lambda visit: visit[0]):
            checkin_record(resident=resident, venue=venue, method=Method.SELF_SCAN, now=at)

    def _appeal(self, *, now: dt.datetime) -> None:
        """A yellow resident of the officers' district appeals her flag: /officer/appeals/
        has one open appeal to decide."""
        from appeals.models import Appeal
        from appeals.services import appeal_submit

        phone, name, first17, region = APPEAL_RESIDENT
        resident = Resident.objects.filter(user__phone=phone).first() or (
            services.resident_register(
                name=name,
                id_type=IdType.RESIDENT_ID,
                id_number=_resident_id(first17),
                phone=phone,
                password=DEMO_PASSWORD,
                nationality="中国",
                region_code=region,
                address="演示地址 2 号",
                committed=True,
            )
        )
        if Appeal.objects.filter(resident=resident).exists():
            return
        officer = User.objects.get(phone=OFFICER_PHONE)
        services.risk_flags_import(
            entered_by=officer,
            now=now,
            records=[
                {
                    "source": "演示数据",
                    "external_id": "symptoms-1",
                    "id_number": resident.id_number,
                    "name": name,
                    "kind": "symptoms",
                    "starts_at": (now - dt.timedelta(hours=3)).isoformat(),
                    "reason": "演示：社区上报发热症状",
                }
            ],
        )
        flag = RiskFlag.objects.get(source="演示数据", external_id="symptoms-1")
        appeal_submit(
            resident=resident,
            fact=f"flag:{flag.pk}",
            text="我没有发热症状，社区上报的是同名的邻居，请核实。",
            now=now,
        )

    def _print(self, venue: Venue, vaccinated_only: Venue) -> None:
        self.stdout.write(f"Demo log-ins (password for all: {DEMO_PASSWORD})")
        for phone, name, first17, _region in DEMO_RESIDENTS:
            code = HealthCode.objects.get(resident__user__phone=phone)
            self.stdout.write(
                f"  resident  {phone}  {name}  {_resident_id(first17)}  "
                f"{code.get_colour_display()}  {code.test_line}"
            )
        holder = Resident.objects.get(user__phone=FAMILY_HOLDER_PHONE)
        for binding in family_members_of(holder=holder):
            member, code = binding.member, binding.member.health_code
            self.stdout.write(
                f"    member of {FAMILY_HOLDER_PHONE} (no log-in): {member.name} "
                f"{binding.get_relationship_display()} {member.id_number}  "
                f"{code.get_colour_display()}  /family/ and /code/?member={binding.public_id}"
            )
        self.stdout.write(
            f"  officer   {OFFICER_PHONE}  workbench and tracing: /officer/ (register 李小红 as a "
            "case, trace, apply); venue approvals for "
            f"{DEMO_VENUE_REGION}: /officer/venues/; risk-flag import: /officer/risk-flags/"
        )
        self.stdout.write(
            f"  officer   {SECOND_OFFICER_PHONE}  second officer: approves large traces, /officer/"
        )
        self.stdout.write(f"  staff     {STAFF_PHONE}  (superuser: /admin/, API verify)")
        self.stdout.write(
            f"  venue     {VENUE_ADMIN_PHONE}  administrator of {venue.full_name}: /venue/"
        )
        self.stdout.write(f"  inspector {INSPECTOR_PHONE}  reverse scan: /inspect/")
        self.stdout.write(
            "  record    /me/record/ (any resident): colour changes, who looked, check-ins"
        )
        self.stdout.write(
            f"  appeal    {APPEAL_RESIDENT[0]}  {APPEAL_RESIDENT[1]} (yellow) appealed her flag: "
            "/me/appeals/; officers decide it at /officer/appeals/"
        )
        self.stdout.write(f"  grid      {GRID_WORKER_PHONE}  alerts for 440300, 370100: /alerts/")
        code = codes.make(public_id=venue.public_id, version=venue.poster_version)
        self.stdout.write(f"  venue code (scan as a resident): http://127.0.0.1:8000/v/{code}")
        code = codes.make(
            public_id=vaccinated_only.public_id, version=vaccinated_only.poster_version
        )
        self.stdout.write(
            f"  venue     {VACCINATION_VENUE_ADMIN_PHONE}  administrator of "
            f"{vaccinated_only.full_name} (requires vaccination; 赵六 has no dose): "
            f"http://127.0.0.1:8000/v/{code}"
        )
        self.stdout.write(f"  lab API   Authorization: Bearer {DEMO_LAB_KEY}")
        self.stdout.write(
            f"  vaccination API (POST /api/v1/vaccination/doses)  "
            f"Authorization: Bearer {DEMO_VACCINATION_KEY}"
        )
        self.stdout.write(f"  device    Authorization: Bearer {DEMO_DEVICE_KEY}")
