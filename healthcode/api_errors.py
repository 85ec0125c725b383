from django.core.exceptions import RequestDataTooBig
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import too_large_message
from healthcode.errors import DomainError


def exception_handler(exc, context):
    """DRF's handler, plus DomainError → its status with field errors or a detail, and a body
    over DATA_UPLOAD_MAX_MEMORY_SIZE → 413. Anything else unhandled reaches Django's
    handler500 (config.errors): JSON under /api/, without a traceback."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": too_large_message(), "code": "too_large"}, status=413)
    return drf_exception_handler(exc, context)
