import datetime as dt
import re
from urllib.parse import quote

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from healthcode.idnumbers import IdType
from healthcode.models import HealthCode, HealthCodeChange, Resident, User
from tests.factories import make_resident, registration_data, resident_id

pytestmark = pytest.mark.django_db

# Each bad field, what makes it bad, and (part of) the message expected next to it: specific
# to that error, not a word the form's labels or choices show anyway (身份证, 密码, 承诺).
BAD_FIELDS = [
    ("name", "", "请填写姓名"),
    ("name", "张三3", "姓名只能包含"),
    ("id_type", "library_card", "选择一个有效的选项"),
    ("id_number", "11010519491231002Y", "应为18位"),
    ("id_number", "110105194912310021", "校验位"),
    ("id_number", resident_id(birth="20991231"), "晚于今天"),
    ("phone", "12345", "请输入11位中国大陆手机号码"),
    ("nationality", "", "请填写国籍"),
    ("region_code", "1101", "6位数字"),
    ("address", "", "请填写居住地址"),
    ("contact_history", [], "请选择14天内接触史"),
    ("contact_history", ["none", "abroad"], "不能与其他选项同时选择"),
    ("password", "123", "密码不能全是数字"),
    ("password", "Xq7!kz", "密码太短：至少需要 8 个字符"),  # was English (Django 5.2's msgid)
    ("password_again", "Something-else-1!", "不一致"),
    ("commitment", False, "请阅读并勾选承诺"),
]


def _post_page(client, data):
    return client.post(
        reverse("healthcode:register"), {k: v for k, v in data.items() if v is not False}
    )


def _nothing_saved():
    assert Resident.objects.count() == 0
    assert User.objects.count() == 0
    assert HealthCode.objects.count() == 0


