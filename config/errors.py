"""Error answers: JSON for API clients (everything under /api/), Chinese pages for people.

Wired as Django's handler400/403/404/500 (config.urls) and CSRF_FAILURE_VIEW. The JSON body
has the shape of ``DomainError.as_dict``: ``{"detail": <Chinese message>, "code": <code>}``,
never a traceback.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _


def is_api(request) -> bool:
    return request.path.startswith("/api/")


def _answer(request, *, status: int, code: str, detail: str, template: str):
    if is_api(request):
        return JsonResponse(
            {"detail": detail, "code": code},
            status=status,
            json_dumps_params={"ensure_ascii": False},
        )
    return render(request, template, {"detail": detail}, status=status)


def too_large_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _("请求体过大：上限为 %(mb).1f MB（%(n)s 字节）。请拆分后分批上传。") % {
        "mb": limit / (1024 * 1024),
        "n": limit,
    }


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return _answer(
            request, status=413, code="too_large", detail=too_large_message(), template="413.html"
        )
    return _answer(
        request, status=400, code="bad_request", detail=_("请求无效。"), template="400.html"
    )


def permission_denied(request, exception=None):
    return _answer(
        request,
        status=403,
        code="permission_denied",
        detail=_("您没有执行该操作的权限。"),
        template="403.html",
    )


def page_not_found(request, exception=None):
    return _answer(request, status=404, code="not_found", detail=_("未找到。"), template="404.html")


def server_error(request):
    # No request context: the 500 page must render even when the failure was in one.
    if is_api(request):
        return JsonResponse(
            {"detail": _("服务器内部错误，请稍后重试。"), "code": "server_error"},
            status=500,
            json_dumps_params={"ensure_ascii": False},
        )
    return HttpResponseServerError(loader.get_template("500.html").render())


def csrf_failure(request, reason=""):
    return _answer(
        request,
        status=403,
        code="csrf_failed",
        detail=_("CSRF 校验失败：页面已过期或来源不符，请刷新页面后重试。"),
        template="403_csrf.html",
    )
