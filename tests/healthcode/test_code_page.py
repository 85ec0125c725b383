import datetime as dt
import io
import re

import pytest
import time_machine
import zxingcpp
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from healthcode.selectors import resident_from_token
from healthcode.tokens import TokenInvalid, TokenProblem
from tests.factories import add_flag

pytestmark = pytest.mark.django_db


def decode_qr(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    qr = [r for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(qr) == 1, results
    return qr[0].text


def test_page_shows_masked_identity_colour_reason_and_test_line(client, resident):
    client.force_login(resident.user)
    response = client.get(reverse("healthcode:code"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "colour-green" in body and "绿码" in body and "未见异常" in body
    assert "暂无核酸检测记录" in body
    assert resident.masked_name in body and resident.masked_id_number in body
    assert resident.name not in body and resident.id_number not in body
    assert resident.user.phone not in body
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_page_follows_the_stored_status(client, resident):
    add_flag(resident, "close_contact")
    client.force_login(resident.user)
    body = client.get(reverse("healthcode:code")).content.decode()
    assert "colour-red" in body and "红码" in body and "隔离医学观察的密切接触者" in body
    assert "卫健部门风险人员名单" in body and "赋码原因" in body


def test_the_qr_on_the_page_decodes_back_to_the_same_resident(client, resident):
    client.force_login(resident.user)
    body = client.get(reverse("healthcode:code")).content.decode()
    src = re.search(r'<img id="qr"[^>]*src="([^"]+)"', body).group(1)
    response = client.get(src)
    assert response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    token = decode_qr(response.content)
    assert resident.id_number not in token and resident.name not in token
    assert resident_from_token(token=token, now=timezone.now()) == resident


def test_a_screenshot_of_the_qr_stops_working_after_five_minutes(client, resident):
    client.force_login(resident.user)
    start = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        token = decode_qr(client.get(reverse("healthcode:code-qr")).content)
    with time_machine.travel(start + dt.timedelta(seconds=299), tick=False):
        assert resident_from_token(token=token, now=timezone.now()) == resident
    with time_machine.travel(start + dt.timedelta(seconds=300), tick=False):
        with pytest.raises(TokenInvalid) as exc:
            resident_from_token(token=token, now=timezone.now())
        assert exc.value.problem is TokenProblem.EXPIRED


def test_each_fetch_issues_a_fresh_token(client, resident):
    client.force_login(resident.user)
    start = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        first = decode_qr(client.get(reverse("healthcode:code-qr")).content)
    with time_machine.travel(start + dt.timedelta(seconds=60), tick=False):
        second = decode_qr(client.get(reverse("healthcode:code-qr")).content)
    assert first != second


def test_anonymous_visitors_are_sent_to_log_in(client):
    for name in ("healthcode:code", "healthcode:code-qr"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_a_staff_account_without_a_resident_gets_404(client, staff_user):
    client.force_login(staff_user)
    assert client.get(reverse("healthcode:code")).status_code == 404
    assert client.get(reverse("healthcode:code-qr")).status_code == 404


def test_code_page_query_count(client, resident, django_assert_num_queries):
    client.force_login(resident.user)
    # (the session comes from the cache: healthcode.sessions)
    # 1 user, 2 health code joined with its resident and account,
    # 3 the holder's bound family members for the switcher (proxy_scan, one join),
    # 4 the account's roles for the navigation (one query, reverse relations),
    # 5 the holder's appeals, for the line under each reason (appeals' template tag)
    # 6 the holder's doses for the vaccination line (dose_identity index; vaccination's
    #   template tag: healthcode may not import vaccination, so it cannot be joined in 2)
    with django_assert_num_queries(6):
        client.get(reverse("healthcode:code"))
