from django.urls import path

from records import api

urlpatterns = [
    path("me/record", api.MyRecordApi.as_view(), name="api-me-record"),
    path(
        "me/family/<uuid:binding_id>/record",
        api.FamilyRecordApi.as_view(),
        name="api-me-family-record",
    ),
]
