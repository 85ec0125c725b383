import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Relationship(models.TextChoices):
    """The member as seen from the holder: ``parent`` means the member is the holder's parent."""

    PARENT = "parent", _("父母")
    CHILD = "child", _("子女")
    SPOUSE = "spouse", _("配偶")
    GRANDPARENT = "grandparent", _("祖父母/外祖父母")
    GRANDCHILD = "grandchild", _("孙子女/外孙子女")
    OTHER = "other", _("其他")


class FamilyBinding(models.Model):
    """A holder (a resident with a log-in) shows and uses a family member's health code (代办).

    Never deleted: unbinding stamps ``unbound_at``/``unbound_by``, so the member's history
    keeps who held their code and when. One active binding per holder and member; at most
    ``services.MAX_MEMBERS`` active members per holder (counted under a lock on the holder).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    holder = models.ForeignKey(
        "healthcode.Resident",
        on_delete=models.PROTECT,
        related_name="family_bindings",
        verbose_name=_("代办人"),
    )
    member = models.ForeignKey(
        "healthcode.Resident",
        on_delete=models.PROTECT,
        related_name="held_by_bindings",
        verbose_name=_("家庭成员"),
    )
    relationship = models.CharField(_("关系"), max_length=16, choices=Relationship.choices)
    bound_at = models.DateTimeField(_("绑定时间"), default=timezone.now)
    unbound_at = models.DateTimeField(_("解绑时间"), null=True, blank=True)
    unbound_by = models.ForeignKey(
        "healthcode.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("解绑人"),
    )

    class Meta:
        verbose_name = _("家庭成员绑定")
        verbose_name_plural = _("家庭成员绑定")
        ordering = ["bound_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["holder", "member"],
                condition=models.Q(unbound_at__isnull=True),
                name="family_one_active_binding",
            ),
            models.CheckConstraint(
                condition=~models.Q(holder=models.F("member")), name="family_not_oneself"
            ),
            models.CheckConstraint(
                condition=models.Q(unbound_at__isnull=True)
                | models.Q(unbound_at__gte=models.F("bound_at")),
                name="family_unbound_after_bound",
            ),
            models.CheckConstraint(
                condition=models.Q(unbound_at__isnull=False) | models.Q(unbound_by__isnull=True),
                name="family_unbound_by_only_when_unbound",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.holder} → {self.member} ({self.get_relationship_display()})"

    @property
    def is_active(self) -> bool:
        return self.unbound_at is None
