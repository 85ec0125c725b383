"""JSON of the resident's own record: GET /api/v1/me/record, and a bound member's at
/api/v1/me/family/<id>/record. The same reads as the page (``records.selectors``)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from healthcode.errors import DomainError
from proxy_scan.selectors import family_binding_for
from proxy_scan.services import family_code_viewed
from records.selectors import record_of


class RecordReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()
    colour = serializers.CharField()
    source = serializers.CharField()
    detail = serializers.CharField()
    since = serializers.DateTimeField(allow_null=True)
    until = serializers.DateTimeField(allow_null=True)


class ChangeSerializer(serializers.Serializer):
    changed_at = serializers.DateTimeField()
    old_colour = serializers.CharField()
    old_colour_label = serializers.CharField(source="old_label")
    new_colour = serializers.CharField()
    new_colour_label = serializers.CharField(source="new_label")
    cause = serializers.CharField()
    reasons = RecordReasonSerializer(many=True)


class LookupSerializer(serializers.Serializer):
    looked_up_at = serializers.DateTimeField()
    viewer_kind = serializers.CharField()
    venue = serializers.CharField(source="venue_name")


class VisitSerializer(serializers.Serializer):
    checked_in_at = serializers.DateTimeField()
    venue = serializers.CharField(source="venue_name")
    method = serializers.CharField()
    method_label = serializers.CharField()
    colour = serializers.CharField()
    colour_label = serializers.CharField()
    decision = serializers.CharField(source="decision_label")
    passed = serializers.BooleanField()
    helper = serializers.CharField()
    left_at = serializers.DateTimeField()
    left_how = serializers.CharField()
    left_how_label = serializers.CharField()


class HolderSerializer(serializers.Serializer):
    name = serializers.CharField()
    relationship = serializers.CharField()
    relationship_label = serializers.CharField()
    bound_at = serializers.DateTimeField()
    unbound_at = serializers.DateTimeField(allow_null=True)


class RecordSerializer(serializers.Serializer):
    name = serializers.CharField(source="resident.masked_name")
    id_number = serializers.CharField(source="resident.masked_id_number")
    changes = ChangeSerializer(many=True)
    lookups = LookupSerializer(many=True)
    checkins_since = serializers.DateTimeField(source="since")
    checkins = VisitSerializer(many=True, source="visits")
    holders = HolderSerializer(many=True)


def _own(request):
    resident = getattr(request.user, "resident", None)
    if resident is None:
        raise DomainError(_("该账号没有登记居民信息。"), code="no_resident", status=404)
    return resident


def _record_response(resident) -> Response:
    response = Response(RecordSerializer(record_of(resident=resident, now=timezone.now())).data)
    response["Cache-Control"] = "no-store"
    return response


class MyRecordApi(APIView):
    """My colour changes with the facts behind them, every lookup of me (a kind of viewer and
    a venue, never a name), my check-ins of the last 28 days, and who holds my code."""

    @extend_schema(responses={200: RecordSerializer})
    def get(self, request):
        return _record_response(_own(request))


OWN_ACCOUNT = _lazy("该家庭成员有自己的账号，记录仅本人可查看。")


class FamilyRecordApi(APIView):
    """The same record for one of my bound family members without a log-in of their own
    (an adult with an account keeps their record: 403); recorded as a lookup of them."""

    @extend_schema(responses={200: RecordSerializer})
    def get(self, request, binding_id):
        binding = family_binding_for(holder=_own(request), binding_id=binding_id)
        if binding is None:
            raise DomainError(_("未找到该家庭成员。"), code="not_found", status=404)
        if binding.member.has_login:
            raise DomainError(OWN_ACCOUNT, code="own_account", status=403)
        family_code_viewed(binding=binding)
        return _record_response(binding.member)
