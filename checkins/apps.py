from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class CheckinsConfig(AppConfig):
    name = "checkins"
    verbose_name = _("扫码登记")

    def ready(self):
        from checkins import selectors
        from checkins.models import Device
        from venues.models import Venue

        # The door's row cache: a revoked device, or its venue changed, is seen at once.
        def device_changed(sender, instance, **kwargs):
            selectors.forget_devices([instance.key_hash])

        def venue_changed(sender, instance, **kwargs):
            hashes = Device.objects.filter(venue_id=instance.pk).values_list("key_hash", flat=True)
            selectors.forget_devices(list(hashes))

        for signal in (post_save, post_delete):
            signal.connect(
                device_changed, sender=Device, dispatch_uid=f"device-cache-{signal}", weak=False
            )
        post_save.connect(
            venue_changed, sender=Venue, dispatch_uid="device-cache-venue", weak=False
        )
