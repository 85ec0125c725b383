"""Settings for bench/checkin_load.py only: production's, with the bench URLconf, which adds
the floor endpoint (bench/urls.py). Nothing in config/ names this module; the bench selects it
with DJANGO_SETTINGS_MODULE=bench.settings for its gunicorn (tests/test_bench_floor.py checks
the production URLconf has no floor route)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
