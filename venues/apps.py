from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class VenuesConfig(AppConfig):
    name = "venues"
    verbose_name = _("场所码")

    def ready(self):
        from venues import selectors
        from venues.models import Venue, VenueInspector

        # The door's row cache: a changed venue or binding is seen by the next scan.
        def venue_changed(sender, instance, **kwargs):
            selectors.forget_venue(instance)

        def binding_changed(sender, instance, **kwargs):
            selectors.forget_binding(instance)

        for signal in (post_save, post_delete):
            uid = f"door-row-cache-{signal}"
            signal.connect(venue_changed, sender=Venue, dispatch_uid=f"venue-{uid}", weak=False)
            signal.connect(
                binding_changed, sender=VenueInspector, dispatch_uid=f"bind-{uid}", weak=False
            )
