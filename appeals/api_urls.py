from django.urls import path

from appeals import api

urlpatterns = [
    path("me/appeals", api.MyAppealsApi.as_view(), name="api-me-appeals"),
]
