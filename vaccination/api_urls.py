from django.urls import path

from vaccination import api

urlpatterns = [
    path("vaccination/doses", api.DosesUploadApi.as_view(), name="api-vaccination-doses"),
    path("vaccination/batches", api.DoseBatchListApi.as_view(), name="api-vaccination-batches"),
    path(
        "vaccination/batches/<int:pk>",
        api.DoseBatchDetailApi.as_view(),
        name="api-vaccination-batch",
    ),
]
