from django.urls import path

from records import views

app_name = "records"

urlpatterns = [
    path("me/record/", views.record_page, name="record"),
]
