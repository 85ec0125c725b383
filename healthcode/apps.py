from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HealthcodeConfig(AppConfig):
    name = "healthcode"
    verbose_name = _("健康码")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from healthcode import lookups
        from healthcode.roles import staff_session_on_log_in

        lookups.register()
        user_logged_in.connect(staff_session_on_log_in, dispatch_uid="staff_session_on_log_in")
