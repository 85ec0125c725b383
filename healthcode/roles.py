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
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

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


# --- The navigation: what this account can open, by its roles ---------------------------------


def roles_of(user) -> frozenset[str]:
    """The roles the navigation shows links for, in one query (reverse relations, so no other
    app is imported): ``resident`` (has a resident record), ``venue_admin``, ``inspector``,
    ``grid_worker``, ``officer``."""
    if not user.is_authenticated:
        return frozenset()
    relations = {
        "resident": "resident__id",
        "venue_admin": "administered_venue__id",
        "inspector": "inspected_venues__id",
        "grid_worker": "grid_worker__id",
        "officer": "health_officer__id",
    }
    # Any one joined row will do: a non-null id in it means the relation exists.
    row = (
        get_user_model().objects.filter(pk=user.pk).values_list(*relations.values()).order_by()[:1]
    )
    found = next(iter(row), None) or ()
    return frozenset(name for name, pk in zip(relations, found, strict=False) if pk is not None)


@dataclass(frozen=True)
class NavLink:
    url: str
    label: str
    current: bool


# (URL name, label, the roles that see it; None: residents and accounts with no role yet —
# a staff account without a resident record has no code of its own to show)
NAVIGATION = (
    ("healthcode:code", _("我的健康码"), None),
    ("venues:home", _("我的场所"), {"venue_admin"}),
    ("checkins:inspect", _("反向扫码"), {"inspector"}),
    ("venues:bind", _("绑定场所"), {"inspector", "venue_admin"}),
    ("checkins:alerts", _("预警"), {"grid_worker"}),
    ("tracing:workbench", _("流调工作台"), {"officer"}),
    ("venues:officer-queue", _("场所审核"), {"officer"}),
    ("appeals:queue", _("申诉处理"), {"officer"}),
)


def navigation(request) -> list[NavLink]:
    """The links of the top navigation for the signed-in account; the current page's marked."""
    user = getattr(request, "user", None)  # absent on errors raised before the middleware
    if user is None or not user.is_authenticated:
        return []
    roles = roles_of(user)
    links = []
    for name, label, needs in NAVIGATION:
        if (needs is None and (not roles or "resident" in roles)) or (needs and needs & roles):
            url = reverse(name)
            links.append(NavLink(url=url, label=str(label), current=request.path == url))
    return links


def navigation_context(request) -> dict:
    """Template context processor: ``nav_links``, computed only if a template uses it."""
    return {"nav_links": SimpleLazyObject(lambda: navigation(request))}
