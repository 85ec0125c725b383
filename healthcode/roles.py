"""Who counts as staff, and the working-day limit on staff browser sessions.

Staff see other people's status (inspectors at a door, venue administrators, grid workers,
health officers, the admin), so a session of theirs ends STAFF_SESSION_HOURS after it started,
however active it is: a phone left at a checkpoint does not stay signed in overnight.
Residents' sessions are untouched.

Decided once, at log-in (and when a session becomes staff mid-way), and stored as the session's
own absolute expiry: the session store then refuses the session at that instant, with no
database query added to other requests.
"""

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

# Health officers hold these (risk-flag imports, test policies).
OFFICER_PERMISSIONS = ("healthcode.add_riskflag", "nucleic.add_testpolicy")
STAFF_SESSION_ENDS_KEY = "staff_session_ends_at"


def has_staff_role(user) -> bool:
    """Whether this account works with other people's status: admin staff, a health officer
    (the role or its permissions), a venue inspector binding, an administered venue, or a
    grid worker."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff or user.is_superuser:
        return True
    if any(user.has_perm(perm) for perm in OFFICER_PERMISSIONS):
        return True
    bound = (
        Q(inspected_venues__isnull=False)
        | Q(administered_venue__isnull=False)
        | Q(grid_worker__isnull=False)
        | Q(health_officer__isnull=False)
    )
    # request.user is a lazy proxy: ask the model, not type(user).
    return get_user_model().objects.filter(bound, pk=user.pk).exists()


def _end_session_after_a_working_day(request, *, start: dt.datetime) -> None:
    ends = start + dt.timedelta(hours=settings.STAFF_SESSION_HOURS)
    request.session.set_expiry(ends)  # a datetime: absolute, not renewed by activity
    request.session[STAFF_SESSION_ENDS_KEY] = ends.isoformat()


def staff_session_on_log_in(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver: every log-in path (the page, the admin, registration)
    sends it, which is why this is a signal and not code in each view."""
    if request is not None and hasattr(request, "session") and has_staff_role(user):
        _end_session_after_a_working_day(request, start=timezone.now())


def limit_session_if_staff(request) -> None:
    """For a view that just made the signed-in user staff (binding as an inspector): their
    session ends STAFF_SESSION_HOURS from now, or earlier if it was already limited."""
    if request.session.get(STAFF_SESSION_ENDS_KEY) or not has_staff_role(request.user):
        return
    _end_session_after_a_working_day(request, start=timezone.now())
