"""Pages: the resident's paper codes (print, revoke), 老幼助查 and family members (代办)."""

import math
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from healthcode import shown_codes
from healthcode.errors import DomainError
from healthcode.models import Resident
from healthcode.selectors import ensure_current
from healthcode.throttling import minutes_to_wait
from proxy_scan import paper, selectors, services
from proxy_scan.forms import ElderLookupForm, FamilyBindForm, ProxyScanForm
from proxy_scan.selectors import elder_lookup_result_for, family_members_of
from proxy_scan.throttles import ELDER_LOOKUP_MESSAGE, elder_lookup_wait
from venues.selectors import VenueCodeRefused, venue_from_code, venue_unusable_reason


def _own_resident(request) -> Resident | None:
    return Resident.objects.filter(user=request.user).first()


def _paper_subject(request):
    """(whose paper codes, the ``member`` key or ""): the signed-in resident's own, or with
    ``member`` (query or form) a bound family member's; None when neither exists (404)."""
    own = _own_resident(request)
    key = request.POST.get("member") or request.GET.get("member", "")
    if own is None or not key:
        return (own, "") if own is not None else None
    shown = shown_codes.open_code(own, key, record=False)
    return (shown.resident, key) if shown is not None else None


@never_cache
@login_required
@require_GET
def paper_page(request):
    subject = _paper_subject(request)
    if subject is None:
        return render(request, "healthcode/no_resident.html", status=404)
    resident, member_key = subject
    context = {
        "resident": resident,
        "member_key": member_key,
        "series": selectors.paper_code_series(resident=resident),
        "ttl_hours": settings.PAPER_CODE_TTL_HOURS,
        "ttl_days": settings.PAPER_CODE_TTL_HOURS // 24,
        "ttl_in_days": settings.PAPER_CODE_TTL_HOURS % 24 == 0,
    }
    return render(request, "proxy_scan/paper.html", context)


@never_cache
@login_required
@require_GET
def paper_pdf(request):
    subject = _paper_subject(request)
    if subject is None:
        return render(request, "healthcode/no_resident.html", status=404)
    return _pdf_response(request, subject[0])


def _pdf_response(request, resident: Resident) -> HttpResponse:
    try:
        issued = services.paper_code_issue(viewer=request.user, resident=resident)
    except DomainError as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain")
    text = paper.paper_text(
        masked_name=resident.masked_name,
        masked_id_number=resident.masked_id_number,
        issued_at=issued.issued_at,
        expires_at=issued.expires_at,
    )
    response = HttpResponse(paper.paper_pdf(token=issued.token, text=text))
    response["Content-Type"] = "application/pdf"
    response["Content-Disposition"] = 'attachment; filename="paper-health-code.pdf"'
    return response


@login_required
@require_POST
def paper_revoke(request):
    subject = _paper_subject(request)
    if subject is None:
        return render(request, "healthcode/no_resident.html", status=404)
    resident, member_key = subject
    try:
        services.paper_codes_revoke(viewer=request.user, resident=resident)
    except DomainError as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain")
    page = reverse("proxy_scan:paper")
    return redirect(f"{page}?{urlencode({'member': member_key})}" if member_key else page)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def elder_lookup_page(request):
    """老幼助查: a companion or venue staff enters a name and a resident ID number. A found
    person's result is shown at a one-time address (POST, then redirect), never in this
    response, so that a reload cannot bring it back."""
    form = ElderLookupForm(request.POST or None)
    if request.method == "POST":
        wait = elder_lookup_wait(request)
        if wait is not None:  # counted before anything is checked: no probing past the limit
            context = {
                "form": ElderLookupForm(),
                "refusal": ELDER_LOOKUP_MESSAGE % {"minutes": minutes_to_wait(wait)},
            }
            response = render(request, "proxy_scan/lookup.html", context, status=429)
            response["Retry-After"] = str(math.ceil(wait))
            return response
        if form.is_valid():
            try:
                result = services.elder_lookup(
                    viewer=request.user,
                    name=form.cleaned_data["name"],
                    id_number=form.cleaned_data["id_number"],
                )
            except DomainError as exc:
                form.add_error(exc.field, exc.message)
            else:
                return redirect("proxy_scan:lookup-result", key=result.key)
    return render(request, "proxy_scan/lookup.html", {"form": form})


