"""The load benchmark's floor endpoint exists only in the bench's URLconf (bench/urls.py,
selected by bench/settings.py), never in production's."""

import pytest
from django.conf import settings
from django.urls import Resolver404, resolve


def test_production_has_no_floor_route():
    assert settings.ROOT_URLCONF == "config.urls"
    with pytest.raises(Resolver404):
        resolve("/bench/floor")
    with pytest.raises(Resolver404):
        resolve("/bench/floor", urlconf="config.urls")


def test_the_bench_urlconf_adds_only_the_floor():
    from bench import urls as bench_urls
    from config import urls as production

    assert resolve("/bench/floor", urlconf="bench.urls").func is bench_urls.floor
    assert len(bench_urls.urlpatterns) == len(production.urlpatterns) + 1
