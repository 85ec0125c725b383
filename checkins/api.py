"""JSON endpoints for the inspector's reverse scan (session auth, from /inspect/)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from checkins import services
from checkins.models import Method, TemperatureBand
from healthcode import engine, tokens
from healthcode import services as healthcode_services
from healthcode.api import ReasonSerializer
from healthcode.models import test_line
from healthcode.selectors import ensure_current, resident_from_token
from venues.models import EntryRule, Venue, VenueInspector


class PersonStatusSerializer(serializers.Serializer):
    name = serializers.CharField()
    id_number = serializers.CharField()
    colour = serializers.CharField()
    colour_label = serializers.CharField()
    reasons = ReasonSerializer(many=True)
    test_line = serializers.CharField()
    passed = serializers.BooleanField()
    decision = serializers.CharField()
    checkin_id = serializers.UUIDField(required=False)


def _inspected_venue(request, venue_id: int) -> Venue:
    link = (
        VenueInspector.objects.select_related("venue")
        .filter(user=request.user, venue_id=venue_id)
        .first()
    )
    if link is None:
        raise PermissionDenied(_("您不是该场所的检测员。"))
    return link.venue


def _resident_or_400(token: str):
    try:
        return resident_from_token(token=token, now=timezone.now()), None
    except tokens.TokenInvalid as exc:
        body = {"code": [exc.message], "problem": exc.problem.value}
        return None, Response(body, status=status.HTTP_400_BAD_REQUEST)


def _person(resident, code, *, passed: bool, decision: str) -> dict:
    return {
        "name": resident.masked_name,
        "id_number": resident.masked_id_number,
        "colour": code.colour,
        "colour_label": code.get_colour_display(),
        "reasons": code.reasons,
        "test_line": test_line(code.test),
        "passed": passed,
        "decision": decision,
    }


class InspectVerifyApi(APIView):
    """Show the inspector who this code belongs to (masked) and their live status.
    Records the lookup; records no check-in."""

    class InspectVerifyInputSerializer(serializers.Serializer):
        venue = serializers.IntegerField()
        code = serializers.CharField(max_length=300)

    @extend_schema(request=InspectVerifyInputSerializer, responses={200: PersonStatusSerializer})
    def post(self, request):
        data = self.InspectVerifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        venue = _inspected_venue(request, data.validated_data["venue"])
        resident, error = _resident_or_400(data.validated_data["code"])
        if error:
            return error
        healthcode_services.person_lookup_record(
            viewer=request.user, resident=resident, channel="inspector_scan"
        )
        code = ensure_current(resident.health_code)
        decision = engine.entry_decision(
            colour=code.colour,
            test=code.test,
            required_hours=venue.required_test_hours,
            test_required=venue.entry_rule != EntryRule.NONE,
            now=timezone.now(),
        )
        out = _person(resident, code, passed=decision.passed, decision=decision.text)
        return Response(PersonStatusSerializer(out).data)


class InspectConfirmApi(APIView):
    """The inspector picked the temperature band and confirmed: record the check-in."""

    class InspectConfirmInputSerializer(serializers.Serializer):
        venue = serializers.IntegerField()
        code = serializers.CharField(max_length=300)
        temperature_band = serializers.ChoiceField(choices=TemperatureBand.choices)

    @extend_schema(request=InspectConfirmInputSerializer, responses={201: PersonStatusSerializer})
    def post(self, request):
        data = self.InspectConfirmInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        venue = _inspected_venue(request, data.validated_data["venue"])
        resident, error = _resident_or_400(data.validated_data["code"])
        if error:
            return error
        checkin, _new = services.checkin_record(
            resident=resident,
            venue=venue,
            method=Method.INSPECTOR_SCAN,
            scanned_by=request.user,
            temperature_band=data.validated_data["temperature_band"],
        )
        out = {
            "name": resident.masked_name,
            "id_number": resident.masked_id_number,
            "colour": checkin.colour,
            "colour_label": checkin.get_colour_display(),
            "reasons": checkin.reasons,
            "test_line": test_line(checkin.test),
            "passed": checkin.passed,
            "decision": checkin.decision_text,
            "checkin_id": checkin.public_id,
        }
        return Response(PersonStatusSerializer(out).data, status=status.HTTP_201_CREATED)
