from django.urls import path

from proxy_scan import views

app_name = "proxy_scan"

urlpatterns = [
    path("code/paper/", views.paper_page, name="paper"),
    path("code/paper.pdf", views.paper_pdf, name="paper-pdf"),
    path("code/paper/revoke/", views.paper_revoke, name="paper-revoke"),
    path("lookup/", views.elder_lookup_page, name="lookup"),
    path("lookup/r/<slug:key>", views.elder_lookup_result, name="lookup-result"),
    path("family/", views.family_page, name="family"),
    path("v/<str:code>/help/", views.proxy_scan_page, name="help"),
    path("family/<uuid:binding_id>/unbind", views.family_unbind, name="family-unbind"),
]
