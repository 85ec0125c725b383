"""Submitting an appeal: one reason on my code now, a text of at most 500 characters, one open
appeal per reason (a constraint too), and a photo that must be a real JPEG, PNG or WebP of at
most APPEAL_PHOTO_MAX_BYTES — every refusal a clear Chinese message on its field that leaves
no row and no file behind."""

import io

import pytest
from django.db import IntegrityError, transaction
from PIL import Image

from appeals import photos
from appeals.models import Appeal
from appeals.services import appeal_reject, appeal_submit
from healthcode.errors import DomainError
from tests.appeals.conftest import image_bytes, reason_fact, stored_files, upload
from tests.factories import make_resident

pytestmark = pytest.mark.django_db


def refused(**kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        appeal_submit(**kwargs)
    return caught.value


def test_a_text_of_500_characters_is_taken_and_501_refused(yellow, settings):
    fact = reason_fact(yellow)
    error = refused(resident=yellow, fact=fact, text="错" * 501, photo=upload(image_bytes()))
    assert (error.field, error.message) == ("text", "申诉理由最多 500 个字（现在 501 个）。")
    error = refused(resident=yellow, fact=fact, text="  \n ")
    assert (error.field, error.message) == ("text", "请填写申诉理由。")
    assert not Appeal.objects.exists() and stored_files(settings) == []

    appeal = appeal_submit(resident=yellow, fact=fact, text="错" * 500)
    assert len(appeal.text) == 500 and appeal.reason_text == "14天内有发热门诊就诊记录"


def test_one_open_appeal_per_reason_and_another_after_its_answer(yellow, officer, settings):
    fact = reason_fact(yellow)
    first = appeal_submit(resident=yellow, fact=fact, text="第一次申诉")
    error = refused(resident=yellow, fact=fact, text="第二次", photo=upload(image_bytes()))
    assert (error.field, error.status, error.code) == ("fact", 409, "duplicate")
    assert error.message == "这条原因已有一份处理中的申诉，请等待答复后再提交。"
    assert Appeal.objects.count() == 1 and stored_files(settings) == []
    # The database says so too, whatever a racing second request did.
    with pytest.raises(IntegrityError), transaction.atomic():
        Appeal.objects.create(
            resident=yellow, fact=fact, kind="flag", flag=first.flag, reason_code="x",
            reason_text="x", text="绕过服务",
        )  # fmt: skip

    appeal_reject(appeal=first, by=officer, answer="属实")
    assert appeal_submit(resident=yellow, fact=fact, text="补充了证明").is_open


def test_only_a_reason_on_my_code_now_can_be_appealed(yellow):
    other = make_resident(name="孙丽", phone="13912340009")
    for fact in ("", "未见异常", reason_fact(yellow).replace(":", ":9"), "sample:1"):
        error = refused(resident=other if fact == "" else yellow, fact=fact, text="申诉")
        assert (error.field, error.code) == ("fact", "no_such_reason")
    # Another person's reason is not mine: the engine named it for them, not for me.
    error = refused(resident=other, fact=reason_fact(yellow), text="申诉")
    assert error.code == "no_such_reason"
    assert not Appeal.objects.exists()


@pytest.mark.parametrize(
    ("fmt", "content_type", "stored_as"),
    [("JPEG", "image/jpeg", "jpeg"), ("PNG", "image/png", "png"), ("WEBP", "image/webp", "webp")],
)
def test_a_photo_is_verified_re_encoded_and_kept_under_a_random_name(
    yellow, settings, fmt, content_type, stored_as
):
    appeal = appeal_submit(
        resident=yellow,
        fact=reason_fact(yellow),
        text="见照片",
        photo=upload(image_bytes(fmt), name="../../病历.exe", content_type="text/plain"),
    )
    (path,) = stored_files(settings)
    assert appeal.photo == path.name and appeal.photo_format == stored_as
    assert len(path.stem) == 32 and path.suffix == {"jpeg": ".jpg"}.get(stored_as, f".{stored_as}")
    assert path.parent == settings.PRIVATE_UPLOAD_ROOT / "appeals"
    with Image.open(path) as kept:
        assert kept.format == fmt and kept.size == (48, 32)


def test_the_photos_metadata_is_not_kept(yellow, settings):
    exif = Image.Exif()
    exif[0x010F] = "Phone maker"  # Make
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 0.0)}  # GPS: where it was taken
    data = image_bytes("JPEG", exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).getexif()
    appeal_submit(resident=yellow, fact=reason_fact(yellow), text="见照片", photo=upload(data))
    (path,) = stored_files(settings)
    with Image.open(path) as kept:
        assert not kept.getexif()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"just text, named as a photo\n" * 40, "photo.jpg", "请上传 JPG、PNG 或 WebP 格式的图片"),
        (image_bytes("GIF"), "photo.gif", "请上传 JPG、PNG 或 WebP 格式的图片"),
        (image_bytes("BMP"), "photo.png", "请上传 JPG、PNG 或 WebP 格式的图片"),
        (image_bytes("PNG")[:60], "photo.png", "照片已损坏"),
        (b"", "photo.png", "照片文件是空的"),
    ],
    ids=["renamed-text", "gif", "bmp-named-png", "truncated-png", "empty"],
)
def test_what_is_not_a_jpeg_png_or_webp_is_refused_and_nothing_written(
    yellow, settings, data, name, message
):
    error = refused(
        resident=yellow,
        fact=reason_fact(yellow),
        text="见照片",
        photo=upload(data, name=name, content_type="image/jpeg"),
    )
    assert error.field == "photo" and message in error.message
    assert not Appeal.objects.exists() and stored_files(settings) == []


def test_a_photo_over_the_limit_is_refused_at_the_limit_taken(yellow, settings):
    data = image_bytes("PNG", size=(300, 200))
    settings.APPEAL_PHOTO_MAX_BYTES = len(data) - 1
    error = refused(
        resident=yellow, fact=reason_fact(yellow), text="见照片", photo=upload(data)
    )  # fmt: skip
    assert error.field == "photo"
    assert error.message.startswith("照片不能超过") and "MB" in error.message
    assert not Appeal.objects.exists() and stored_files(settings) == []

    settings.APPEAL_PHOTO_MAX_BYTES = len(data)
    appeal_submit(resident=yellow, fact=reason_fact(yellow), text="见照片", photo=upload(data))
    assert len(stored_files(settings)) == 1


def test_the_default_limit_is_5_mb_and_says_so():
    from django.conf import settings

    assert settings.APPEAL_PHOTO_MAX_BYTES == 5 * 1024 * 1024
    big = upload(b"\0" * (5 * 1024 * 1024 + 1))
    with pytest.raises(DomainError) as caught:
        photos.photo_clean(big)
    assert caught.value.message == "照片不能超过 5 MB，请压缩或重新拍摄后上传。"


def test_a_stored_name_is_the_only_way_to_a_file(settings):
    for name in ("../settings.py", "/etc/passwd", "a" * 32 + ".txt", "A" * 32 + ".png", ""):
        assert photos.photo_path(name) is None


def test_the_private_root_is_outside_the_web_root():
    from django.conf import settings

    root = settings.PRIVATE_UPLOAD_ROOT.resolve()
    for public in (settings.STATIC_ROOT, *settings.STATICFILES_DIRS):
        assert not root.is_relative_to(public.resolve())
    assert not getattr(settings, "MEDIA_ROOT", "") or not root.is_relative_to(settings.MEDIA_ROOT)
