"""API clients get JSON errors (never Django's HTML or a traceback); people get Chinese pages;
the schema documents the error answers of every operation."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework.test import APIClient

from nucleic.models import ResultBatch, TestPolicy
from tests.factories import lab_token, resident_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(django_user_model):
    user = django_user_model.objects.create_user(phone="13600000000", password="x", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="add_riskflag"),
        Permission.objects.get(codename="add_testpolicy"),
    )
    return user


def assert_json_error(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["detail"] and "Traceback" not in json.dumps(body)
    return body


def test_a_policy_without_group_is_a_field_error_not_a_500(officer):
    client = APIClient()
    client.force_authenticate(officer)
    response = client.post(
        "/api/v1/health/policies",
        {"window_hours": 72, "effective_from": "2022-05-27T00:00:00+08:00"},
        format="json",
    )
    assert response.status_code == 400
    assert "group" in response.json()
    assert not TestPolicy.objects.exists()


def test_an_unknown_api_address_is_a_json_404(client):
    body = assert_json_error(client.get("/api/v1/no-such-thing"), 404)
    assert body == {"detail": "未找到。", "code": "not_found"}
    assert_json_error(client.post("/api/v2/anything", {}), 404)


def test_an_unknown_page_is_a_chinese_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "页面不存在" in response.content.decode()


def test_a_body_over_the_limit_is_a_json_413_before_anything_is_read(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    _token, key = lab_token()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    body = json.dumps({"records": [{"barcode": "x" * 2000}]}).encode()
    response = client.generic("POST", "/api/v1/nucleic/results", body, "application/json")
    detail = assert_json_error(response, 413)["detail"]
    assert "请求体过大" in detail and "1000" in detail
    assert not ResultBatch.objects.exists()
    # A JSON API that reads through DRF's parser is bounded too, and so is a page's form.
    response = client.generic("POST", "/api/v1/residents", body, "application/json")
    assert_json_error(response, 413)
    page = Client().post("/register/", {"name": "x" * 2000})
    assert page.status_code == 413 and "上传内容过大" in page.content.decode()


def test_the_limit_takes_a_full_lab_batch_of_10000_records(settings):
    # The worst plausible lab batch: long barcodes, offsets on times, escaped Chinese names,
    # pretty-printed. The limit must take it whole (ingest.MAX_RECORDS).
    record = {
        "barcode": "HZ20220527-" + "0" * 21,
        "id_type": "foreign_permanent",
        "id_number": resident_id(seq=1),
        "name": "欧阳娜娜娜",
        "sampled_at": "2022-05-27T08:30:00+08:00",
        "reported_at": "2022-05-27T20:00:00+08:00",
        "result": "negative",
    }
    batch = json.dumps({"records": [record] * 10_000}, indent=2).encode()
    assert len(batch) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE > 2.5 * 1024 * 1024  # Django's default is not


def test_a_csrf_failure_on_an_api_post_with_a_session_is_json_403(officer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    response = client.post(
        "/api/v1/health/policies",
        {"group": "general", "window_hours": 72, "effective_from": "2022-05-27T00:00:00+08:00"},
        content_type="application/json",
    )
    body = assert_json_error(response, 403)
    assert "CSRF" in body["detail"]
    assert not TestPolicy.objects.exists()


def test_a_csrf_failure_on_a_page_is_a_chinese_page():
    response = Client(enforce_csrf_checks=True).post("/login/", {"username": "x"})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert "页面已过期" in response.content.decode()


def test_an_unhandled_exception_is_a_json_500_without_a_traceback(monkeypatch, resident):
    def explode(**kwargs):
        raise RuntimeError("secret internals 110105")

    monkeypatch.setattr("healthcode.api.health_code_current", explode)
    client = Client(raise_request_exception=False)
    client.force_login(resident.user)
    response = client.get("/api/v1/me/code")
    body = assert_json_error(response, 500)
    assert body == {"detail": "服务器内部错误，请稍后重试。", "code": "server_error"}
    assert b"secret" not in response.content and b"RuntimeError" not in response.content


def test_an_unhandled_exception_on_a_page_is_a_chinese_500_page(monkeypatch, resident):
    def explode(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("healthcode.views.health_code_current", explode)
    client = Client(raise_request_exception=False)
    client.force_login(resident.user)
    response = client.get("/code/")
    assert response.status_code == 500
    assert "服务暂时不可用" in response.content.decode()
    assert b"secret" not in response.content


def test_a_bad_host_is_a_400_json_for_the_api_and_a_page_for_people(client):
    assert_json_error(client.get("/api/v1/me/code", HTTP_HOST="evil.example"), 400)
    page = client.get("/login/", HTTP_HOST="evil.example")
    assert page.status_code == 400 and "请求无效" in page.content.decode()


def test_a_permission_denied_page_is_chinese(client, resident):
    client.force_login(resident.user)
    response = client.get("/officer/risk-flags/")
    assert response.status_code == 403 and "没有权限" in response.content.decode()


def test_the_schema_documents_error_answers_on_every_operation(client):
    schema = client.get("/api/v1/schema/", {"format": "json"}).json()
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {"detail", "code"}
    operations = [
        (path, method, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(operations) > 10
    for path, method, op in operations:
        codes = set(op["responses"])
        assert {"400", "404", "429", "500"} <= codes, (path, method)
        if op.get("security") and {} not in op["security"]:
            assert {"401", "403"} <= codes, (path, method)
        if method == "post":
            assert "413" in codes, (path, method)
        error = op["responses"]["404"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/Error"}
    uploads = schema["paths"]["/api/v1/nucleic/results"]["post"]["responses"]
    assert "413" in uploads and "401" in uploads
