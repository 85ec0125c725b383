"""The audit trail: one append-only table of every sensitive read and every status change.

Rows are written only through ``audit.services``; the application never updates or deletes
them. On PostgreSQL a trigger enforces it (migration 0002): an UPDATE always fails, a DELETE
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

    @property
    def viewer_kind(self) -> str:
        """Who looked, as the person looked at is told: a kind of viewer from the read's
        action, never a name."""
        return str(VIEWER_KINDS.get(self.action, _("其他查询")))

    @property
    def action_label(self) -> str:
        """The action in words: a read's kind of viewer, a change's name (staff's lists)."""
        if self.kind == AuditKind.READ:
            return str(READ_LABELS.get(self.action) or self.viewer_kind)
        return str(CHANGE_LABELS.get(self.action, self.action))


# The actions every app records its reads of a person under, as kinds of viewer a resident
# can understand (records.selectors shows them; the admin lists them).
VIEWER_KINDS = {
    "inspector_scan": _("场所检查人员反向扫码"),
    "inspector_confirm": _("场所检查人员反向扫码"),
    "inspector_manual": _("场所检查人员手工登记"),
    "device": _("场所扫码设备"),
    "elder_lookup": _("老幼助查"),
    "proxy_scan": _("他人帮扫"),
    "family": _("绑定的家属（代办）"),
    "api_verify": _("卫生健康部门核验"),
    "admin": _("卫生健康部门工作人员"),
    "admin_search": _("卫生健康部门工作人员"),
    "officer_trace": _("卫生健康部门流调"),
    "officer_case_view": _("卫生健康部门流调"),
    "officer_trace_view": _("卫生健康部门流调"),
    "appeal_view": _("卫生健康部门处理申诉"),
    "venue_checkins_view": _("场所管理员查看到访登记"),
    "grid_alerts_view": _("社区网格员查看预警"),
}

# Reads of a list, not of one person: no subject, so never in a person's record.
READ_LABELS = {
    "venue_export": _("场所管理员导出登记记录"),
    "officer_export": _("卫生健康部门导出流调名单"),
}

CHANGE_LABELS = {
    "status_change": _("健康码状态变更"),
    "flag_create": _("新增风险标记"),
    "flag_end": _("结束风险标记"),
    "flag_correct": _("更正风险标记"),
    "trace_apply": _("流调赋码"),
    "application_approve": _("审批流调赋码"),
    "application_withdraw": _("撤销流调赋码"),
    "appeal_uphold": _("申诉成立"),
    "appeal_reject": _("申诉驳回"),
}
