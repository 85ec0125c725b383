from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NucleicConfig(AppConfig):
    name = "nucleic"
    verbose_name = _("核酸检测")
