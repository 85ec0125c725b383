"""The risk-flag import from a health officer's browser: the API takes a multipart ``file``
under session auth with CSRF, and the officer page shows the report with file lines."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from healthcode.models import RiskFlag
from tests.factories import resident_id

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2022, 6, 1, 12, 0, tzinfo=dt.UTC)
PAGE = "/officer/risk-flags/"
API = "/api/v1/health/risk-flags"
HEADER = "source,external_id,id_type,id_number,name,kind,starts_at,ends_at,reason\r\n"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def officer(django_user_model):
    user = django_user_model.objects.create_user(phone="13600000000", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_riskflag"))
    return user


def csv_file(name="名单.csv", encoding="gbk") -> SimpleUploadedFile:
    body = (
        HEADER
        + f"cdc,E1,resident_id,{resident_id(seq=1)},李四,close_contact,2022-06-01 08:00,,流调\r\n"
        + f"cdc,E2,resident_id,{resident_id(seq=2)},李四,purple,2022-06-01 08:00,,\r\n"
    )
    return SimpleUploadedFile(name, body.encode(encoding), content_type="application/vnd.ms-excel")


def browser(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get(PAGE)  # sets the CSRF cookie, as opening the page does
    return client


def test_the_api_takes_a_file_from_a_session_with_its_csrf_token(officer):
    client = browser(officer)
    token = client.cookies["csrftoken"].value
    response = client.post(API, {"file": csv_file(), "csrfmiddlewaretoken": token})
    assert response.status_code == 200, response.content
    report = response.json()
    assert (report["created"], report["rejected"]) == (1, 1)
    assert report["errors"][0]["line"] == 3 and report["errors"][0]["external_id"] == "E2"
    assert RiskFlag.objects.get().entered_by == officer


def test_the_api_takes_json_from_a_session_with_the_csrf_header(officer):
    client = browser(officer)
    body = {
        "records": [
            {
                "source": "cdc",
                "external_id": "E9",
                "id_number": resident_id(seq=9),
                "name": "李四",
                "kind": "symptoms",
                "starts_at": "2022-06-01 08:00",
            }
        ]
    }
    response = client.post(
        API,
        body,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1


def test_a_session_post_without_the_csrf_token_writes_nothing(officer):
    response = browser(officer).post(API, {"file": csv_file()})
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not RiskFlag.objects.exists()


def test_a_multipart_post_without_a_file_is_a_field_error(officer):
    client = browser(officer)
    response = client.post(API, {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert response.status_code == 400 and "file" in response.json()


def test_the_officer_page_imports_and_reports_by_line(officer):
    client = browser(officer)
    page = client.get(PAGE)
    assert page.status_code == 200 and "导入风险人员名单" in page.content.decode()
    response = client.post(
        PAGE, {"file": csv_file(), "csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="report-created">1<' in html and 'id="report-rejected">1<' in html
    assert "第 3 行" in html and "E2" in html
    # Each message on its own line, named by the field in Chinese (not kind：…；…).
    assert '<li class="error">类别：应为以下之一' in html and "kind：" not in html
    assert RiskFlag.objects.get().external_id == "E1"


def test_the_officer_page_refuses_a_file_that_is_not_csv_or_json(officer):
    client = browser(officer)
    bad = SimpleUploadedFile("名单.xlsx", b"PK\x03\x04", content_type="application/zip")
    response = client.post(
        PAGE, {"file": bad, "csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    )
    assert response.status_code == 200
    assert "文件应为 CSV" in response.content.decode()
    assert not RiskFlag.objects.exists()


def test_people_without_the_permission_get_403_and_import_nothing(resident, staff_user):
    for user in (resident.user, staff_user):
        client = Client()
        client.force_login(user)
        assert client.get(PAGE).status_code == 403
        assert client.post(PAGE, {"file": csv_file()}).status_code == 403
        assert client.post(API, {"file": csv_file()}).status_code == 403
    assert Client().get(PAGE).status_code == 302  # to the log-in page
    assert not RiskFlag.objects.exists()
