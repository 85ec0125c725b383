"""The code page's service worker (docs/offline.md, "The resident's code page offline"): the
script served from the site root so that its scope is the whole site, and the opaque key that
tells it whose copy of the code page it holds."""

from functools import lru_cache

from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.utils.crypto import salted_hmac
from django.views.decorators.http import require_GET

# The header on the holder's own code page and code API answers; the worker empties its cache
# when the key changes (another person is signed in on this phone).
OWNER_HEADER = "X-Offline-Owner"


def owner_key(user) -> str:
    """Opaque, per account, stable across sessions: no id, phone or name can be read from it."""
    return salted_hmac("healthcode.service_worker.owner", str(user.pk)).hexdigest()[:24]


def mark_owner(response, user):
    response[OWNER_HEADER] = owner_key(user)
    return response


@lru_cache(maxsize=1)
def _script() -> bytes:
    with open(finders.find("js/sw.js"), "rb") as handle:
        return handle.read()


@require_GET
def service_worker(request):
    """``/sw.js``: public (it holds no data), never kept by the HTTP cache, so a new version
    reaches phones at their next visit; allowed to control the whole site (``/``), though it
    keeps only the holder's own code page (static/js/sw.js)."""
    response = HttpResponse(_script(), content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache, no-store, max-age=0"
    return response
