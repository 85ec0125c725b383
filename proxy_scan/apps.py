from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProxyScanConfig(AppConfig):
    name = "proxy_scan"
    verbose_name = _("帮扫与老幼助查")
