"""JSON API for family members (代办), under /api/v1/me/family, and 帮扫 at
/api/v1/proxy-checkins."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from checkins.api import PersonStatusSerializer, vaccination_out
from healthcode import masking
from healthcode.api import MyCodeApi, ReasonSerializer, TestSerializer, my_code_response, test_out
from healthcode.errors import DomainError
from healthcode.idnumbers import IdType
from healthcode.selectors import ensure_current
from proxy_scan import services
from proxy_scan.models import Relationship
from proxy_scan.selectors import family_binding_for, family_members_of
from vaccination.selectors import Vaccination
from venues.selectors import VenueCodeRefused, venue_from_code


def _holder(request):
    resident = getattr(request.user, "resident", None)
    if resident is None:
        raise DomainError(_("该账号没有登记居民信息。"), code="no_resident", status=404)
    return resident


def _binding_or_404(request, binding_id):
    binding = family_binding_for(holder=_holder(request), binding_id=binding_id)
    if binding is None:  # another holder's, ended, or never: the same answer
        raise DomainError(_("未找到该家庭成员。"), code="not_found", status=404)
    return binding


class CodeSummarySerializer(serializers.Serializer):
    colour = serializers.CharField()
    colour_label = serializers.CharField()
    reasons = ReasonSerializer(many=True)
    test = TestSerializer()
    computed_at = serializers.DateTimeField()


class MemberSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    relationship = serializers.CharField()
    relationship_label = serializers.CharField(source="get_relationship_display")
    name = serializers.CharField(source="member.masked_name")
    id_type = serializers.CharField(source="member.id_type")
    id_number = serializers.CharField(source="member.masked_id_number")
    has_login = serializers.BooleanField(source="member.has_login")
    bound_at = serializers.DateTimeField()
    code = serializers.SerializerMethodField()

    @extend_schema(responses=CodeSummarySerializer)
    def get_code(self, binding) -> dict:
        code = ensure_current(binding.member.health_code)
        return CodeSummarySerializer(
            {
                "colour": code.colour,
                "colour_label": code.get_colour_display(),
                "reasons": code.reasons,
                "test": test_out(code),
                "computed_at": code.computed_at,
            }
        ).data


class FamilyApi(APIView):
    """The signed-in resident's bound family members (masked) and binding a new one."""

    class BindInputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=64)
        id_type = serializers.ChoiceField(choices=IdType.choices)
        id_number = serializers.CharField(max_length=40)
        relationship = serializers.ChoiceField(
            choices=Relationship.choices,
            error_messages={"invalid_choice": _("请选择与您的关系。")},
        )

    @extend_schema(responses={200: MemberSerializer(many=True)})
    def get(self, request):
        members = family_members_of(holder=_holder(request))
        response = Response(MemberSerializer(members, many=True).data)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(request=BindInputSerializer, responses={201: MemberSerializer})
    def post(self, request):
        holder = _holder(request)
        data = self.BindInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        binding = services.family_member_bind(holder=holder, **data.validated_data)
        return Response(MemberSerializer(binding).data, status=status.HTTP_201_CREATED)


class FamilyMemberApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, binding_id):
        services.family_member_unbind(holder=_holder(request), binding_id=binding_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FamilyCodeApi(APIView):
    """Like /api/v1/me/code, for one of my bound members: a fresh token included. Each
    viewing is recorded as a lookup of the member (once per token lifetime)."""

    @extend_schema(responses={200: MyCodeApi.MyCodeOutputSerializer})
    def get(self, request, binding_id):
        binding = _binding_or_404(request, binding_id)
        services.family_code_viewed(binding=binding)
        return my_code_response(ensure_current(binding.member.health_code))


class ProxyCheckinResultSerializer(PersonStatusSerializer):
    reasons = ReasonSerializer(many=True, required=False)


class ProxyCheckinApi(APIView):
    """帮扫: check someone else in at the venue a poster's code names, one of four ways —
    ``id_card`` (name + ID number), ``citizen_card`` (name + 市民卡 number), ``paper_code``
    (the paper code's text, as scanned), ``family`` (one of my bound members' id). The
    check-in is that person's, with me recorded as the helper. The answer is their masked
    identity, colour, test line and decision; the reasons only for a bound member (a
    companion who knew a name and a number is not told which list the person is on).
    信息不符 never says which part is wrong; nothing is recorded on any refusal."""

    class ProxyCheckinInputSerializer(serializers.Serializer):
        venue_code = serializers.CharField(max_length=300)
        way = serializers.ChoiceField(
            choices=services.ProxyWay.choices,
            error_messages={"invalid_choice": _("请选择帮扫方式。")},
        )
        name = serializers.CharField(max_length=64, required=False, default="")
        id_number = serializers.CharField(max_length=40, required=False, default="")
        citizen_card = serializers.CharField(max_length=40, required=False, default="")
        token = serializers.CharField(max_length=2000, required=False, default="")
        binding_id = serializers.CharField(max_length=64, required=False, default="")

    @extend_schema(
        request=ProxyCheckinInputSerializer, responses={201: ProxyCheckinResultSerializer}
    )
    def post(self, request):
        data = self.ProxyCheckinInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attrs = dict(data.validated_data)
        try:
            venue = venue_from_code(attrs.pop("venue_code"))
        except VenueCodeRefused as exc:
            raise DomainError(exc.message, field="venue_code", status=404) from None
        checkin = services.proxy_checkin(helper=request.user, venue=venue, **attrs)
        person = checkin.resident
        out = {
            "name": person.masked_name,
            "id_number": masking.mask_id_number(person.id_number),
            "colour": checkin.colour,
            "colour_label": checkin.get_colour_display(),
            "test_line": checkin.test_line,
            "passed": checkin.passed,
            "decision": checkin.decision_text,
            "vaccination": vaccination_out(Vaccination.from_stored(checkin.vaccination)),
            "checkin_id": checkin.public_id,
        }
        if attrs["way"] == services.ProxyWay.FAMILY:
            out["reasons"] = checkin.reasons
        return Response(ProxyCheckinResultSerializer(out).data, status=status.HTTP_201_CREATED)
