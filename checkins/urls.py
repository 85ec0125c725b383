from django.urls import path

from checkins import views

app_name = "checkins"

urlpatterns = [
    path("v/<str:code>", views.venue_scan, name="scan"),
    path("checkin/<uuid:public_id>/", views.checkin_result, name="result"),
]
