from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.services import audit_reads_once
from checkins import services
from checkins.models import Alert, CheckIn, GridWorker, Method
from checkins.selectors import (
    alerts_by_person,
    alerts_for_grid_worker,
    alerts_unacknowledged_count,
)
from healthcode.idnumbers import IdType
from healthcode.models import advice
from healthcode.selectors import resident_for_user
from healthcode.tokens import PROBLEM_MESSAGES
from venues import codes as venue_codes
from venues.selectors import (
    VenueCodeRefused,
    venue_from_code,
    venue_unusable_reason,
    venues_inspected_by,
)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def venue_scan(request, code: str):
    """The page a poster's QR opens. A GET never records anything: the page posts itself on
    load (with a button when JavaScript is off); the POST records and redirects to the result."""
    try:
        venue = venue_from_code(code)
    except VenueCodeRefused as exc:  # neutral grey, not a red code: the poster is at fault
        context = {"headline": _("场所码无效，请扫描现场最新场所码"), "message": exc.message}
        return render(request, "checkins/refused.html", context, status=404)
    unusable = venue_unusable_reason(venue)
    if unusable is not None:  # declared but not approved: its poster records nothing
        return render(request, "checkins/refused.html", {"message": unusable}, status=403)
    help_url = reverse("proxy_scan:help", args=[code])
    resident = resident_for_user(request.user)
    if resident is None:  # a staff account: switch account, or check someone else in
        context = {"venue": venue, "help_url": help_url}
        return render(request, "checkins/scan_no_resident.html", context)
    if request.method == "GET":
        return render(request, "checkins/scan.html", {"venue": venue, "help_url": help_url})
    checkin, _created = services.checkin_record(
        resident=resident, venue=venue, method=Method.SELF_SCAN
    )
    return redirect("checkins:result", public_id=checkin.public_id)


def venue_named_by(next_url: str):
    """The approved venue whose poster page ``next_url`` is (the log-in page names it), or
    None for any other address or a code that records nothing."""
    try:
        match = resolve(urlsplit(next_url or "").path)
    except Resolver404:
        return None
    if match.view_name not in ("checkins:scan", "proxy_scan:help"):
        return None
    try:
        venue = venue_from_code(match.kwargs.get("code", ""))
    except VenueCodeRefused:
        return None
    return venue if venue_unusable_reason(venue) is None else None


def _own_or_helped(request, public_id) -> CheckIn:
    """The check-in if it is the user's own or one they made for someone (帮扫); else 404."""
    checkin = get_object_or_404(
        CheckIn.objects.select_related("venue", "resident"), public_id=public_id
    )
    own = checkin.resident is not None and checkin.resident.user_id == request.user.pk
    helped = checkin.helper_id is not None and checkin.helper_id == request.user.pk
    if not (own or helped):
        raise Http404
    return checkin


@never_cache
@login_required
@require_GET
def checkin_result(request, public_id):
    """The result a person shows at the door: only the person who checked in may see it,
    and for a 帮扫 check-in the helper who made it (with 再帮一人 to go on)."""
    checkin = _own_or_helped(request, public_id)
    own = checkin.resident is not None and checkin.resident.user_id == request.user.pk
    helped = checkin.helper_id is not None and checkin.helper_id == request.user.pk
    venue = checkin.venue
    # The reasons (which red or yellow list) are the person's own health data: shown to
    # them and to a family holder who checked them in from their bound members, not to a
    # companion who only knew a name and a number (they see the colour and the decision).
    show_reasons = own or checkin.method == Method.PROXY_FAMILY
    context = {
        "checkin": checkin,
        # How long ago the sample was taken when the person checked in (what the door saw).
        "test_line": checkin.test_line,
        "helped": helped,
        "show_reasons": show_reasons,
        "advice": advice(checkin.colour, checkin.reasons) if show_reasons else "",
        "help_url": reverse(
            "proxy_scan:help",
            args=[venue_codes.make(public_id=venue.public_id, version=venue.poster_version)],
        ),
    }
    return render(request, "checkins/result.html", context)


@login_required
@require_POST
def checkin_leave(request, public_id):
    """离开 on the result page: the person (or the helper who checked them in) ends the stay
    now, explicitly; back to the result page, which then says when."""
    checkin = _own_or_helped(request, public_id)
    services.checkin_checkout(checkin=checkin)
    return redirect("checkins:result", public_id=checkin.public_id)


