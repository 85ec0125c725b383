from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProxyScanConfig(AppConfig):
    name = "proxy_scan"
    verbose_name = _("帮扫与老幼助查")

    def ready(self) -> None:
        from healthcode import shown_codes
        from proxy_scan.codes import family_codes

        # The holder's code page switches to bound members' codes (healthcode cannot import us).
        shown_codes.register(family_codes)
