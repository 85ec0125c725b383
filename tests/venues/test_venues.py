import io

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from PIL import Image

from checkins.models import CheckIn
from healthcode.errors import DomainError
from healthcode.models import User
from tests.factories import PASSWORD, make_venue
from tests.qr import decode_qr
from venues import codes, services
from venues.models import DECLARATION_ALPHABET, Venue, VenueInspector

pytestmark = pytest.mark.django_db


def user(phone):
    return User.objects.create_user(phone=phone, password=PASSWORD)


def test_one_administrator_has_one_venue():
    admin = user("13500000001")
    make_venue(administrator=admin)
    with pytest.raises(DomainError) as exc:
        make_venue(administrator=admin, full_name="第二家店")
    assert "只能管理一个场所" in exc.value.message
    with pytest.raises(IntegrityError), transaction.atomic():  # the database says so too
        Venue.objects.create(
            administrator=admin,
            full_name="x",
            region_code="330106",
            address="x",
            category="other",
            default_stay_minutes=60,
        )
    assert Venue.objects.count() == 1


def test_a_venue_has_exactly_one_administrator():
    venue = make_venue()
    other = make_venue()
    other.administrator = venue.administrator  # a second venue for the same person
    with pytest.raises(IntegrityError), transaction.atomic():
        other.save()


def test_declaration_codes_are_unguessable_and_without_look_alikes():
    venue = make_venue()
    code = venue.declaration_code
    assert len(code) == 10 and set(code) <= set(DECLARATION_ALPHABET)
    assert not set(code) & set("01OIL")
    assert make_venue().declaration_code != code


def test_inspectors_bind_with_the_code_and_a_stale_code_binds_nobody():
    venue = make_venue()
    inspector = user("13500000002")
    services.inspector_bind(user=inspector, declaration_code=venue.declaration_code.lower())
    old = venue.declaration_code
    services.declaration_code_regenerate(venue=venue)
    latecomer = user("13500000003")
    with pytest.raises(DomainError) as exc:
        services.inspector_bind(user=latecomer, declaration_code=old)
    assert exc.value.field == "declaration_code"
    assert list(VenueInspector.objects.values_list("user__phone", flat=True)) == ["13500000002"]


def test_one_inspector_many_venues_and_the_administrator_too():
    first, second = make_venue(), make_venue()
    inspector = user("13500000004")
    for venue in (first, second):
        services.inspector_bind(user=inspector, declaration_code=venue.declaration_code)
    services.inspector_bind(user=inspector, declaration_code=first.declaration_code)  # again
    services.inspector_bind(user=first.administrator, declaration_code=first.declaration_code)
    assert VenueInspector.objects.filter(user=inspector).count() == 2
    assert VenueInspector.objects.filter(venue=first).count() == 2


def test_the_administrator_removes_an_inspector(client):
    venue = make_venue()
    inspector = services.inspector_bind(
        user=user("13500000005"), declaration_code=venue.declaration_code
    )
    intruder = make_venue()
    client.force_login(intruder.administrator)  # another venue's administrator: not theirs
    assert client.post(reverse("venues:remove-inspector", args=[inspector.pk])).status_code == 404
    assert VenueInspector.objects.filter(pk=inspector.pk).exists()
    client.force_login(venue.administrator)
    assert client.post(reverse("venues:remove-inspector", args=[inspector.pk])).status_code == 302
    assert not VenueInspector.objects.filter(pk=inspector.pk).exists()


def test_bind_page(client):
    venue = make_venue()
    client.force_login(user("13500000006"))
    bad = client.post(reverse("venues:bind"), {"declaration_code": "ABCDEFGHJK"})
    assert "申报码无效" in bad.content.decode()
    good = client.post(
        reverse("venues:bind"), {"declaration_code": venue.declaration_code}, follow=True
    )
    assert venue.full_name in good.content.decode()


def test_venue_page_declares_a_venue_with_field_errors_in_chinese(client):
    admin = user("13500000007")
    client.force_login(admin)
    page = client.post(
        reverse("venues:home"),
        {"full_name": "", "region_code": "99", "address": "", "category": "shop"},
    )
    body = page.content.decode()
    assert "请填写场所全称" in body and "6位数字" in body and "请填写详细地址" in body
    assert "请填写统一社会信用代码" in body
    good = {
        "full_name": "文三路 小学",
        "region_code": "330106",
        "address": "文三路 1 号",
        "category": "school",
        "entry_rule": "48",
    }
    for code, message in [
        ("91350100M000100Y44", "校验位不正确"),
        ("91350100M00010", "应为18位"),
        ("91350100M000100O43", "含有无效字符"),
    ]:
        page = client.post(reverse("venues:home"), {**good, "credit_code": code})
        assert message in page.content.decode()
    assert not Venue.objects.exists()
    client.post(reverse("venues:home"), {**good, "credit_code": "91350100m000100y43"})
    venue = Venue.objects.get()
    assert (venue.administrator, venue.required_test_hours, venue.default_stay_minutes) == (
        admin,
        48,
        480,
    )
    assert (venue.status, venue.credit_code) == ("pending", "91350100M000100Y43")
    page = client.get(reverse("venues:home")).content.decode()
    assert "待审核" in page and venue.declaration_code not in page  # not before approval
    venue.status = "approved"
    venue.save()
    assert venue.declaration_code in client.get(reverse("venues:home")).content.decode()


def test_the_png_poster_decodes_to_the_scan_page(client, resident):
    venue = make_venue()
    client.force_login(venue.administrator)
    response = client.get(reverse("venues:poster", args=["png"]))
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (2480, 3508) and round(image.info["dpi"][0]) == 300
    url = decode_qr(response.content)
    assert url.startswith("http://testserver/v/V1.")
    client.force_login(resident.user)
    page = client.get(url.removeprefix("http://testserver"))
    assert page.status_code == 200 and venue.full_name in page.content.decode()
    assert not CheckIn.objects.exists()  # a GET never records


def test_revoked_and_tampered_posters_are_refused_and_record_nothing(client, resident):
    venue = make_venue()
    old = codes.make(public_id=venue.public_id, version=venue.poster_version)
    services.poster_reissue(venue=venue)
    client.force_login(resident.user)
    for method in (client.get, client.post):
        revoked = method(reverse("checkins:scan", args=[old]))
        assert revoked.status_code == 404 and "此场所码已作废" in revoked.content.decode()
    new = codes.make(public_id=venue.public_id, version=2)
    tampered = new[:-3] + ("AAA" if not new.endswith("AAA") else "BBB")
    forged_version = codes.make(public_id=venue.public_id, version=2).replace(".2:", ".3:")
    for code in (tampered, forged_version, "hello"):
        response = client.post(reverse("checkins:scan", args=[code]))
        assert response.status_code == 404 and "无效场所码" in response.content.decode()
    assert not CheckIn.objects.exists()
