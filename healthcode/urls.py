from django.urls import path

from healthcode import views

app_name = "healthcode"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("regions.json", views.regions_json, name="regions"),
    path("code/", views.code_page, name="code"),
    path("code/qr.png", views.code_qr_png, name="code-qr"),
    path("code/care-mode/", views.care_mode_toggle, name="care-mode"),
    path("officer/risk-flags/", views.risk_flags_import_page, name="risk-flags-import"),
]
