from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from healthcode.errors import DomainError


def exception_handler(exc, context):
    """DRF's handler, plus DomainError → its status with field errors or a detail."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    return drf_exception_handler(exc, context)
