from django.urls import path

from proxy_scan import views

app_name = "proxy_scan"

urlpatterns = [
    path("lookup/", views.elder_lookup_page, name="lookup"),
    path("lookup/r/<slug:key>", views.elder_lookup_result, name="lookup-result"),
]
