from django.urls import path

from proxy_scan import views

app_name = "proxy_scan"

urlpatterns = [
    path("family/", views.family_page, name="family"),
    path("family/<uuid:binding_id>/unbind", views.family_unbind, name="family-unbind"),
]
