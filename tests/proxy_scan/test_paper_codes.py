"""Paper health codes: printed as an embedded-font A5 PDF, scanned for the live status,
refused (recording nothing) once expired or revoked, valid at many venues."""

import datetime as dt
import io
import re
import subprocess
import uuid
from types import SimpleNamespace

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from checkins.models import CheckIn, Device
from healthcode import tokens
from healthcode.models import HealthCode, User
from proxy_scan import services
from proxy_scan.models import PaperCodeSeries
from tests.factories import (
    PASSWORD,
    add_flag,
    last_event_pk,
    lookups,
    make_resident,
    make_venue,
    post_result,
)
from tests.qr import decode_qr, pdf_page_png
from venues import services as venue_services

pytestmark = pytest.mark.django_db


def inspector_at(venue, phone: str) -> APIClient:
    user = User.objects.create_user(phone=phone, password=PASSWORD)
    venue_services.inspector_bind(user=user, declaration_code=venue.declaration_code)
    api = APIClient()
    api.force_authenticate(user)
    api.user, api.venue = user, venue
    return api


@pytest.fixture
def inspector(db):
    return inspector_at(make_venue(), "13522220000")


def verify(api, code: str):
    return api.post(
        reverse("api-inspect-verify"), {"venue": api.venue.pk, "code": code}, format="json"
    )


def confirm(api, code: str):
    return api.post(
        reverse("api-inspect-confirm"),
        {"venue": api.venue.pk, "code": code, "temperature_band": "normal"},
        format="json",
    )


def with_test(resident):
    now = timezone.now()
    post_result(
        id_number=resident.id_number,
        name=resident.name,
        sampled=now - dt.timedelta(hours=5),
        reported=now - dt.timedelta(hours=1),
    )