@never_cache
@login_required
@require_GET
def elder_lookup_result(request, key: str):
    """The result, for the user who looked the person up, for 10 seconds after the lookup;
    then (and for anyone else) an 已过期 page. The person's status is read live."""
    now = timezone.now()
    result = elder_lookup_result_for(key=key, viewer=request.user)
    if result is None:
        return render(request, "proxy_scan/lookup_expired.html", status=404)
    if not result.readable_at(now):
        services.elder_lookup_results_purge(now=now)
        return render(request, "proxy_scan/lookup_expired.html", status=410)
    code = ensure_current(result.resident.health_code, now=now)
    remaining = (result.expires_at - now).total_seconds()
    response = render(
        request,
        "proxy_scan/lookup_result.html",
        {"code": code, "resident": result.resident, "remaining_ms": math.ceil(remaining * 1000)},
    )
    # Without JavaScript the page cannot blank itself: the browser reloads it just after the
    # result has expired, and the server answers 已过期.
    response["Refresh"] = str(math.ceil(remaining) + 1)
    return response


def _holder(request):
    resident = getattr(request.user, "resident", None)
    if resident is None:
        raise Http404
    return resident


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def family_page(request):
    """My bound family members (masked), a form to bind one, a button to unbind."""
    holder = _holder(request)
    form = FamilyBindForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            binding = services.family_member_bind(holder=holder, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field, exc.message)
            status = exc.status
        else:
            messages.success(request, _("已绑定 %(name)s。") % {"name": binding.member.masked_name})
            return redirect("proxy_scan:family")
    elif request.method == "POST":
        status = 400
    members = family_members_of(holder=holder)
    context = {"form": form, "members": members, "limit": services.MAX_MEMBERS}
    return render(request, "proxy_scan/family.html", context, status=status)


@never_cache
@login_required
@require_POST
def family_unbind(request, binding_id):
    try:
        binding = services.family_member_unbind(holder=_holder(request), binding_id=binding_id)
    except DomainError:
        raise Http404 from None
    messages.success(request, _("已解绑 %(name)s。") % {"name": binding.member.masked_name})
    return redirect("proxy_scan:family")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def proxy_scan_page(request, code: str):
    """帮他人扫码 at the venue a poster's code names: four ways (ID number, 市民卡, paper code,
    a bound family member). A POST records that person's check-in and redirects to their
    result page, which the helper may open. Photo OCR of an ID card is not offered: no OCR
    engine is installed, so the number is typed (and checked by its check digit)."""
    try:
        venue = venue_from_code(code)
    except VenueCodeRefused as exc:
        return render(request, "checkins/refused.html", {"message": exc.message}, status=404)
    unusable = venue_unusable_reason(venue)
    if unusable is not None:
        return render(request, "checkins/refused.html", {"message": unusable}, status=403)
    form = ProxyScanForm(request.POST or None)
    status, error = 200, None
    if request.method == "POST" and form.is_valid():
        try:
            checkin = services.proxy_checkin(helper=request.user, venue=venue, **form.cleaned_data)
        except DomainError as exc:
            status, error = exc.status, exc.message
        else:
            return redirect("checkins:result", public_id=checkin.public_id)
    elif request.method == "POST":
        status, error = 400, _("请选择帮扫方式。")
    holder = Resident.objects.filter(user=request.user).first()
    context = {
        "venue": venue,
        "code": code,
        "way": form.data.get("way", "") if request.method == "POST" else "",
        "error": error,
        "values": form.data if request.method == "POST" else {},
        "members": family_members_of(holder=holder) if holder else [],
        "js_text": {
            "no_camera": _("此浏览器无法使用摄像头，请上传照片或粘贴"),
            "not_found": _("未识别到二维码，请重拍或粘贴"),
        },
    }
    return render(request, "proxy_scan/help.html", context, status=status)
