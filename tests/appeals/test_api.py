"""POST /api/v1/me/appeals (multipart) and GET: the same rules as the page, as field errors;
in the OpenAPI schema; another person's reason is not mine to appeal."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from appeals.models import Appeal
from appeals.services import appeal_reject
from tests.appeals.conftest import image_bytes, reason_fact, stored_files, upload
from tests.factories import make_resident

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/appeals"


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_post_multipart_then_get_with_the_answer(yellow, officer, settings):
    api = api_for(yellow.user)
    response = api.post(
        URL,
        {"fact": reason_fact(yellow), "text": "当天在外地", "photo": upload(image_bytes("WEBP"))},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    appeal = Appeal.objects.get()
    assert body["id"] == str(appeal.public_id) and body["status"] == "open"
    assert body["photo_url"] == reverse("appeals:photo", args=[appeal.public_id])
    assert body["reason_text"] == "14天内有发热门诊就诊记录" and body["status_label"] == "处理中"

    appeal_reject(appeal=appeal, by=officer, answer="门诊记录属实。")
    (listed,) = api.get(URL).json()
    assert (listed["status"], listed["answer"]) == ("rejected", "门诊记录属实。")
    assert listed["decided_at"] is not None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"text": "错" * 501}, "text", "申诉理由最多 500 个字（现在 501 个）。"),
        (
            # A fresh file each run (an upload is read once; mutmut runs a test many times).
            {"text": "x", "photo": lambda: upload(b"<?php echo 1; ?>", "x.png", "image/png")},
            "photo",
            "请上传 JPG、PNG 或 WebP 格式的图片",
        ),
        ({"text": "x", "fact": "flag:999999"}, "fact", "您的健康码上现在没有这条原因"),
    ],
    ids=["text-501", "not-an-image", "unknown-fact"],
)
def test_refusals_are_field_errors_and_write_nothing(yellow, settings, fields, field, message):
    data = {"fact": reason_fact(yellow), **fields}
    data = {name: value() if callable(value) else value for name, value in data.items()}
    response = api_for(yellow.user).post(URL, data, format="multipart")
    assert response.status_code == 400
    (error,) = response.json()[field]
    assert message in error
    assert not Appeal.objects.exists() and stored_files(settings) == []


def test_a_second_open_appeal_on_the_reason_is_409(yellow):
    api = api_for(yellow.user)
    data = {"fact": reason_fact(yellow), "text": "误报"}
    assert api.post(URL, data, format="multipart").status_code == 201
    response = api.post(URL, data, format="multipart")
    assert response.status_code == 409
    assert response.json() == {"fact": ["这条原因已有一份处理中的申诉，请等待答复后再提交。"]}
    assert Appeal.objects.count() == 1


def test_another_persons_appeals_are_not_listed_and_their_reason_not_mine(yellow):
    api_for(yellow.user).post(URL, {"fact": reason_fact(yellow), "text": "误报"})
    other = make_resident(name="孙丽", phone="13912340009")
    api = api_for(other.user)
    assert api.get(URL).json() == []
    response = api.post(URL, {"fact": reason_fact(yellow), "text": "冒名"}, format="multipart")
    assert response.status_code == 400 and "fact" in response.json()
    assert Appeal.objects.count() == 1


def test_signed_out_is_401():
    assert APIClient().get(URL).status_code == 401


def test_the_schema_documents_the_operation(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/me/appeals"]
    assert set(operation) >= {"get", "post"}
    content = operation["post"]["requestBody"]["content"]
    assert "multipart/form-data" in content
    assert "201" in operation["post"]["responses"] and "400" in operation["post"]["responses"]