def print_pdf(client, resident) -> bytes:
    client.force_login(resident.user)
    response = client.get(reverse("proxy_scan:paper-pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return response.content


def pdf_file(tmp_path, pdf: bytes) -> str:
    path = tmp_path / "paper.pdf"
    path.write_bytes(pdf)
    return str(path)


def paper_token(resident, *, now=None, version=1) -> str:
    now = now or timezone.now()
    return tokens.issue_paper(public_id=resident.public_id, version=version, now=now).token


# --- The PDF --------------------------------------------------------------------------------
def test_the_pdf_is_a5_with_every_font_embedded_and_no_colour_printed(client, resident, tmp_path):
    add_flag(resident)  # red now: still no colour may be printed
    pdf = print_pdf(client, resident)
    path = pdf_file(tmp_path, pdf)
    fonts = subprocess.run(["pdffonts", path], capture_output=True, check=True, text=True)
    rows = fonts.stdout.splitlines()[2:]
    assert rows, "the PDF has text, so it has fonts"
    assert all(re.split(r"\s+", row)[-5] == "yes" for row in rows), fonts.stdout  # emb
    info = subprocess.run(["pdfinfo", path], capture_output=True, check=True, text=True).stdout
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (148, 210)  # A5, mm
    text = subprocess.run(["pdftotext", path, "-"], capture_output=True, check=True, text=True)
    words = text.stdout
    assert "此码仅用于核验，颜色以扫码结果为准" in words
    assert resident.masked_name in words and resident.masked_id_number in words
    assert resident.id_number not in words and resident.name not in words
    assert "打印时间" in words and "有效期至" in words
    assert not re.search("绿码|黄码|红码|绿色|黄色|红色", words)


def test_the_pdf_has_no_coloured_ink(client, resident):
    add_flag(resident)
    png = pdf_page_png(print_pdf(client, resident), dpi=40)
    saturation = Image.open(io.BytesIO(png)).convert("HSV").getchannel("S")
    assert saturation.getextrema()[1] < 40  # black, white and grey: no status colour


def test_validity_printed_follows_the_setting(client, resident, settings, tmp_path):
    settings.PAPER_CODE_TTL_HOURS = 24  # Suzhou
    now = dt.datetime(2022, 5, 27, 8, 30, tzinfo=dt.UTC)  # 16:30 in Shanghai
    with time_machine.travel(now, tick=False):
        pdf = print_pdf(client, resident)
    words = subprocess.run(
        ["pdftotext", pdf_file(tmp_path, pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "打印时间：2022-05-27 16:30" in words and "有效期至：2022-05-28 16:30" in words


# --- Scanning the print -----------------------------------------------------------------------
def test_the_printed_qr_scans_to_the_live_colour(client, resident, inspector):
    with_test(resident)
    pdf = print_pdf(client, resident)
    token = decode_qr(pdf_page_png(pdf))
    assert token.startswith("HP1.") and str(resident.public_id.hex) in token
    assert verify(inspector, token).json()["colour"] == "green"
    add_flag(resident)  # turned red after printing
    body = verify(inspector, token).json()
    assert (body["colour"], body["passed"]) == ("red", False)
    assert body["name"] == resident.masked_name
    assert not CheckIn.objects.exists()  # verify records the lookup only
    assert lookups(subject=resident, action="inspector_scan").count() == 2
    created = confirm(inspector, token)
    assert created.status_code == 201 and created.json()["colour"] == "red"
    checkin = CheckIn.objects.get()
    assert (checkin.resident, checkin.colour, checkin.token_digest) == (resident, "red", "")


def test_a_device_reads_a_paper_code_with_the_live_status(resident):
    with_test(resident)
    venue = make_venue()
    _row, key = Device.create_with_key(venue=venue, name="东门闸机")
    device = APIClient()
    device.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    token = paper_token(resident)
    add_flag(resident)
    body = device.post(reverse("api-devices-verify"), {"code": token}, format="json").json()
    assert (body["decision"], body["colour"]) == ("stop", "red")
    assert CheckIn.objects.get().resident == resident


def test_a_stored_status_past_its_review_time_is_recomputed_on_scan(resident, inspector):
    with_test(resident)
    # A stale stored colour whose review time has come: the scan must not show it.
    HealthCode.objects.filter(resident=resident).update(
        colour="red", review_at=timezone.now() - dt.timedelta(seconds=1)
    )
    body = verify(inspector, paper_token(resident)).json()
    assert body["colour"] == "green"
    assert HealthCode.objects.get(resident=resident).colour == "green"


def test_a_paper_code_works_at_a_second_venue_unlike_a_phone_token(resident):
    with_test(resident)
    first, second = (
        inspector_at(make_venue(), "13511110001"),
        inspector_at(make_venue(), "13511110002"),
    )
    paper = paper_token(resident)
    assert confirm(first, paper).status_code == 201
    assert verify(second, paper).status_code == 200
    assert confirm(second, paper).status_code == 201
    assert CheckIn.objects.filter(resident=resident).count() == 2
    phone = tokens.issue_for(resident.health_code, now=timezone.now()).token
    third = inspector_at(make_venue(), "13511110003")
    assert confirm(third, phone).status_code == 201
    assert confirm(second, phone).status_code == 409  # the phone rule is unchanged


# --- Refusals: expired, revoked, forged -----------------------------------------------------
@pytest.mark.parametrize("hours", [336, 24])
def test_expired_at_its_exact_edge_records_nothing(resident, inspector, settings, hours):
    settings.PAPER_CODE_TTL_HOURS = hours
    with_test(resident)
    printed = timezone.now().replace(microsecond=0)
    token = paper_token(resident, now=printed)
    ttl = dt.timedelta(hours=hours)
    with time_machine.travel(printed + ttl - dt.timedelta(seconds=1), tick=False):
        assert verify(inspector, token).status_code == 200
    mark = last_event_pk()
    for moment in (printed + ttl, printed + ttl + dt.timedelta(seconds=1)):
        with time_machine.travel(moment, tick=False):
            for call in (verify, confirm):
                response = call(inspector, token)
                assert response.status_code == 400
                assert response.json()["code"] == ["纸质码已过期，请重新打印"]
                assert response.json()["problem"] == "paper_expired"
    assert not CheckIn.objects.exists() and not lookups(pk__gt=mark).exists()


def test_revoking_refuses_every_older_print_and_records_nothing(client, resident, inspector):
    with_test(resident)
    old = paper_token(resident)
    client.force_login(resident.user)
    assert client.post(reverse("proxy_scan:paper-revoke")).status_code == 302
    series = PaperCodeSeries.objects.get(resident=resident)
    assert (series.version, series.revoked_by) == (2, resident.user)
    for call in (verify, confirm):
        response = call(inspector, old)
        assert response.status_code == 400 and response.json()["problem"] == "paper_revoked"
        assert "作废" in response.json()["code"][0]
    assert not CheckIn.objects.exists() and not lookups().exists()
    new = paper_token(resident, version=2)
    assert confirm(inspector, new).status_code == 201
    page = client.get(reverse("proxy_scan:paper")).content.decode()
    assert "上次作废于" in page


def test_a_revoked_print_is_refused_at_the_device_too(resident):
    venue = make_venue()
    _row, key = Device.create_with_key(venue=venue, name="东门闸机")
    device = APIClient()
    device.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    old = paper_token(resident)
    services.paper_codes_revoke(viewer=resident.user, resident=resident)
    response = device.post(reverse("api-devices-verify"), {"code": old}, format="json")
    assert response.status_code == 400 and response.json()["problem"] == "paper_revoked"
    assert not CheckIn.objects.exists() and not lookups().exists()


def test_forged_and_cross_kind_tokens_are_refused(resident, inspector):
    good = paper_token(resident)
    body, signature = good.split(":")
    # Another version number with the old signature, a bad signature, and a phone token's
    # signature on a paper body: none verifies (the kinds have different salts).
    phone = tokens.issue_for(resident.health_code, now=timezone.now()).token
    forged = [
        body.replace(".1.", ".2.") + ":" + signature,
        body + ":" + signature[:-2] + ("AA" if not signature.endswith("AA") else "BB"),
        body + ":" + phone[-43:],
        "HP1." + phone.removeprefix("HC2."),
    ]
    for token in forged:
        response = verify(inspector, token)
        assert response.status_code == 400, token
        assert response.json()["problem"] in {"bad_signature", "malformed"}
    # Well signed, of nobody (a resident is never deleted: the audit trail holds them).
    stranger_token = paper_token(SimpleNamespace(public_id=uuid.uuid4()))
    assert verify(inspector, stranger_token).json()["problem"] == "unknown"
    assert not lookups().exists() and not CheckIn.objects.exists()


# --- The page and permissions ---------------------------------------------------------------
def test_the_page_offers_download_and_revoke_and_needs_a_login(client, resident):
    assert client.get(reverse("proxy_scan:paper")).status_code == 302
    assert client.get(reverse("proxy_scan:paper-pdf")).status_code == 302
    assert client.post(reverse("proxy_scan:paper-revoke")).status_code == 302
    assert not PaperCodeSeries.objects.exists()
    client.force_login(resident.user)
    page = client.get(reverse("proxy_scan:paper")).content.decode()
    assert reverse("proxy_scan:paper-pdf") in page and "作废" in page
    assert "14 天" in page and resident.masked_name in page
    assert client.get(reverse("proxy_scan:paper-revoke")).status_code == 405


def test_revoke_needs_the_csrf_token(resident):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(resident.user)
    assert strict.post(reverse("proxy_scan:paper-revoke")).status_code == 403
    assert not PaperCodeSeries.objects.exists()


def test_nobody_prints_or_revokes_another_persons_codes(resident):
    from healthcode.errors import DomainError

    other = make_resident()
    for service in (services.paper_code_issue, services.paper_codes_revoke):
        with pytest.raises(DomainError) as refused:
            service(viewer=other.user, resident=resident)
        assert refused.value.status == 403
    assert not PaperCodeSeries.objects.exists()


def test_an_account_without_a_resident_gets_the_no_resident_page(client, staff_user):
    client.force_login(staff_user)
    assert client.get(reverse("proxy_scan:paper")).status_code == 404
    assert client.get(reverse("proxy_scan:paper-pdf")).status_code == 404
    assert client.post(reverse("proxy_scan:paper-revoke")).status_code == 404


# --- A bound family member's paper code (代办) ------------------------------------------------
def bind_elder(holder):
    from tests.factories import resident_id

    return services.family_member_bind(
        holder=holder,
        name="孙婆婆",
        id_type="resident_id",
        id_number=resident_id(birth="19480305", seq=321),
        relationship="grandparent",
    )


def test_a_holder_prints_a_members_paper_code_that_scans_to_the_member(client, resident, inspector):
    binding = bind_elder(resident)
    client.force_login(resident.user)
    page = client.get(reverse("proxy_scan:paper"), {"member": str(binding.public_id)})
    assert page.status_code == 200 and binding.member.masked_name in page.content.decode()
    response = client.get(reverse("proxy_scan:paper-pdf"), {"member": str(binding.public_id)})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    body = verify(inspector, decode_qr(pdf_page_png(response.content))).json()
    assert body["name"] == binding.member.masked_name


def test_a_member_paper_code_is_nobody_elses_to_print(client, resident):
    binding = bind_elder(resident)
    stranger = make_resident(name="郑路人")
    client.force_login(stranger.user)
    response = client.get(reverse("proxy_scan:paper-pdf"), {"member": str(binding.public_id)})
    assert response.status_code == 404
    services.family_member_unbind(holder=resident, binding_id=binding.public_id)
    client.force_login(resident.user)  # unbound: the holder's old link is gone too
    response = client.get(reverse("proxy_scan:paper-pdf"), {"member": str(binding.public_id)})
    assert response.status_code == 404


def test_a_holder_revokes_a_members_prints(client, resident, inspector):
    binding = bind_elder(resident)
    old = paper_token(binding.member)
    client.force_login(resident.user)
    response = client.post(reverse("proxy_scan:paper-revoke"), {"member": str(binding.public_id)})
    assert response.status_code == 302 and str(binding.public_id) in response["Location"]
    assert verify(inspector, old).json()["problem"] == "paper_revoked"
    assert not CheckIn.objects.exists()
