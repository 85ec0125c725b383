"""Issue 11, honest states at the poster: an invalid or replaced venue code is a neutral grey
场所码无效 (not a red code); a logged-out scan's log-in page names the venue and returns to
it; a staff account without a resident gets a way forward. Nothing is recorded by any of it."""

from urllib.parse import quote

import pytest
from django.urls import reverse

from checkins.models import CheckIn
from tests.factories import PASSWORD, make_resident, make_venue
from venues import codes
from venues.services import poster_reissue

pytestmark = pytest.mark.django_db


def code_of(venue):
    return codes.make(public_id=venue.public_id, version=venue.poster_version)


def test_a_forged_or_replaced_venue_code_is_neutral_grey_and_records_nothing(client, resident):
    venue = make_venue()
    client.force_login(resident.user)
    forged = code_of(venue)[:-3] + "AAA"
    replaced = code_of(venue)
    poster_reissue(venue=venue)  # the poster at the door is now an old one
    for code, why in ((forged, "无效场所码"), (replaced, "已作废")):
        for method in (client.get, client.post):
            response = method(reverse("checkins:scan", args=[code]))
            page = response.content.decode()
            assert response.status_code == 404
            assert "场所码无效，请扫描现场最新场所码" in page and why in page
            assert "result-invalid" in page and "colour-invalid" in page
            assert "colour-red" not in page and "result-red" not in page and "红码" not in page
    assert not CheckIn.objects.exists()


def test_the_log_in_page_names_the_scanned_venue_and_returns_to_it(client):
    venue = make_venue(full_name="西湖区文三路联华超市")
    scan = reverse("checkins:scan", args=[code_of(venue)])
    response = client.get(scan)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    page = client.get(response["Location"]).content.decode()
    assert 'id="login-venue"' in page and "西湖区文三路联华超市" in page
    assert f'name="next" value="{scan}"' in page
    person = make_resident()
    done = client.post(
        response["Location"],
        {"username": person.user.phone, "password": PASSWORD, "next": scan},
    )
    assert done.status_code == 302 and done["Location"] == scan
    assert not CheckIn.objects.exists()  # the GET after log-in records only when it posts


@pytest.mark.parametrize("next_path", ["/code/", "/v/not-a-code", ""])
def test_the_log_in_page_names_no_venue_for_other_addresses(client, next_path):
    venue = make_venue(full_name="西湖区文三路联华超市")
    page = client.get(f"{reverse('login')}?next={quote(next_path)}").content.decode()
    assert 'id="login-venue"' not in page and venue.full_name not in page


def test_the_log_in_page_does_not_name_an_unapproved_venue(client):
    venue = make_venue(full_name="待审核的新场所", status="pending")
    scan = reverse("checkins:scan", args=[code_of(venue)])
    page = client.get(f"{reverse('login')}?next={quote(scan)}").content.decode()
    assert "待审核的新场所" not in page


def test_a_staff_account_without_a_resident_gets_a_way_forward(client, staff_user):
    venue = make_venue()
    code = code_of(venue)
    client.force_login(staff_user)
    for method in (client.get, client.post):
        response = method(reverse("checkins:scan", args=[code]))
        page = response.content.decode()
        assert response.status_code == 200
        assert venue.full_name in page and "没有登记居民信息" in page
        assert 'id="switch-account"' in page and 'id="register-resident"' in page
        assert reverse("proxy_scan:help", args=[code]) in page
    assert not CheckIn.objects.exists()
    # 切换账号: logging out goes to the log-in page, which names the venue and returns to it.
    scan = reverse("checkins:scan", args=[code])
    out = client.post(reverse("logout"), {"next": f"{reverse('login')}?next={scan}"})
    assert out.status_code == 302 and out["Location"] == f"{reverse('login')}?next={scan}"
    assert venue.full_name in client.get(out["Location"]).content.decode()
