import math
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from healthcode import regions, services, shown_codes, tokens, usercache
from healthcode.errors import DomainError
from healthcode.forms import RegistrationForm, RiskFlagFileForm
from healthcode.qr import qr_png
from healthcode.selectors import ensure_current, health_code_current, health_code_for_user
from healthcode.service_worker import mark_owner
from healthcode.throttling import REGISTRATION_MESSAGE, RegistrationThrottle, minutes_to_wait
from healthcode.uploads import records_from_file


@require_http_methods(["GET", "POST"])
def register(request):
    if request.user.is_authenticated and hasattr(request.user, "resident"):
        return redirect("healthcode:code")
    form = RegistrationForm(request.POST or None)
    wait = RegistrationThrottle().refusal_wait(request) if request.method == "POST" else None
    if wait is not None:  # per IP, shared with the API; nothing is validated or written
        form.add_error(None, REGISTRATION_MESSAGE % {"minutes": minutes_to_wait(wait)})
        response = render(request, "healthcode/register.html", {"form": form}, status=429)
        response["Retry-After"] = str(math.ceil(wait))
        return response
    if request.method == "POST" and form.is_valid():
        try:
            resident = services.resident_register(**form.service_kwargs())
        except DomainError as exc:
            form.add_error(exc.field, exc.message)
        else:
            login(request, resident.user, backend=usercache.BACKEND)
            return redirect(_safe_next(request) or "healthcode:code")
    return render(
        request, "healthcode/register.html", {"form": form, "next": _safe_next(request) or ""}
    )


def _safe_next(request) -> str | None:
    """Where a new resident goes after registering: back to the poster they scanned (the
    log-in page passes it on), if it is a path on this site; else their code."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@never_cache
@login_required
@require_GET
def code_page(request):
    """The holder's own code, or with ``?member=`` a bound family member's (``shown_codes``),
    each with its own refreshing token; a switcher between them."""
    own = health_code_current(user=request.user)
    if own is None:
        return render(request, "healthcode/no_resident.html", status=404)
    key = request.GET.get("member", "")
    code, api_url = own, reverse("api-me-code")
    if key:
        shown = shown_codes.open_code(own.resident, key, record=True)
        if shown is None:  # not bound to this holder (any more): as if it did not exist
            raise Http404
        code, api_url = ensure_current(shown.resident.health_code), shown.api_url
    qr_url = reverse("healthcode:code-qr") + (f"?{urlencode({'member': key})}" if key else "")
    response = render(
        request,
        "healthcode/code.html",
        {
            "code": code,
            "resident": code.resident,
            "api_url": api_url,
            "qr_url": qr_url,
            "member_key": key,
            "others": shown_codes.choices(own.resident),
            "providers": shown_codes.providers(),
            "refresh_seconds": settings.HEALTHCODE_TOKEN_REFRESH_SECONDS,
            "ttl_seconds": settings.HEALTHCODE_TOKEN_TTL_SECONDS,
        },
    )
    # Only the holder's own code is kept for offline use (static/js/sw.js), a member's never.
    return response if key else mark_owner(response, request.user)


@login_required
@require_POST
def care_mode_toggle(request):
    """The code page's 关怀版 switch: stored on the account, so every code it shows (its own and
    each bound member's) keeps it; back to the code that was shown."""
    services.care_mode_set(user=request.user, enabled=request.POST.get("care_mode") == "on")
    key = request.POST.get("member", "")
    return redirect(reverse("healthcode:code") + (f"?{urlencode({'member': key})}" if key else ""))


@never_cache
@login_required
@require_GET
def code_qr_png(request):
    """A fresh signed token as a PNG (the holder's, or ``?member=``'s); the code page reloads
    it every refresh interval. The token asserts the status, so it is made current first."""
    code = health_code_for_user(user=request.user)
    if code is None:
        return HttpResponse(status=404)
    if key := request.GET.get("member", ""):
        shown = shown_codes.open_code(code.resident, key, record=False)
        if shown is None:
            return HttpResponse(status=404)
        code = shown.resident.health_code
    issued = tokens.issue_for(ensure_current(code), now=timezone.now())
    response = HttpResponse(qr_png(issued.token, box_size=8), content_type="image/png")
    return response if key else mark_owner(response, request.user)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def risk_flags_import_page(request):
    """A health officer imports a risk list (CSV or JSON file) and reads what landed and what
    was rejected, by file line. The same import as POST /api/v1/health/risk-flags."""
    if not request.user.has_perm("healthcode.add_riskflag"):
        raise PermissionDenied
    form = RiskFlagFileForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            records = records_from_file(form.cleaned_data["file"])
            outcome = services.risk_flags_import(records=records, entered_by=request.user)
        except DomainError as exc:
            form.add_error("file", exc.message)
        else:
            report = outcome.report()
    return render(request, "healthcode/risk_flags_import.html", {"form": form, "report": report})


@require_GET
def regions_json(request):
    """The GB/T 2260 table for the region picker (public: registration needs it signed out)."""
    response = HttpResponse(regions.table_json(), content_type="application/json; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response
