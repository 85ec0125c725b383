"""Lab API: upload results in batches, read back your own batches."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from healthcode.api import model_permission
from healthcode.apikeys import HasKey
from healthcode.uploads import RAW_PARSERS, records_from_request
from nucleic import services
from nucleic.auth import LabTokenAuthentication
from nucleic.models import ResultBatch, TestPolicy

RECORD_FIELDS = "barcode, id_type, id_number, name, sampled_at, reported_at, result"


class BatchOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ResultBatch
        fields = ResultBatch.REPORT_FIELDS


class ResultsUploadApi(APIView):
    """Upload up to 10,000 records as JSON ``{"records": [...]}`` or CSV (UTF-8/BOM/GBK)
    with the columns ``barcode, id_type, id_number, name, sampled_at, reported_at, result``."""

    authentication_classes = [LabTokenAuthentication]
    permission_classes = [HasKey]
    parser_classes = RAW_PARSERS  # the body is read raw: JSON or CSV

    @extend_schema(
        request={
            "application/json": inline_serializer(
                "ResultRecords", {"records": serializers.ListField(child=serializers.DictField())}
            ),
            "text/csv": {"type": "string", "description": RECORD_FIELDS},
        },
        responses={200: BatchOutputSerializer},
        examples=[
            OpenApiExample(
                "one result",
                request_only=True,
                value={
                    "records": [
                        {
                            "barcode": "HZ20220527-0001",
                            "id_type": "resident_id",
                            "id_number": "11010519491231002X",
                            "name": "张三",
                            "sampled_at": "2022-05-27 08:30",
                            "reported_at": "2022-05-27 20:00",
                            "result": "negative",
                        }
                    ]
                },
            )
        ],
    )
    def post(self, request):
        records = records_from_request(request)
        batch, _outcome = services.results_ingest(
            token=request.auth,
            records=records,
            content_type=request.content_type.split(";")[0],
        )
        return Response(BatchOutputSerializer(batch).data)


class BatchListApi(APIView):
    authentication_classes = [LabTokenAuthentication]
    permission_classes = [HasKey]

    @extend_schema(responses={200: BatchOutputSerializer(many=True)})
    def get(self, request):
        batches = ResultBatch.objects.filter(lab=request.auth.lab)[:100]
        return Response(BatchOutputSerializer(batches, many=True).data)


class BatchDetailApi(APIView):
    authentication_classes = [LabTokenAuthentication]
    permission_classes = [HasKey]

    @extend_schema(responses={200: BatchOutputSerializer})
    def get(self, request, pk: int):
        # Another lab's batch is not found, not forbidden: its existence is not revealed.
        batch = get_object_or_404(ResultBatch, pk=pk, lab=request.auth.lab)
        return Response(BatchOutputSerializer(batch).data)


class PolicyApi(APIView):
    """Health officers read and add test-validity policies (effective-dated)."""

    permission_classes = [model_permission("nucleic.add_testpolicy")]

    class PolicySerializer(serializers.ModelSerializer):
        class Meta:
            model = TestPolicy
            fields = [
                "id",
                "group",
                "window_hours",
                "counts_from",
                "pending_counts",
                "effective_from",
                "note",
            ]
            validators: list = []  # the service says which field clashes
            # The model's default group would hide a forgotten field: an officer names it.
            extra_kwargs = {"group": {"required": True}}

    @extend_schema(responses={200: PolicySerializer(many=True)})
    def get(self, request):
        return Response(self.PolicySerializer(TestPolicy.objects.all(), many=True).data)

    @extend_schema(request=PolicySerializer, responses={201: PolicySerializer})
    def post(self, request):
        data = self.PolicySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy = services.policy_create(**data.validated_data, created_by=request.user)
        return Response(self.PolicySerializer(policy).data, status=201)
