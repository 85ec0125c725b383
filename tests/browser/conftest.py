import pytest


@pytest.fixture
def site(live_server, settings):
    """The live server, with cookies a plain-HTTP test browser will send back."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    return live_server.url
