from django.urls import path

from checkins import api

urlpatterns = [
    path("inspect/verify", api.InspectVerifyApi.as_view(), name="api-inspect-verify"),
    path("inspect/confirm", api.InspectConfirmApi.as_view(), name="api-inspect-confirm"),
    path("inspect/checkout", api.InspectCheckoutApi.as_view(), name="api-inspect-checkout"),
    path("inspect/manual", api.InspectManualApi.as_view(), name="api-inspect-manual"),
    path("devices/verify", api.DeviceVerifyApi.as_view(), name="api-devices-verify"),
    path("devices/checkout", api.DeviceCheckoutApi.as_view(), name="api-devices-checkout"),
]
