"""JSON for the resident's appeals: GET /api/v1/me/appeals (mine, newest first) and POST
(multipart: ``fact``, ``text``, optional ``photo``). The same services as the pages."""

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from appeals import selectors, services
from appeals.models import TEXT_MAX, Appeal
from healthcode.errors import DomainError


class AppealInSerializer(serializers.Serializer):
    fact = serializers.CharField(
        max_length=64, help_text="要申诉的原因所依据的事实，即健康码原因中的 fact（如 flag:7）。"
    )
    # Length and blankness are the service's to judge, with the page's messages.
    text = serializers.CharField(
        allow_blank=True, trim_whitespace=False, help_text=f"申诉理由，最多 {TEXT_MAX} 字。"
    )
    photo = serializers.FileField(
        required=False, help_text="可选照片：JPG、PNG 或 WebP，不超过 APPEAL_PHOTO_MAX_BYTES。"
    )


class AppealOutSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    number = serializers.IntegerField(source="pk")
    fact = serializers.CharField()
    kind = serializers.CharField()
    reason_code = serializers.CharField()
    reason_text = serializers.CharField()
    text = serializers.CharField()
    photo_url = serializers.SerializerMethodField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    answer = serializers.CharField()

    def get_photo_url(self, appeal: Appeal) -> str | None:
        return reverse("appeals:photo", args=[appeal.public_id]) if appeal.photo else None


def _own(request):
    resident = getattr(request.user, "resident", None)
    if resident is None:
        raise DomainError(_("该账号没有登记居民信息。"), code="no_resident", status=404)
    return resident


class MyAppealsApi(APIView):
    """My appeals with their answers; POST appeals one reason of my code now."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses={200: AppealOutSerializer(many=True)})
    def get(self, request):
        appeals = selectors.appeals_of(resident=_own(request))
        return Response(AppealOutSerializer(appeals, many=True).data)

    @extend_schema(request=AppealInSerializer, responses={201: AppealOutSerializer})
    def post(self, request):
        resident = _own(request)
        data = AppealInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = services.appeal_submit(resident=resident, **data.validated_data)
        return Response(AppealOutSerializer(appeal).data, status=status.HTTP_201_CREATED)
