"""The pages: 申诉 under each reason of my own code and in my record, the form, my appeals
with their answers, the photo only to me and the officers of my region, and the officers'
queue, detail, uphold and reject — another person's appeal or photo is 404."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from appeals.models import Appeal
from appeals.services import appeal_reject, appeal_submit, appeal_uphold
from audit.models import AuditEvent
from tests.appeals.conftest import colour, image_bytes, reason_fact, stored_files, upload
from tests.factories import add_flag, make_resident

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    return client


def new_url(fact: str) -> str:
    return f"{reverse('appeals:new')}?fact={fact}"


def test_the_code_page_offers_an_appeal_under_each_reason_and_then_shows_its_state(
    client, yellow, officer
):
    signed_in(client, yellow.user)
    fact = reason_fact(yellow)
    body = client.get(reverse("healthcode:code")).content.decode()
    assert f'href="{reverse("appeals:new")}?fact={fact.replace(":", "%3A")}"' in body

    appeal = appeal_submit(resident=yellow, fact=fact, text="我没有去发热门诊")
    body = client.get(reverse("healthcode:code")).content.decode()
    assert "申诉处理中" in body and 'class="appeal-link"' not in body

    appeal_reject(appeal=appeal, by=officer, answer="门诊记录属实。")
    body = client.get(reverse("healthcode:code")).content.decode()
    assert "申诉未通过：</strong>门诊记录属实。" in body and "再次申诉" in body


def test_an_upheld_appeals_answer_stays_on_the_now_green_code_page(client, yellow, officer):
    appeal = appeal_submit(resident=yellow, fact=reason_fact(yellow), text="误报")
    appeal_uphold(appeal=appeal, by=officer, answer="经核实为误报。")
    body = signed_in(client, yellow.user).get(reverse("healthcode:code")).content.decode()
    assert "colour-green" in body
    assert 'id="appeal-answers"' in body and "申诉成立：</strong>经核实为误报。" in body
    # …and in the record, with the colour change that names the appeal.
    record = client.get(reverse("records:record")).content.decode()
    assert "经核实为误报。" in record and f"申诉成立（申诉编号 {appeal.pk}）" in record


def test_a_family_members_code_has_no_appeal_links(client):
    from proxy_scan.services import family_member_bind
    from tests.factories import resident_id

    holder = make_resident(name="陈立", phone="13912340021")
    binding = family_member_bind(
        holder=holder,
        name="陈桂英",
        id_type="resident_id",
        id_number=resident_id(region="330106", birth="19500312", seq=71),
        relationship="parent",
    )
    add_flag(binding.member, "fever_clinic")
    signed_in(client, holder.user)
    body = client.get(f"{reverse('healthcode:code')}?member={binding.public_id}").content.decode()
    assert "14天内有发热门诊就诊记录" in body and "appeal-line" not in body


def test_the_record_lists_my_reasons_to_appeal_and_my_appeals(client, yellow):
    signed_in(client, yellow.user)
    body = client.get(reverse("records:record")).content.decode()
    assert 'id="appeals"' in body and "appeals/new?fact=" in body
    appeal_submit(resident=yellow, fact=reason_fact(yellow), text="误报")
    body = client.get(reverse("records:record")).content.decode()
    assert "处理中" in body and "申诉处理中" in body


def test_the_form_shows_the_reason_and_a_post_with_a_photo_lands(client, yellow, settings):
    signed_in(client, yellow.user)
    fact = reason_fact(yellow)
    page = client.get(new_url(fact))
    assert page.status_code == 200
    body = page.content.decode()
    assert "14天内有发热门诊就诊记录" in body and 'enctype="multipart/form-data"' in body

    response = client.post(
        reverse("appeals:new"),
        {"fact": fact, "text": "当天在外地出差", "photo": upload(image_bytes("JPEG"), "a.jpg")},
    )
    assert response.status_code == 302 and response["Location"] == reverse("appeals:mine")
    appeal = Appeal.objects.get()
    assert appeal.photo and len(stored_files(settings)) == 1
    mine = client.get(reverse("appeals:mine")).content.decode()
    assert "当天在外地出差" in mine and "申诉已提交" in mine and "查看上传的照片" in mine


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"text": "错" * 501}, "申诉理由最多 500 个字（现在 501 个）。"),
        ({"text": ""}, "请填写申诉理由。"),
        (
            # A fresh file each run (an upload is read once; mutmut runs a test many times).
            {"text": "见照片", "photo": lambda: upload(b"%PDF-1.4 not an image", "scan.jpg")},
            "请上传 JPG、PNG 或 WebP 格式的图片",
        ),
    ],
    ids=["text-501", "text-empty", "renamed-pdf"],
)
def test_a_refused_form_says_why_next_to_the_field_and_writes_nothing(
    client, yellow, settings, fields, message
):
    signed_in(client, yellow.user)
    fields = {name: value() if callable(value) else value for name, value in fields.items()}
    response = client.post(reverse("appeals:new"), {"fact": reason_fact(yellow), **fields})
    assert response.status_code == 400
    body = response.content.decode()
    field = "photo" if "photo" in fields else "text"
    assert re.search(rf'id="id_{field}_error">.*?{re.escape(message)}', body, re.S)
    assert not Appeal.objects.exists() and stored_files(settings) == []


def test_an_oversize_photo_on_the_page_is_refused_with_nothing_written(client, yellow, settings):
    data = image_bytes("PNG", size=(300, 200))
    settings.APPEAL_PHOTO_MAX_BYTES = len(data) - 1
    signed_in(client, yellow.user)
    response = client.post(
        reverse("appeals:new"),
        {"fact": reason_fact(yellow), "text": "见照片", "photo": upload(data)},
    )
    assert response.status_code == 400 and "照片不能超过" in response.content.decode()
    assert not Appeal.objects.exists() and stored_files(settings) == []


def test_another_persons_reason_is_not_found_on_my_form(client, yellow):
    other = make_resident(name="孙丽", phone="13912340009")
    signed_in(client, other.user)
    assert client.get(new_url(reason_fact(yellow))).status_code == 404
    response = client.post(reverse("appeals:new"), {"fact": reason_fact(yellow), "text": "x"})
    assert response.status_code == 400 and "没有这条原因" in response.content.decode()
    assert not Appeal.objects.exists()


# --- The photo ---------------------------------------------------------------------------------
@pytest.fixture
def with_photo(yellow):
    return appeal_submit(
        resident=yellow,
        fact=reason_fact(yellow),
        text="见照片",
        photo=upload(image_bytes("PNG"), "证明.png"),
    )


def test_the_photo_is_served_to_its_resident_privately_and_unsniffed(client, with_photo):
    response = signed_in(client, with_photo.resident.user).get(
        reverse("appeals:photo", args=[with_photo.public_id])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert (
        response["Content-Disposition"] == f'inline; filename="appeal-{with_photo.public_id}.png"'
    )
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_the_photo_is_served_to_an_officer_of_the_region_only(
    client, with_photo, officer, far_officer
):
    url = reverse("appeals:photo", args=[with_photo.public_id])
    assert signed_in(client, officer).get(url).status_code == 200
    assert signed_in(client, far_officer).get(url).status_code == 404


def test_another_resident_or_a_stranger_never_gets_the_photo(client, with_photo):
    url = reverse("appeals:photo", args=[with_photo.public_id])
    assert client.get(url).status_code == 302  # to the log-in page
    other = make_resident(name="孙丽", phone="13912340009")
    assert signed_in(client, other.user).get(url).status_code == 404
    assert client.get(reverse("appeals:photo", args=[Appeal().public_id])).status_code == 404


def test_a_photo_url_is_not_under_static_or_media(with_photo, settings):
    url = reverse("appeals:photo", args=[with_photo.public_id])
    assert not url.startswith(f"/{settings.STATIC_URL.strip('/')}/")
    assert with_photo.photo not in url


# --- Officers ----------------------------------------------------------------------------------
def test_the_queue_is_oldest_first_with_its_age_and_only_my_region(client, officer, far_officer):
    now = timezone.now()
    older = make_resident(name="周一", phone="13912340031")
    newer = make_resident(name="吴二", phone="13912340032")
    for person, hours in ((newer, 2), (older, 50)):
        add_flag(person, "symptoms")
        appeal_submit(
            resident=person,
            fact=reason_fact(person),
            text="误报",
            now=now - dt.timedelta(hours=hours),
        )
    body = signed_in(client, officer).get(reverse("appeals:queue")).content.decode()
    assert body.index("周*") < body.index("吴*")
    assert "已等待 2 天" in body and "已等待 2 小时" in body
    assert "周一" not in body and "吴二" not in body  # masked
    body = signed_in(client, far_officer).get(reverse("appeals:queue")).content.decode()
    assert 'id="queue-empty"' in body


def test_a_resident_has_no_officers_pages(client, yellow):
    signed_in(client, yellow.user)
    assert client.get(reverse("appeals:queue")).status_code == 404


def test_the_detail_shows_the_facts_masked_and_is_audited_as_a_read(client, yellow, officer):
    appeal = appeal_submit(resident=yellow, fact=reason_fact(yellow), text="当天在外地")
    body = signed_in(client, officer).get(reverse("appeals:detail", args=[appeal.public_id]))
    body = body.content.decode()
    assert yellow.masked_id_number in body and "139****0001" in body
    assert (
        yellow.id_number not in body and yellow.user.phone not in body and yellow.name not in body
    )
    assert "当天在外地" in body and "14天内有发热门诊就诊记录" in body and "<dd>test</dd>" in body
    event = AuditEvent.objects.get(action="appeal_view")
    assert (event.kind, event.actor, event.subject) == ("read", officer, yellow)


def test_an_officer_outside_the_region_gets_404_and_decides_nothing(client, yellow, far_officer):
    appeal = appeal_submit(resident=yellow, fact=reason_fact(yellow), text="误报")
    signed_in(client, far_officer)
    assert client.get(reverse("appeals:detail", args=[appeal.public_id])).status_code == 404
    response = client.post(reverse("appeals:uphold", args=[appeal.public_id]), {"answer": "x"})
    assert response.status_code == 404
    assert colour(yellow) == "yellow" and Appeal.objects.get().is_open


def test_uphold_on_the_page_turns_the_code_green(client, yellow, officer):
    appeal = appeal_submit(resident=yellow, fact=reason_fact(yellow), text="误报")
    signed_in(client, officer)
    response = client.post(reverse("appeals:uphold", args=[appeal.public_id]), {"answer": ""})
    assert response.status_code == 302 and response["Location"] == reverse("appeals:queue")
    assert colour(yellow) == "green"
    assert "已认定申诉成立" in client.get(reverse("appeals:queue")).content.decode()


def test_reject_on_the_page_needs_an_answer(client, yellow, officer):
    appeal = appeal_submit(resident=yellow, fact=reason_fact(yellow), text="误报")
    signed_in(client, officer)
    url = reverse("appeals:reject", args=[appeal.public_id])
    response = client.post(url, {"answer": ""})
    assert response.status_code == 400
    assert "请填写驳回理由" in response.content.decode()
    assert (
        Appeal.objects.get().is_open
        and not AuditEvent.objects.filter(action__startswith="appeal").exists()
    )
    assert client.post(url, {"answer": "属实"}).status_code == 302
    assert Appeal.objects.get().status == "rejected" and colour(yellow) == "yellow"


def test_the_workbench_links_to_the_queue(client, officer):
    body = signed_in(client, officer).get(reverse("tracing:workbench")).content.decode()
    assert f'href="{reverse("appeals:queue")}"' in body
