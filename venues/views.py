from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.services import audit_read, audit_reads_once
from checkins.export import checkins_csv
from checkins.selectors import alerts_for_venue, checkins_for_venue
from healthcode.errors import DomainError
from healthcode.roles import limit_session_if_staff
from venues import codes, posters, selectors, services
from venues.forms import BindForm, VaccinationRequirementForm, VenueForm
from venues.models import Venue, VenueStatus


def _administered(request) -> Venue | None:
    return Venue.objects.filter(administrator=request.user).first()


def venue_code_url(request, venue: Venue) -> str:
    code = codes.make(public_id=venue.public_id, version=venue.poster_version)
    return request.build_absolute_uri(reverse("checkins:scan", args=[code]))


@login_required
@require_http_methods(["GET", "POST"])
def venue_home(request):
    """The administrator's venue: declaring one if they have none yet; its status while it
    waits for approval; correcting and resubmitting it when rejected."""
    venue = _administered(request)
    if venue is None:
        return _declare(request)
    if venue.status == VenueStatus.REJECTED:
        return _resubmit(request, venue)
    if request.method == "POST":
        return redirect("venues:home")
    if venue.status == VenueStatus.PENDING:
        return render(request, "venues/home.html", {"venue": venue})
    return render(request, "venues/home.html", _approved_context(request, venue))


def _declare(request):
    form = VenueForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.venue_register(administrator=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field, exc.message)
        else:
            limit_session_if_staff(request)  # so is a venue administrator's
            return redirect("venues:home")
    return render(request, "venues/register.html", {"form": form})


def _resubmit(request, venue: Venue):
    form = VenueForm(request.POST or None, initial=VenueForm.initial_for(venue))
    if request.method == "POST" and form.is_valid():
        try:
            services.venue_resubmit(venue=venue, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, _("已重新提交，请等待所在地卫健部门审核。"))
            return redirect("venues:home")
    return render(request, "venues/home.html", {"venue": venue, "form": form})


def _approved_context(request, venue: Venue) -> dict:
    checkins = Paginator(checkins_for_venue(venue=venue, day=timezone.localdate()), 30).get_page(
        request.GET.get("page")
    )
    alerts = list(alerts_for_venue(venue=venue).filter(acknowledged_at__isnull=True)[:50])
    # The page lists today's visitors and the venue's open alerts (masked): each person shown
    # is read by the administrator, once an hour however often the page is opened.
    audit_reads_once(
        action="venue_checkins_view",
        actor=request.user,
        subject_ids=[c.resident_id for c in checkins] + [a.resident_id for a in alerts],
        detail={"venue": venue.pk},
    )
    return {
        "venue": venue,
        "inspectors": venue.inspectors.select_related("user").order_by("bound_at"),
        "checkins": checkins,
        "scan_url": venue_code_url(request, venue),
        "alerts": alerts,
        "vaccination_form": VaccinationRequirementForm(
            initial={"requires_vaccination": venue.requires_vaccination}
        ),
    }


def _unusable(request, venue: Venue) -> HttpResponse | None:
    """A page saying why, when this venue's code and declaration code do nothing yet."""
    reason = selectors.venue_unusable_reason(venue)
    if reason is None:
        return None
    return render(request, "venues/unusable.html", {"message": reason}, status=403)


@login_required
@require_GET
def poster(request, fmt: str):
    venue = _administered(request)
    if fmt not in ("pdf", "png"):
        return HttpResponse(status=404)
    if venue is None:
        return redirect("venues:home")
    refused = _unusable(request, venue)
    if refused:
        return refused
    url = venue_code_url(request, venue)
    if fmt == "pdf":
        body, content_type = posters.poster_pdf(venue, url), "application/pdf"
    else:
        body, content_type = posters.poster_png(venue, url), "image/png"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="venue-code-v{venue.poster_version}.{fmt}"'
    )
    return response


@login_required
@require_POST
def regenerate_declaration_code(request):
    venue = _administered(request)
    if venue is not None and venue.is_approved:
        services.declaration_code_regenerate(venue=venue)
        messages.success(request, _("已更换场所申报码，旧申报码不能再绑定新的检测员。"))
    return redirect("venues:home")


@login_required
@require_POST
def vaccination_requirement(request):
    """The approved venue's administrator switches 要求接种新冠疫苗 on or off."""
    venue = _administered(request)
    form = VaccinationRequirementForm(request.POST)
    if venue is not None and venue.is_approved and form.is_valid():
        required = form.cleaned_data["requires_vaccination"]
        services.venue_vaccination_requirement_set(venue=venue, required=required)
        if required:
            messages.success(request, _("已开启：查不到新冠疫苗接种记录的人将不能入场。"))
        else:
            messages.success(request, _("已关闭：入场不再查验新冠疫苗接种记录。"))
    return redirect("venues:home")


@login_required
@require_POST
def reissue_poster(request):
    venue = _administered(request)
    if venue is not None and venue.is_approved:
        services.poster_reissue(venue=venue)
        messages.success(
            request, _("已重新签发场所码，旧海报扫码将显示“此场所码已作废”。请打印新海报。")
        )
    return redirect("venues:home")


@login_required
@require_POST
def remove_inspector(request, inspector_id: int):
    venue = _administered(request)
    if venue is None:
        return HttpResponse(status=403)
    try:
        services.inspector_remove(venue=venue, inspector_id=inspector_id)
    except DomainError:
        raise Http404 from None  # not an inspector of this administrator's venue
    return redirect("venues:home")


@login_required
@require_http_methods(["GET", "POST"])
def inspector_bind(request):
    """An inspector binds a venue with the declaration code its administrator shared."""
    form = BindForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            inspector = services.inspector_bind(
                user=request.user, declaration_code=form.cleaned_data["declaration_code"]
            )
        except DomainError as exc:
            form.add_error("declaration_code", exc.message)
        else:
            limit_session_if_staff(request)  # an inspector's session ends after a working day
            messages.success(request, _("已绑定场所：%(v)s") % {"v": inspector.venue.full_name})
            return redirect("venues:bind")
    return render(
        request,
        "venues/bind.html",
        {
            "form": form,
            "venues": selectors.venues_inspected_by(user=request.user),
        },
    )


@login_required
@require_GET
def checkins_export(request):
    """Today's check-ins as CSV (masked; cells that a spreadsheet would run are neutralised)."""
    venue = _administered(request)
    if venue is None or not venue.is_approved:
        raise Http404
    day = timezone.localdate()
    checkins = list(checkins_for_venue(venue=venue, day=day))
    audit_read(
        action="venue_export",
        actor=request.user,
        venue_name=venue.full_name,
        detail={"venue": venue.pk, "day": day.isoformat(), "rows": len(checkins)},
    )
    body = checkins_csv(checkins)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="checkins-{day:%Y%m%d}.csv"'
    return response