@never_cache
@login_required
@require_GET
def inspect_page(request):
    """The inspector's reverse scan (反向扫码) at the door."""
    bound = venues_inspected_by(user=request.user)
    venues = [venue for venue in bound if venue.is_approved]
    unusable = [(venue, venue_unusable_reason(venue)) for venue in bound if not venue.is_approved]
    js_text = {
        "failed": _("核验失败"),
        "invalid": _("无效码"),
        "network": _("网络异常，请检查网络后重试"),
        "empty": _("请先扫码，或粘贴健康码内容"),
        "scanned": _("扫到的内容："),
        "recorded": _("已登记："),
        "fever": _("体温异常（≥37.3℃）"),
        "confirm_pass": _("确认放行"),
        "confirm_stop": _("确认拦截"),
        "pass": _("可以通行"),
        "stop": _("禁止通行"),
        "camera_open": _("打开摄像头扫码"),
        "camera_close": _("关闭摄像头"),
        "no_camera": _("此浏览器无法使用摄像头，请粘贴或输入"),
        "camera_failed": _("无法打开摄像头，请粘贴或输入"),
        "vaccination": _("新冠疫苗："),
    }
    context = {"venues": venues, "unusable": unusable, "id_types": IdType.choices}
    return render(
        request,
        "checkins/inspect.html",
        {**context, "js_text": js_text, "offline_text": offline_text()},
    )


def offline_text() -> dict:
    """What static/js/offline-verify.js says when it checks a code without network: the
    server's own words for a refused token, and the door decision of engine.entry_decision."""
    return {
        "problems": {problem.value: str(message) for problem, message in PROBLEM_MESSAGES.items()},
        "paper": _("离线时无法核验纸质码，请联网后核验。"),
        "no_keys": _("本机没有核验密钥（从未联网打开本页），无法离线核验，请联网后核验。"),
        "no_crypto": _("此浏览器不支持离线核验，请联网后核验。"),
        "banner": _("离线核验"),
        "age": _("状态签发于 %(age)s前，联网后以实时状态为准"),
        "minutes": _("%(m)s 分 %(s)s 秒"),
        "seconds": _("%(s)s 秒"),
        "colours": {"green": _("绿码"), "yellow": _("黄码"), "red": _("红码")},
        "tests": {
            "none": _("暂无核酸检测记录"),
            "negative": _("核酸阴性"),
            "pending": _("已采样，待出结果"),
            "expired": _("核酸已过期"),
            "positive": _("核酸阳性"),
            "invalid": _("核酸结果无效"),
        },
        "valid_until": _("有效至 %(time)s"),
        "decisions": {
            "red": _("红码，禁止通行"),
            "yellow": _("黄码，禁止通行"),
            "no_test": _("暂无核酸检测记录，禁止通行"),
            "test_overdue": _("核酸超时（要求 %(hours)s 小时内），禁止通行"),
            "test_overdue_policy": _("核酸超时，禁止通行"),
            "vaccination_unknown": _("本场所要求接种疫苗，离线无法核验接种记录，联网后再核验"),
            "pass": _("绿码，可以通行"),
        },
        "queued": _("离线已记录，联网后自动上传：%(name)s · %(decision)s"),
        "pending": _("待上传的离线记录：%(count)s 条"),
        "sent": _("离线记录已全部上传"),
        "dropped": _("一条离线记录未被接受：%(reason)s"),
    }


ALERTS_SHOWN = 200  # the latest alerts on the page; the count at the top counts them all


@never_cache
@login_required
@require_GET
def alerts_page(request):
    """A community grid worker's alerts (red, yellow, fever, overdue test) for their area."""
    grid_worker = GridWorker.objects.filter(user=request.user).first()
    if grid_worker is None:
        raise Http404
    people = alerts_by_person(grid_worker=grid_worker, limit=ALERTS_SHOWN)
    audit_reads_once(
        action="grid_alerts_view",
        actor=request.user,
        subject_ids=[person.resident_id for person in people],
        detail={"grid_worker": grid_worker.pk},
    )
    context = {
        "grid_worker": grid_worker,
        "unacknowledged": alerts_unacknowledged_count(grid_worker=grid_worker),
        "people": people,
        "limit": ALERTS_SHOWN,
    }
    return render(request, "checkins/alerts.html", context)


@login_required
@require_POST
def alert_acknowledge(request, alert_id: int):
    """The venue's administrator or a grid worker of the person's area marks it handled."""
    alert = get_object_or_404(Alert.objects.select_related("venue"), pk=alert_id)
    grid_worker = GridWorker.objects.filter(user=request.user).first()
    allowed = alert.venue.administrator_id == request.user.pk or (
        grid_worker is not None and grid_worker.covers(alert.region_code)
    )
    if not allowed:
        raise Http404
    services.alert_acknowledge(alert=alert, user=request.user)
    # Only a path on this site: a crafted ``next`` must not send the worker elsewhere.
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "checkins:alerts"
    return redirect(next_url)


@login_required
@require_POST
def alert_acknowledge_person(request, alert_id: int):
    """A grid worker marks all of one person's unacknowledged alerts handled; the person is
    named by one of their alerts, which must be in this grid worker's regions."""
    grid_worker = GridWorker.objects.filter(user=request.user).first()
    if grid_worker is None:
        raise Http404
    alert = get_object_or_404(alerts_for_grid_worker(grid_worker=grid_worker), pk=alert_id)
    count = services.alerts_acknowledge_person(
        grid_worker=grid_worker, alert=alert, user=request.user
    )
    messages.success(request, _("已将 %(count)d 条预警标记为已处理。") % {"count": count})
    return redirect("checkins:alerts")
