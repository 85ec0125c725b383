from django.urls import path

from tracing import views

app_name = "tracing"

urlpatterns = [
    path("officer/", views.workbench, name="workbench"),
    path("officer/cases/new/", views.case_new, name="case-new"),
    path("officer/cases/<uuid:public_id>/", views.case_page, name="case"),
    path("officer/traces/<uuid:public_id>/", views.trace_page, name="trace"),
    path("officer/traces/<uuid:public_id>/apply", views.trace_apply, name="apply"),
    path("officer/traces/<uuid:public_id>/contacts.csv", views.trace_export, name="export"),
    path(
        "officer/applications/<int:application_id>/approve",
        views.application_approve,
        name="approve",
    ),
    path(
        "officer/applications/<int:application_id>/withdraw",
        views.application_withdraw,
        name="withdraw",
    ),
]
