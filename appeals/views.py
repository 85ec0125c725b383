"""Appeal pages: the resident's form and list (/me/appeals/), the photo (resident and
officers only), and the officers' queue (/officer/appeals/). Thin: forms in, services out;
every refusal is the service's DomainError shown on the page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from appeals import photos, selectors, services
from appeals.forms import AppealForm, DecisionForm
from appeals.models import Appeal
from audit.services import audit_read
from healthcode.errors import DomainError
from venues.selectors import officer_for_user


def _own_resident(request):
    return getattr(request.user, "resident", None)


# --- The resident ----------------------------------------------------------------------------
@never_cache
@login_required
@require_GET
def my_appeals(request):
    resident = _own_resident(request)
    if resident is None:
        return render(request, "healthcode/no_resident.html", status=404)
    context = {"appeals": selectors.appeals_of(resident=resident)}
    return render(request, "appeals/mine.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def appeal_new(request):
    """申诉 one reason of my code: ``?fact=`` names it as the code page's link gives it."""
    resident = _own_resident(request)
    if resident is None:
        return render(request, "healthcode/no_resident.html", status=404)
    fact = request.POST.get("fact") or request.GET.get("fact", "")
    form = AppealForm(request.POST or None, request.FILES or None, initial={"fact": fact})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.appeal_submit(
                resident=resident,
                fact=fact,
                text=form.cleaned_data["text"],
                photo=form.cleaned_data["photo"],
            )
        except DomainError as exc:
            form.add_error(None if exc.field == "fact" else exc.field, exc.message)
            status = exc.status
        else:
            messages.success(request, _("申诉已提交，卫生健康部门处理后会在此答复。"))
            return redirect("appeals:mine")
    elif request.method == "POST":
        status = 400
    reason = selectors.appealable_reason(resident=resident, fact=fact)
    if reason is None and request.method == "GET":
        status = 404
    context = {"form": form, "reason": reason, "fact": fact}
    return render(request, "appeals/new.html", context, status=status)


@login_required
@require_GET
def appeal_photo(request, public_id):
    """The photo of an appeal, to its resident and to health officers of their region; 404
    to anyone else. Never cached, never sniffed, shown inline under a name of ours."""
    appeal = Appeal.objects.select_related("resident").filter(public_id=public_id).first()
    if appeal is None or not appeal.photo or not _may_see(request.user, appeal):
        raise Http404
    path = photos.photo_path(appeal.photo)
    if path is None:
        raise Http404
    response = FileResponse(path.open("rb"), content_type=photos.CONTENT_TYPES[appeal.photo_format])
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f'inline; filename="{appeal.photo_name}"'
    response["Cache-Control"] = "private, no-store"  # its own, not never_cache's longer one
    return response


def _may_see(user, appeal: Appeal) -> bool:
    if appeal.resident.user_id == user.pk:
        return True
    officer = officer_for_user(user=user)
    return officer is not None and officer.covers(appeal.resident.region_code)


# --- Health officers -------------------------------------------------------------------------
def _officer_or_404(request):
    officer = officer_for_user(user=request.user)
    if officer is None:
        raise Http404  # the officers' pages do not exist for anyone else
    return officer


@never_cache
@login_required
@require_GET
def queue(request):
    officer = _officer_or_404(request)
    now = timezone.now()
    rows = [
        {
            "appeal": appeal,
            "age": selectors.age_text(appeal.created_at, now),
            "overdue": now - appeal.created_at >= selectors.QUEUE_OVERDUE,
        }
        for appeal in selectors.appeals_queue(officer=officer)
    ]
    context = {
        "officer": officer,
        "rows": rows,
        "decided": selectors.appeals_decided_recently(officer=officer),
    }
    return render(request, "appeals/queue.html", context)


def _appeal_or_404(request, public_id):
    officer = _officer_or_404(request)
    appeal = selectors.appeal_for_officer(officer=officer, public_id=public_id)
    if appeal is None:
        raise Http404
    return appeal


@never_cache
@login_required
@require_GET
def detail(request, public_id):
    appeal = _appeal_or_404(request, public_id)
    audit_read(
        action="appeal_view",
        actor=request.user,
        subject=appeal.resident,
        detail={"appeal": appeal.pk},
    )
    return _detail_render(request, appeal)


def _detail_render(request, appeal, *, form=None, error="", status=200):
    own_trace = bool(appeal.flag_id) and request.user.pk in selectors.trace_officers_of_flag(
        appeal.flag
    )
    context = {
        "appeal": appeal,
        "facts": selectors.appeal_facts(appeal=appeal),
        "age": selectors.age_text(appeal.created_at, timezone.now()),
        "own_trace": own_trace,
        "form": form or DecisionForm(),
        "error": error,
    }
    return render(request, "appeals/detail.html", context, status=status)


@login_required
@require_POST
def uphold(request, public_id):
    done = _("已认定申诉成立，健康码已重新计算。")
    return _decide(request, public_id, services.appeal_uphold, done)


@login_required
@require_POST
def reject(request, public_id):
    return _decide(request, public_id, services.appeal_reject, _("已驳回申诉，申诉人会看到答复。"))


def _decide(request, public_id, decide, done: str):
    appeal = _appeal_or_404(request, public_id)
    form = DecisionForm(request.POST)
    form.is_valid()  # one optional text field: always valid
    try:
        decide(appeal=appeal, by=request.user, answer=form.cleaned_data.get("answer", ""))
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from None
        if exc.field:
            form.add_error(exc.field, exc.message)
        return _detail_render(
            request, appeal, form=form, error="" if exc.field else exc.message, status=exc.status
        )
    messages.success(request, done)
    return redirect("appeals:queue")
