from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HealthcodeConfig(AppConfig):
    name = "healthcode"
    verbose_name = _("健康码")
