"""App configs the project adjusts: names shown in the admin, in Chinese (issue 11)."""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _


class AxesConfig(AxesAppConfig):
    """django-axes (log-in lockout), named in Chinese in the admin; everything else as is.
    Its column and filter labels are translated in locale/zh_Hans."""

    verbose_name = _("登录防护")
