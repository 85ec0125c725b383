from django.urls import path

from healthcode import api

urlpatterns = [
    path("residents", api.RegisterApi.as_view(), name="api-residents"),
    path("auth/token", api.TokenLoginApi.as_view(), name="api-token"),
    path("me/code", api.MyCodeApi.as_view(), name="api-me-code"),
    path("keys", api.AssertionKeysApi.as_view(), name="api-keys"),
    path("codes/verify", api.VerifyCodeApi.as_view(), name="api-codes-verify"),
    path("me/itinerary", api.ItineraryApi.as_view(), name="api-me-itinerary"),
    path("health/risk-flags", api.RiskFlagImportApi.as_view(), name="api-risk-flags"),
]
