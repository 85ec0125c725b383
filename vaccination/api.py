"""Vaccination site API: upload doses in batches, read back your own batches."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from healthcode.apikeys import HasKey
from healthcode.uploads import RAW_PARSERS, records_from_request
from vaccination import services
from vaccination.auth import SiteKeyAuthentication
from vaccination.models import DoseBatch

RECORD_FIELDS = "record_id, id_type, id_number, name, product, dose_number, vaccinated_on"


class DoseBatchOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = DoseBatch
        fields = DoseBatch.REPORT_FIELDS


class DosesUploadApi(APIView):
    """Upload up to 10,000 doses as JSON ``{"records": [...]}`` or CSV (UTF-8/BOM/GBK) with
    the columns ``record_id, id_type, id_number, name, product, dose_number, vaccinated_on``
    (dose 1–9; date YYYY-MM-DD, not in the future, not before 2020-12-01). A record is
    identified by the site and its ``record_id``: sent again unchanged it is counted as
    unchanged, changed it updates the dose."""

    authentication_classes = [SiteKeyAuthentication]
    permission_classes = [HasKey]
    parser_classes = RAW_PARSERS  # the body is read raw: JSON or CSV

    @extend_schema(
        request={
            "application/json": inline_serializer(
                "DoseRecords", {"records": serializers.ListField(child=serializers.DictField())}
            ),
            "text/csv": {"type": "string", "description": RECORD_FIELDS},
        },
        responses={200: DoseBatchOutputSerializer},
        examples=[
            OpenApiExample(
                "one dose",
                request_only=True,
                value={
                    "records": [
                        {
                            "record_id": "JZ-2022-000001",
                            "id_type": "resident_id",
                            "id_number": "11010519491231002X",
                            "name": "张三",
                            "product": "新冠病毒灭活疫苗（Vero细胞）",
                            "dose_number": 3,
                            "vaccinated_on": "2022-01-10",
                        }
                    ]
                },
            )
        ],
    )
    def post(self, request):
        records = records_from_request(request)
        batch, _outcome = services.doses_ingest(
            key=request.auth, records=records, content_type=request.content_type.split(";")[0]
        )
        return Response(DoseBatchOutputSerializer(batch).data)


class DoseBatchListApi(APIView):
    authentication_classes = [SiteKeyAuthentication]
    permission_classes = [HasKey]

    @extend_schema(responses={200: DoseBatchOutputSerializer(many=True)})
    def get(self, request):
        batches = DoseBatch.objects.filter(site=request.auth.site)[:100]
        return Response(DoseBatchOutputSerializer(batches, many=True).data)


class DoseBatchDetailApi(APIView):
    authentication_classes = [SiteKeyAuthentication]
    permission_classes = [HasKey]

    @extend_schema(responses={200: DoseBatchOutputSerializer})
    def get(self, request, pk: int):
        # Another site's batch is not found, not forbidden: its existence is not revealed.
        batch = get_object_or_404(DoseBatch, pk=pk, site=request.auth.site)
        return Response(DoseBatchOutputSerializer(batch).data)
