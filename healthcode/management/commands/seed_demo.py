"""Demo data with known log-ins. Safe to run twice: existing people are left as they are."""

from django.core.management.base import BaseCommand
from django.db import transaction

from healthcode import services
from healthcode.idnumbers import IdType, resident_id_check_char
from healthcode.models import Colour, HealthCode, Resident, User

DEMO_PASSWORD = "demo-pass-2026"


def _resident_id(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


DEMO_RESIDENTS = [
    # phone, name, 17 digits of a resident ID (check digit computed), region, colour
    ("13800000001", "张三", "11010519800101001", "110105", None),
    ("13800000002", "李小红", "33010619920315002", "330106", None),
    ("13800000003", "王五", "44030419751230003", "440304", Colour.YELLOW),
    ("13800000004", "赵六", "37010219881111004", "370102", Colour.RED),
]
DEMO_STATUS = {
    Colour.YELLOW: [{"code": "fever_clinic", "text": "14天内有发热门诊就诊记录"}],
    Colour.RED: [{"code": "close_contact", "text": "密切接触者"}],
}
STAFF_PHONE = "13900000000"


class Command(BaseCommand):
    help = "Create demo residents and a staff account with known log-ins (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        rows = []
        for phone, name, first17, region, colour in DEMO_RESIDENTS:
            resident = Resident.objects.filter(user__phone=phone).first()
            if resident is None:
                resident = services.resident_register(
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
                if colour:
                    services.healthcode_set_status(
                        resident_id=resident.pk,
                        colour=colour,
                        reasons=DEMO_STATUS[colour],
                        cause="demo data",
                    )
            code = HealthCode.objects.get(resident_id=resident.pk)
            rows.append((phone, name, code.get_colour_display()))
        if not User.objects.filter(phone=STAFF_PHONE).exists():
            User.objects.create_superuser(phone=STAFF_PHONE, password=DEMO_PASSWORD)
        self.stdout.write(f"Demo log-ins (password for all: {DEMO_PASSWORD})")
        for phone, name, colour in rows:
            self.stdout.write(f"  resident  {phone}  {name}  {colour}")
        self.stdout.write(f"  staff     {STAFF_PHONE}  (admin: /admin/, API verify)")
