"""The health officers' pages under /officer/: the workbench, cases, traces with their
preview, apply, approval and withdrawal, and the contacts' CSV. Thin: forms in, services
out; every refusal is the service's DomainError shown on the page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.db_router import pins_primary, reads_from_replica
from healthcode import regions
from healthcode.errors import DomainError
from healthcode.models import Resident
from tracing import charts, selectors, services
from tracing.export import contacts_csv
from tracing.forms import CaseForm, ReasonForm, TraceForm
from tracing.models import Application
from venues.selectors import officer_for_user


def _officer_or_404(request):
    officer = officer_for_user(user=request.user)
    if officer is None:
        raise Http404  # the officers' pages do not exist for anyone else
    return officer


@never_cache
@login_required
@require_GET
@reads_from_replica
def workbench(request):
    officer = _officer_or_404(request)
    venue = selectors.officer_venue(officer=officer, venue_id=request.GET.get("venue", ""))
    context = {
        "officer": officer,
        "venue": venue,
        **_plots(officer, venue),
        "cases": selectors.open_cases(),
        "traces": selectors.recent_traces(),
        "awaiting": selectors.applications_awaiting(user=request.user),
        "alerts": selectors.unacknowledged_alerts_in(region_codes=officer.region_codes),
    }
    return render(request, "tracing/workbench.html", context)


def _plots(officer, venue=None) -> dict:
    """The workbench's three plots for the officer's regions (the first for one venue of
    theirs if asked), drawn as SVG on the server."""
    now = timezone.now()
    area = "、".join(regions.region_name(code, short=True) for code in officer.region_codes)
    if venue is not None:
        start, hourly = selectors.checkins_per_hour(now=now, venue_id=venue.pk)
        place = venue.full_name
    else:
        start, hourly = selectors.checkins_per_hour(now=now, region_codes=officer.region_codes)
        place = area
    days, colours = selectors.colour_counts_over_days(now=now, region_codes=officer.region_codes)
    trace_days, contacts = selectors.contacts_per_day(now=now)
    return {
        "plot_checkins": charts.hourly_column_chart(
            title=_("%(place)s 近 14 天每小时扫码登记") % {"place": place},
            start=start,
            counts=hourly,
            chart_id="plot-checkins",
        ),
        "plot_colours": charts.line_chart(
            title=_("%(area)s 居民赋码情况（按日）") % {"area": area},
            labels=days,
            series=charts.colour_series(colours),
            unit=_("人"),
            chart_id="plot-colours",
        ),
        "plot_contacts": charts.column_chart(
            title=_("时空关联每日发现人数"),
            labels=trace_days,
            values=contacts,
            unit=_("人"),
            chart_id="plot-contacts",
        ),
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@pins_primary
def case_new(request):
    _officer_or_404(request)
    form = CaseForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = services.case_register(
                    by=request.user,
                    id_type=data["id_type"],
                    id_number=data["id_number"],
                    onset_at=data["onset_at"],
                    lookback_to=data.get("lookback_to"),
                    note=data.get("note", ""),
                )
            except DomainError as exc:
                form.add_error(exc.field, exc.message)
                status = exc.status
            else:
                return redirect("tracing:case", public_id=case.public_id)
        else:
            status = 400
    return render(request, "tracing/case_new.html", {"form": form}, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@pins_primary
def case_page(request, public_id):
    _officer_or_404(request)
    case = selectors.case_for(public_id=public_id)
    if case is None:
        raise Http404
    form = TraceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        trace = services.trace_start(case=case, by=request.user, **form.cleaned_data)
        return redirect("tracing:trace", public_id=trace.public_id)
    status = 400 if request.method == "POST" else 200
    services.case_viewed(case=case, by=request.user)
    context = {"case": case, "form": form, "traces": case.traces.order_by("-created_at")}
    return render(request, "tracing/case.html", context, status=status)


@never_cache
@login_required
@require_GET
@reads_from_replica
def trace_page(request, public_id):
    _officer_or_404(request)
    trace = _trace_or_404(public_id)
    return _trace_render(request, trace)


def _trace_or_404(public_id):
    trace = selectors.trace_for(public_id=public_id)
    if trace is None:
        raise Http404
    return trace


def _trace_render(request, trace, *, form=None, error="", status=200):
    done = trace.status == trace.Status.DONE
    application = selectors.live_application(trace=trace)
    groups = selectors.trace_groups(trace=trace) if done else []
    people = {c.resident.pk: c.resident for g in groups for c in g.contacts}
    services.trace_viewed(trace=trace, by=request.user, resident_ids=people)
    context = {
        "trace": trace,
        "case": trace.case,
        "running": trace.status in (trace.Status.QUEUED, trace.Status.RUNNING),
        "preview": selectors.trace_preview(trace=trace) if done else None,
        "groups": groups,
        "people": sorted(people.values(), key=lambda person: person.pk),
        "application": application,
        "may_approve": application is not None
        and application.status == Application.Status.PENDING
        and application.requested_by_id != request.user.pk,
        "actions": selectors.trace_actions(trace=trace),
        "form": form or ReasonForm(),
        "error": error,
    }
    return render(request, "tracing/trace.html", context, status=status)


@login_required
@require_POST
@pins_primary
def trace_apply(request, public_id):
    _officer_or_404(request)
    trace = _trace_or_404(public_id)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _trace_render(request, trace, form=form, status=400)
    try:
        application = services.trace_apply(
            trace=trace, by=request.user, reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        return _trace_render(request, trace, form=form, error=exc.message, status=exc.status)
    if application.status == Application.Status.PENDING:
        messages.info(request, _("涉及人数超过审批阈值，已提交，待另一名工作人员审批后生效。"))
    else:
        messages.success(request, _("已赋码，相关人员健康码正在更新。"))
    return redirect("tracing:trace", public_id=trace.public_id)


def _application_or_404(application_id) -> Application:
    return get_object_or_404(Application.objects.select_related("trace"), pk=application_id)


@login_required
@require_POST
@pins_primary
def application_approve(request, application_id):
    _officer_or_404(request)
    application = _application_or_404(application_id)
    try:
        services.application_approve(application=application, by=request.user)
    except DomainError as exc:
        trace = _trace_or_404(application.trace.public_id)
        return _trace_render(request, trace, error=exc.message, status=exc.status)
    messages.success(request, _("已审批，赋码生效。"))
    return redirect("tracing:trace", public_id=application.trace.public_id)


@login_required
@require_POST
@pins_primary
def application_withdraw(request, application_id):
    _officer_or_404(request)
    application = _application_or_404(application_id)
    trace = _trace_or_404(application.trace.public_id)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _trace_render(request, trace, error=_("请填写撤销理由。"), status=400)
    resident = None
    if person := request.POST.get("resident"):
        resident = Resident.objects.filter(public_id=person).first() if _uuid(person) else None
        if resident is None:
            raise Http404
    try:
        services.application_withdraw(
            application=application,
            by=request.user,
            reason=form.cleaned_data["reason"],
            resident=resident,
        )
    except DomainError as exc:
        return _trace_render(request, trace, error=exc.message, status=exc.status)
    messages.success(request, _("已撤销，相关人员健康码正在恢复。"))
    return redirect("tracing:trace", public_id=trace.public_id)


def _uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@never_cache
@login_required
@require_GET
@reads_from_replica
def trace_export(request, public_id):
    _officer_or_404(request)
    trace = _trace_or_404(public_id)
    contacts = list(selectors.trace_contacts_for_export(trace=trace))
    services.trace_exported(trace=trace, by=request.user, rows=len(contacts))
    response = HttpResponse(contacts_csv(contacts), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="trace-{trace.public_id}.csv"'
    return response
