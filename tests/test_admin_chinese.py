"""The admin's own chrome speaks Chinese: its header and title are the platform's, not
Django administration."""

import pytest

from healthcode.models import User

pytestmark = pytest.mark.django_db


def test_the_admin_header_and_title_are_chinese(client):
    admin = User.objects.create_superuser(phone="13800000001", password="Test-pass-2026!")
    client.force_login(admin)
    body = client.get("/admin/").content.decode()
    assert "健康码平台管理后台" in body and "<title>数据管理 | 健康码管理</title>" in body
    assert "Django administration" not in body and "Django 管理" not in body
