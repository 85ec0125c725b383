"""The health officer's approval queue (场所审核): pending venues of their regions."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from healthcode import masking
from healthcode.errors import DomainError
from venues import creditcode, selectors, services
from venues.forms import RejectForm


def _officer_or_404(request):
    officer = selectors.officer_for_user(user=request.user)
    if officer is None:
        raise Http404  # not an officer: the queue does not exist for them
    return officer


def _queue(request, officer, *, error: str = "", error_venue: int | None = None, status=200):
    rows = [
        {
            "venue": venue,
            "admin_phone": masking.mask_phone(venue.administrator.phone),
            "credit_ok": creditcode.is_valid(venue.credit_code),
        }
        for venue in selectors.venues_pending_for_officer(officer=officer)
    ]
    context = {"officer": officer, "rows": rows, "error": error, "error_venue": error_venue}
    return render(request, "venues/officer_queue.html", context, status=status)


@never_cache
@login_required
@require_GET
def officer_venues(request):
    """Pending declarations in the officer's regions, oldest first."""
    return _queue(request, _officer_or_404(request))


def _venue_or_404(officer, venue_id: int):
    venue = selectors.venue_for_officer(officer=officer, venue_id=venue_id)
    if venue is None:
        raise Http404  # outside this officer's regions, or no such venue
    return venue


@login_required
@require_POST
def officer_venue_approve(request, venue_id: int):
    officer = _officer_or_404(request)
    venue = _venue_or_404(officer, venue_id)
    try:
        services.venue_approve(venue=venue, officer=officer)
    except DomainError as exc:
        return _queue(request, officer, error=exc.message, error_venue=venue.pk, status=exc.status)
    messages.success(request, _("已通过：%(v)s") % {"v": venue.full_name})
    return redirect("venues:officer-queue")


@login_required
@require_POST
def officer_venue_reject(request, venue_id: int):
    officer = _officer_or_404(request)
    venue = _venue_or_404(officer, venue_id)
    form = RejectForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError(form.errors["reason"][0], field="reason")
        services.venue_reject(venue=venue, officer=officer, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        return _queue(request, officer, error=exc.message, error_venue=venue.pk, status=exc.status)
    messages.success(request, _("已驳回：%(v)s") % {"v": venue.full_name})
    return redirect("venues:officer-queue")
