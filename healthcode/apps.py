from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HealthcodeConfig(AppConfig):
    name = "healthcode"
    verbose_name = _("健康码")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_delete, post_save

        from healthcode import lookups, usercache
        from healthcode.models import User
        from healthcode.roles import staff_session_on_log_in

        lookups.register()
        user_logged_in.connect(staff_session_on_log_in, dispatch_uid="staff_session_on_log_in")

        def forget_account(sender, instance, **kwargs):
            usercache.forget_account(instance.pk)

        post_save.connect(
            forget_account, sender=User, weak=False, dispatch_uid="forget_account_saved"
        )
        post_delete.connect(
            forget_account, sender=User, weak=False, dispatch_uid="forget_account_deleted"
        )
