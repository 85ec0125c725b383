from django.urls import path

from nucleic import api

urlpatterns = [
    path("nucleic/results", api.ResultsUploadApi.as_view(), name="api-nucleic-results"),
    path("nucleic/batches", api.BatchListApi.as_view(), name="api-nucleic-batches"),
    path("nucleic/batches/<int:pk>", api.BatchDetailApi.as_view(), name="api-nucleic-batch"),
    path("health/policies", api.PolicyApi.as_view(), name="api-policies"),
]
