from django.urls import path

from appeals import views

app_name = "appeals"

urlpatterns = [
    path("me/appeals/", views.my_appeals, name="mine"),
    path("me/appeals/new", views.appeal_new, name="new"),
    path("appeals/<uuid:public_id>/photo", views.appeal_photo, name="photo"),
    path("officer/appeals/", views.queue, name="queue"),
    path("officer/appeals/<uuid:public_id>/", views.detail, name="detail"),
    path("officer/appeals/<uuid:public_id>/uphold", views.uphold, name="uphold"),
    path("officer/appeals/<uuid:public_id>/reject", views.reject, name="reject"),
]
