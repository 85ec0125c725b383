"""The audit trail: one append-only table of every sensitive read and every status change.

Rows are written only through ``audit.services``; the application never updates or deletes
them. On PostgreSQL a trigger enforces it (migration 0001): an UPDATE always fails, a DELETE
fails unless the row is older than ``AUDIT_DELETE_FLOOR_DAYS`` — only retention, past the
trail's own period (``AUDIT_RETENTION_DAYS``, which may not be shorter), removes rows.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The trigger refuses to delete rows younger than this, whatever the application asks; the
# setting AUDIT_RETENTION_DAYS may not be shorter (config/settings.py's minimum). Changing it
# needs a migration, which is the point.
AUDIT_DELETE_FLOOR_DAYS = 90


class AuditKind(models.TextChoices):
    READ = "read", _("查询")
    CHANGE = "change", _("变更")


class ActorRole(models.TextChoices):
    RESIDENT = "resident", _("居民")
    INSPECTOR = "inspector", _("场所检查人员")
    VENUE_ADMIN = "venue_admin", _("场所管理员")
    OFFICER = "officer", _("卫生健康部门")
    GRID_WORKER = "grid_worker", _("社区网格员")
    STAFF = "staff", _("系统管理员")
    MACHINE = "machine", _("设备或接口")
    SYSTEM = "system", _("系统自动")


class AuditEvent(models.Model):
    """Who (a user with a role, or a machine, or the system), did what, to whom, when, where
    and why. ``detail`` holds primary keys and codes, never a name, ID number or phone."""

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    kind = models.CharField(_("类别"), max_length=8, choices=AuditKind.choices)
    action = models.CharField(_("事项"), max_length=48, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("操作人"),
        null=True,
        blank=True,
    )
    machine = models.CharField(_("设备或接口"), max_length=100, blank=True)
    role = models.CharField(_("身份"), max_length=16, choices=ActorRole.choices)
    venue_name = models.CharField(_("场所"), max_length=100, blank=True)
    subject = models.ForeignKey(
        "healthcode.Resident",
        on_delete=models.PROTECT,
        related_name="audit_events",
        verbose_name=_("涉及居民"),
        null=True,
        blank=True,
    )
    # Someone looked up who matches no resident (手工登记): kept masked, never in full.
    subject_masked_id = models.CharField(_("涉及证件号码（脱敏）"), max_length=32, blank=True)
    reason = models.CharField(_("原因"), max_length=500, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["subject", "kind", "-at"], name="audit_subject_kind_at")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(actor__isnull=False)
                | ~models.Q(machine="")
                | models.Q(role="system"),
                name="audit_has_an_actor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"
