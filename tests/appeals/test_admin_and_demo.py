"""The admin lists appeals read-only, masked, in Chinese; seed_demo leaves one open appeal in
the demo officers' queue, once."""

import io

import pytest
from django.core.management import call_command

from appeals.models import Appeal
from appeals.services import appeal_submit
from healthcode.models import User
from tests.appeals.conftest import reason_fact

pytestmark = pytest.mark.django_db


def test_the_admin_list_is_read_only_masked_and_chinese(client, yellow):
    appeal = appeal_submit(resident=yellow, fact=reason_fact(yellow), text="误报")
    admin = User.objects.create_superuser(phone="13800000099", password="Test-pass-2026!")
    client.force_login(admin)
    body = client.get("/admin/appeals/appeal/").content.decode()
    assert "申诉人" in body and "赋码原因" in body and "处理中" in body
    assert yellow.masked_name in body and yellow.name not in body and yellow.id_number not in body
    assert "Masked" not in body and "增加 申诉" not in body
    detail = client.get(f"/admin/appeals/appeal/{appeal.pk}/change/").content.decode()
    assert "误报" in detail and yellow.id_number not in detail and 'name="_save"' not in detail
    assert client.post(f"/admin/appeals/appeal/{appeal.pk}/delete/").status_code == 403


def test_seed_demo_leaves_one_open_appeal_for_the_demo_officers():
    from appeals.selectors import appeals_queue
    from healthcode.management.commands.seed_demo import APPEAL_RESIDENT, OFFICER_PHONE

    for _run in range(2):
        call_command("seed_demo", stdout=io.StringIO())
    (appeal,) = Appeal.objects.all()
    assert appeal.is_open and appeal.kind == "flag"
    assert appeal.resident.user.phone == APPEAL_RESIDENT[0]
    assert appeal.resident.health_code.colour == "yellow"
    officer = User.objects.get(phone=OFFICER_PHONE).health_officer
    assert list(appeals_queue(officer=officer)) == [appeal]
