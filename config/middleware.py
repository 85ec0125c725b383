"""Site-wide response and request rules that no single view should have to remember."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """Pages, exports and API answers carry personal data (a colour, a name, a venue's
    visitors): no browser or proxy may keep a copy. A response that chose its own
    Cache-Control keeps it; static files never get here (WhiteNoise answers them first)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


class BodySizeLimitMiddleware:
    """A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE is refused (413, see config.errors)
    before anything reads it. Django checks that limit only when it reads ``request.body``
    or a form; DRF's parsers and file uploads read the stream and would not be bounded."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise RequestDataTooBig("request body over DATA_UPLOAD_MAX_MEMORY_SIZE")
        return self.get_response(request)
