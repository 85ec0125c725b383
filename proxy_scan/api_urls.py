from django.urls import path

from proxy_scan import api

urlpatterns = [
    path("proxy-checkins", api.ProxyCheckinApi.as_view(), name="api-proxy-checkins"),
    path("me/family", api.FamilyApi.as_view(), name="api-me-family"),
    path("me/family/<uuid:binding_id>", api.FamilyMemberApi.as_view(), name="api-me-family-member"),
    path(
        "me/family/<uuid:binding_id>/code", api.FamilyCodeApi.as_view(), name="api-me-family-code"
    ),
]
