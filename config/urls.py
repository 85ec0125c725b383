from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from checkins.views import venue_named_by
from config import errors
from healthcode.forms import PhoneLoginForm
from healthcode.service_worker import service_worker


class LoginView(auth_views.LoginView):
    """Log-in by phone; after a poster's QR (``next`` is its page) the page names the venue,
    and logging in returns there."""

    authentication_form = PhoneLoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["scan_venue"] = venue_named_by(context.get("next", ""))
        return context


def healthz(request):
    """Liveness for load balancers and compose; touches nothing, so it is also the bare
    baseline of the load benchmark."""
    return JsonResponse({"ok": True})


admin.site.site_header = _("健康码平台管理后台")
admin.site.site_title = _("健康码管理")
admin.site.index_title = _("数据管理")

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # At the root, so that the code page's service worker may control /code/ (docs/offline.md).
    path("sw.js", service_worker, name="service-worker"),
    path("", RedirectView.as_view(pattern_name="healthcode:code", permanent=False)),
    path(
        "login/",
        LoginView.as_view(),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("healthcode.urls")),
    path("", include("checkins.urls")),
    path("", include("venues.urls")),
    path("", include("proxy_scan.urls")),
    path("", include("records.urls")),
    path("", include("tracing.urls")),
    path("", include("appeals.urls")),
    path("api/v1/", include("healthcode.api_urls")),
    path("api/v1/", include("nucleic.api_urls")),
    path("api/v1/", include("checkins.api_urls")),
    path("api/v1/", include("proxy_scan.api_urls")),
    path("api/v1/", include("records.api_urls")),
    path("api/v1/", include("appeals.api_urls")),
    path("api/v1/", include("vaccination.api_urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path(
        "api/v1/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    # Any other /api/ address is a JSON 404, with DEBUG on too (not Django's HTML page).
    re_path(r"^api/", errors.page_not_found),
    path("admin/", admin.site.urls),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