def test_page_registers_logs_in_and_issues_a_green_code(client):
    data = registration_data(contact_history=["risk_area", "abroad"], contact_note="上海返回")
    # Minutes ago, not a fixed date: the log-in it makes must still be a live session when the
    # code page is asked for below, on the real clock (a fixed date failed once it was more
    # than a session's age in the past).
    moment = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    with time_machine.travel(moment, tick=False):
        response = _post_page(client, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("healthcode:code")
    resident = Resident.objects.get()
    assert resident.name == data["name"]
    assert resident.user.phone == data["phone"]
    assert resident.user.check_password(data["password"])
    assert (resident.contact_risk_area, resident.contact_abroad) == (True, True)
    assert resident.contact_confirmed_case is False
    assert resident.contact_note == "上海返回"
    assert resident.committed_at == moment
    code = resident.health_code
    assert code.colour == "green"
    assert [(r["code"], r["text"]) for r in code.reasons] == [("no_abnormality", "未见异常")]
    assert HealthCodeChange.objects.filter(health_code=code, new_colour="green").count() == 1
    assert client.get(reverse("healthcode:code")).status_code == 200  # logged in


def test_page_registration_form_is_in_chinese(client):
    body = client.get(reverse("healthcode:register")).content.decode()
    for text in [
        "姓名",
        "证件类型",
        "证件号码",
        "手机号码",
        "国籍（地区）",
        "居住地址",
        "14天内接触史",
        "本人承诺",
    ]:
        assert text in body


@pytest.mark.parametrize(("field", "value", "message"), BAD_FIELDS)
def test_page_each_bad_field_is_explained_and_nothing_is_saved(client, field, value, message):
    overrides = {field: value}
    if field == "password":
        overrides["password_again"] = value
    response = _post_page(client, registration_data(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field]), errors[field]
    assert set(errors) == {field}, "only the bad field is blamed"
    shown = re.findall(
        rf'<div class="error" id="id_{field}_error">(.*?)</div>', response.content.decode()
    )
    assert any(message in error for error in shown), shown  # next to the field, on the page
    _nothing_saved()


@pytest.mark.parametrize(
    ("field", "value", "message"), [row for row in BAD_FIELDS if row[0] != "password_again"]
)
def test_api_each_bad_field_is_a_field_error_and_nothing_is_saved(client, field, value, message):
    data = registration_data(**{field: value})
    data.pop("password_again")
    response = client.post(reverse("api-residents"), data, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field], body
    if value == "" or field == "id_type":
        assert body[field], body  # DRF's own Chinese message for a blank or unknown choice
    else:
        assert message in " ".join(body[field]), body
    _nothing_saved()


def test_api_registers_and_returns_the_public_id(client):
    data = registration_data()
    data.pop("password_again")
    response = client.post(reverse("api-residents"), data, content_type="application/json")
    assert response.status_code == 201
    resident = Resident.objects.get()
    assert response.json() == {"public_id": str(resident.public_id)}
    assert resident.health_code.colour == "green"


def test_id_number_is_stored_normalised(client):
    data = registration_data(id_number="11010519491231002x")
    _post_page(client, data)
    assert Resident.objects.get().id_number == "11010519491231002X"


def test_duplicate_id_says_so_without_revealing_whose(client):
    existing = make_resident(name="李四光", id_number="11010519491231002X", phone="13512345678")
    data = registration_data(id_number="11010519491231002x")  # same number, other spelling
    response = _post_page(client, data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["id_number"]
    assert "已注册" in errors["id_number"][0]
    body = response.content.decode()
    assert (
        existing.name not in body
        and "13512345678" not in body
        and "李" not in errors["id_number"][0]
    )
    assert Resident.objects.count() == 1 and User.objects.count() == 1


def test_same_number_under_another_document_type_is_someone_else(client):
    make_resident(id_type=IdType.TAIWAN_PERMIT, id_number="12345678")
    data = registration_data(id_type=IdType.PASSPORT, id_number="12345678")
    assert _post_page(client, data).status_code == 302
    assert Resident.objects.count() == 2


def test_duplicate_phone(client):
    make_resident(phone="13512345678")
    response = client.post(
        reverse("api-residents"),
        {**registration_data(phone="+86 135 1234 5678"), "password_again": None},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "已注册" in response.json()["phone"][0]
    assert Resident.objects.count() == 1 and User.objects.count() == 1


def test_login_by_phone_and_logout(client):
    data = registration_data()
    make_resident(**data)
    response = client.post(reverse("login"), {"username": data["phone"], "password": "wrong"})
    assert "手机号码或密码不正确" in response.content.decode()
    response = client.post(
        reverse("login"), {"username": data["phone"], "password": data["password"]}
    )
    assert response.status_code == 302 and response["Location"] == reverse("healthcode:code")
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("healthcode:code")).status_code == 302  # back to log-in


def test_a_resident_who_registers_from_a_poster_goes_back_to_it(client):
    """The log-in page (reached from a poster) passes the poster on to registration; after
    registering the new resident lands on the poster's page, not on their code."""
    from tests.factories import make_venue
    from venues import codes

    venue = make_venue(full_name="西湖区文三路联华超市")
    poster = f"/v/{codes.make(public_id=venue.public_id, version=venue.poster_version)}"
    login_page = client.get(reverse("login"), {"next": poster}).content.decode()
    register_url = f"{reverse('healthcode:register')}?next={quote(poster, safe='')}"
    assert register_url in login_page
    page = client.get(register_url).content.decode()
    assert f'name="next" value="{poster}"' in page
    data = {k: v for k, v in registration_data().items() if v is not False}
    response = client.post(register_url, data)
    assert response.status_code == 302 and response["Location"] == poster


@pytest.mark.parametrize("target", ["https://evil.example/v/x", "//evil.example/", "javascript:1"])
def test_registration_never_sends_a_new_resident_off_site(client, target):
    data = {k: v for k, v in registration_data().items() if v is not False}
    response = client.post(f"{reverse('healthcode:register')}", {**data, "next": target})
    assert response.status_code == 302 and response["Location"] == reverse("healthcode:code")
