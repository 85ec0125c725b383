import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from healthcode.models import HealthCode
from tests.factories import add_flag, make_officer, make_resident


def image_bytes(fmt: str = "PNG", size=(48, 32), exif: bytes | None = None) -> bytes:
    out = io.BytesIO()
    options = {"exif": exif} if exif else {}
    Image.new("RGB", size, (200, 40, 40)).save(out, format=fmt, **options)
    return out.getvalue()


def upload(data: bytes, name: str = "photo.png", content_type: str = "image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_files(settings) -> list:
    root = settings.PRIVATE_UPLOAD_ROOT / "appeals"
    return sorted(root.iterdir()) if root.exists() else []


def colour(resident) -> str:
    return HealthCode.objects.get(resident=resident).colour


def reason_fact(resident) -> str:
    (fact,) = [r["fact"] for r in HealthCode.objects.get(resident=resident).reasons if r["fact"]]
    return fact


@pytest.fixture
def yellow(db):
    """A resident of 110105, yellow by a fever-clinic flag an hour old."""
    from django.utils import timezone

    person = make_resident(name="李晓明", phone="13912340001")
    add_flag(person, "fever_clinic", starts=timezone.now() - dt.timedelta(hours=1))
    assert colour(person) == "yellow"
    return person


@pytest.fixture
def officer(db):
    return make_officer(phone="13611120001", region_codes=("110105",)).user


@pytest.fixture
def other_officer(db):
    return make_officer(phone="13611120002", region_codes=("110100",)).user  # covers 110105


@pytest.fixture
def far_officer(db):
    return make_officer(phone="13611120003", region_codes=("330106",)).user
