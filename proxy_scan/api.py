"""JSON API for family members (代办), mounted under /api/v1/me/family."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from healthcode.api import MyCodeApi, ReasonSerializer, TestSerializer, my_code_response, test_out
from healthcode.errors import DomainError
from healthcode.idnumbers import IdType
from healthcode.selectors import ensure_current
from proxy_scan import services
from proxy_scan.models import Relationship
from proxy_scan.selectors import family_binding_for, family_members_of


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
