import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from healthcode import services
from healthcode.models import HealthCode, ItineraryStay, RiskArea, RiskFlag
from nucleic.models import TestPolicy

pytestmark = pytest.mark.django_db


def test_a_declared_four_hour_stay_in_a_high_risk_area_turns_red(resident):
    now = timezone.now()
    RiskArea.objects.create(
        region_code="310100", level="high", starts_at=now - dt.timedelta(days=5)
    )
    api = APIClient()
    api.force_authenticate(resident.user)
    response = api.post(
        reverse("api-me-itinerary"),
        {
            "region_code": "310104",
            "arrived_at": (now - dt.timedelta(days=2)).isoformat(),
            "left_at": (now - dt.timedelta(days=2) + dt.timedelta(hours=4)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201
    code = HealthCode.objects.get(resident=resident)
    assert code.colour == "red"
    assert code.reasons[0]["code"] == "from_high_risk_area"
    assert "本人申报行程" in code.explained_reasons[0]["source"]


def test_a_short_stay_does_not_count_and_bad_input_writes_nothing(resident):
    now = timezone.now()
    RiskArea.objects.create(
        region_code="310104", level="high", starts_at=now - dt.timedelta(days=5)
    )
    api = APIClient()
    api.force_authenticate(resident.user)
    arrived = now - dt.timedelta(days=1)
    api.post(
        reverse("api-me-itinerary"),
        {
            "region_code": "310104",
            "arrived_at": arrived.isoformat(),
            "left_at": (arrived + dt.timedelta(hours=3, minutes=59)).isoformat(),
        },
        format="json",
    )
    assert HealthCode.objects.get(resident=resident).colour == "green"
    bad = api.post(
        reverse("api-me-itinerary"),
        {"region_code": "31", "arrived_at": arrived.isoformat()},
        format="json",
    )
    assert bad.status_code == 400 and "region_code" in bad.json()
    backwards = api.post(
        reverse("api-me-itinerary"),
        {
            "region_code": "310104",
            "arrived_at": arrived.isoformat(),
            "left_at": (arrived - dt.timedelta(hours=1)).isoformat(),
        },
        format="json",
    )
    assert backwards.status_code == 400 and "left_at" in backwards.json()
    assert ItineraryStay.objects.count() == 1


def test_a_new_risk_area_recomputes_those_who_stayed_there(
    resident, django_capture_on_commit_callbacks
):
    now = timezone.now()
    services.stay_declare(
        resident=resident,
        region_code="310104",
        arrived_at=now - dt.timedelta(days=3),
        left_at=now - dt.timedelta(days=2),
    )
    assert HealthCode.objects.get(resident=resident).colour == "green"
    with django_capture_on_commit_callbacks(execute=True):
        area = RiskArea.objects.create(
            region_code="310000", level="medium", starts_at=now - dt.timedelta(days=10)
        )
        services.risk_area_saved(area=area)
    assert HealthCode.objects.get(resident=resident).colour == "yellow"


def test_admin_flag_defaults_yellow_to_14_days_and_recomputes(
    admin_client, resident, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:healthcode_riskflag_add"),
            {
                "source": "admin",
                "external_id": "A1",
                "id_type": resident.id_type,
                "id_number": resident.id_number,
                "name": resident.name,
                "kind": "symptoms",
                "starts_at_0": timezone.localdate().isoformat(),
                "starts_at_1": "00:00:00",
                "reason": "社区上报",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    flag = RiskFlag.objects.get()
    assert flag.ends_at - flag.starts_at == dt.timedelta(days=14)
    assert HealthCode.objects.get(resident=resident).colour == "yellow"


def test_admin_adds_a_policy_through_the_service(admin_client):
    response = admin_client.post(
        reverse("admin:nucleic_testpolicy_add"),
        {
            "group": "general",
            "window_hours": 72,
            "counts_from": "sampling",
            "pending_counts": "on",
            "effective_from_0": "2022-05-27",
            "effective_from_1": "00:00:00",
            "note": "杭州",
        },
    )
    assert response.status_code == 302
    assert TestPolicy.objects.get().window_hours == 72


@pytest.mark.parametrize(
    "url",
    [
        "admin:healthcode_resident_changelist",
        "admin:healthcode_riskflag_changelist",
        "admin:nucleic_sample_changelist",
        "admin:nucleic_resultbatch_changelist",
        "admin:nucleic_lab_changelist",
        "admin:audit_auditevent_changelist",
    ],
)
def test_admin_lists_render(admin_client, resident, url):
    response = admin_client.get(reverse(url))
    assert response.status_code == 200
    assert resident.id_number not in response.content.decode()


def test_opening_a_resident_in_the_admin_is_a_recorded_lookup(admin_client, admin_user, resident):
    from tests.factories import lookups

    response = admin_client.get(reverse("admin:healthcode_resident_change", args=[resident.pk]))
    assert response.status_code == 200
    lookup = lookups().get()
    assert (lookup.actor, lookup.subject, lookup.action) == (admin_user, resident, "admin")


def test_moving_a_risk_area_recomputes_those_under_its_old_region_too(
    resident, django_capture_on_commit_callbacks
):
    now = timezone.now()
    services.stay_declare(
        resident=resident,
        region_code="110105",
        arrived_at=now - dt.timedelta(days=3),
        left_at=now - dt.timedelta(days=2),
    )
    with django_capture_on_commit_callbacks(execute=True):
        area = RiskArea.objects.create(
            region_code="110105", level="high", starts_at=now - dt.timedelta(days=10)
        )
        services.risk_area_saved(area=area)
    assert HealthCode.objects.get(resident=resident).colour == "red"
    with django_capture_on_commit_callbacks(execute=True):
        area.region_code = "120105"  # the officer corrects the region
        area.save()
        services.risk_area_saved(area=area, previous_region_code="110105")
    assert HealthCode.objects.get(resident=resident).colour == "green"


def test_admin_issues_and_revokes_machine_keys(admin_client):
    from checkins.models import Device
    from tests.factories import make_venue

    venue = make_venue()
    response = admin_client.post(
        reverse("admin:venues_venue_changelist"),
        {"action": "issue_device_key", "_selected_action": [venue.pk]},
        follow=True,
    )
    key = next(str(m) for m in response.context["messages"]).split(": ")[-1]
    device = Device.objects.get(venue=venue)
    assert key.startswith("dev_") and not device.is_revoked
    admin_client.post(
        reverse("admin:checkins_device_changelist"),
        {"action": "revoke", "_selected_action": [device.pk]},
    )
    device.refresh_from_db()
    assert device.is_revoked
    assert admin_client.get(reverse("admin:checkins_device_add")).status_code == 403
