"""Pinned query counts on the hot reads: the code page, the app's code API, verify."""

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from healthcode import tokens

pytestmark = pytest.mark.django_db


def test_me_code_api(resident, django_assert_num_queries):
    api = APIClient()
    api.force_authenticate(resident.user)
    # 1 the health code joined with its resident and account (status still current)
    with django_assert_num_queries(1):
        assert api.get(reverse("api-me-code")).status_code == 200


def test_verify(resident, staff_user, django_assert_num_queries):
    api = APIClient()
    api.force_authenticate(staff_user)
    token = tokens.issue_for(resident.health_code, now=timezone.now()).token
    # 1 resident joined with health code and account, by public id
    # 2 INSERT the audit read (every lookup of another person is kept)
    with django_assert_num_queries(2):
        assert (
            api.post(reverse("api-codes-verify"), {"token": token}, format="json").json()["colour"]
            == "green"
        )
