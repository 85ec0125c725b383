"""The resident's paper-code page: print (download the A5 PDF) and revoke them all."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from healthcode.errors import DomainError
from healthcode.models import Resident
from proxy_scan import paper, selectors, services


def _own_resident(request) -> Resident | None:
    return Resident.objects.filter(user=request.user).first()


@never_cache
@login_required
@require_GET
def paper_page(request):
    resident = _own_resident(request)
    if resident is None:
        return render(request, "healthcode/no_resident.html", status=404)
    context = {
        "resident": resident,
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
    resident = _own_resident(request)
    if resident is None:
        return render(request, "healthcode/no_resident.html", status=404)
    return _pdf_response(request, resident)


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
    resident = _own_resident(request)
    if resident is None:
        return render(request, "healthcode/no_resident.html", status=404)
    try:
        services.paper_codes_revoke(viewer=request.user, resident=resident)
    except DomainError as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain")
    return redirect("proxy_scan:paper")
