"""JSON endpoints for the inspector's reverse scan (session auth, from /inspect/)."""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import audit_lookup
from checkins import services
from checkins.fields import VenueIdField
from checkins.models import Device, Method, TemperatureBand
from checkins.selectors import device_by_key_hash, door_preview_facts
from checkins.throttles import (
    DeviceIdCardThrottle,
    DeviceIdCardThrottled,
    ManualCheckinPerInspectorThrottle,
    ManualCheckinPerVenueThrottle,
    ManualCheckinThrottled,
)
from healthcode import idnumbers, masking, tokens
from healthcode.apikeys import ApiKeyAuthentication, HasKey
from healthcode.errors import DomainError
from healthcode.idnumbers import IdType
from healthcode.selectors import ensure_current
from proxy_scan.selectors import resident_from_any_token
from vaccination.selectors import Vaccination
from venues.models import Venue
from venues.selectors import venue_inspected, venue_usable


class VaccinationSerializer(serializers.Serializer):
    doses = serializers.IntegerField(help_text="接种剂次数（按剂次去重）")
    last_date = serializers.DateField(allow_null=True, help_text="末次接种日期")
    text = serializers.CharField(help_text="如“已接种 3 剂（末次 2022-01-10）”或“未接种”")


def vaccination_out(summary: Vaccination | None) -> dict | None:
    return summary.as_dict() if summary is not None else None


class PersonStatusSerializer(serializers.Serializer):
    """What the door needs: masked identity, colour, pass/stop and the test line. Never the
    reasons (the specific red/yellow type): those are for the person, their family holders
    and officers."""

    name = serializers.CharField()
    id_number = serializers.CharField()
    colour = serializers.CharField()
    colour_label = serializers.CharField()
    test_line = serializers.CharField()
    passed = serializers.BooleanField()
    decision = serializers.CharField()
    vaccination = VaccinationSerializer(
        allow_null=True, help_text="疫苗接种（四码一屏）；未注册的人工登记为 null"
    )
    checkin_id = serializers.UUIDField(required=False)


def _inspected_venue(request, venue_id: int) -> Venue:
    venue = venue_inspected(user_id=request.user.pk, venue_id=venue_id)  # row cache
    if venue is None:
        # With its code, so a door's offline queue tells it from a lapsed log-in (also 403).
        raise DomainError(_("您不是该场所的检测员。"), code="not_inspector", status=403)
    return venue_usable(venue)  # 403 with the reason while pending or rejected


def _resident_or_400(token: str, now=None):
    try:
        return resident_from_any_token(token=token, now=now or timezone.now()), None
    except tokens.TokenInvalid as exc:
        body = {"code": [exc.message], "problem": exc.problem.value}
        return None, Response(body, status=status.HTTP_400_BAD_REQUEST)


def _inspector_scan(request, serializer_class, channel: str, *, record_lookup: bool = True):
    """Validate an inspector's scan: the venue must be theirs (403), the code genuine and
    current (400, nothing recorded) — current when the door confirmed, for a confirmation
    made offline. Records the lookup (or, ``record_lookup=False``, leaves it to the caller's
    commit); returns (venue, resident, input, lookup)."""
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    venue = _inspected_venue(request, data.validated_data["venue"])
    at = data.validated_data.get("confirmed_at")
    resident, error = _resident_or_400(data.validated_data["code"], now=at)
    if error:
        return error
    lookup = {
        "action": channel,
        "actor": request.user,
        "subject": resident,
        "venue_name": venue.full_name,
    }
    if record_lookup:
        audit_lookup(**lookup)
    return venue, resident, data.validated_data, lookup


def _person(resident, code, *, vaccination: Vaccination, passed: bool, decision: str) -> dict:
    return {
        "name": resident.masked_name,
        "id_number": resident.masked_id_number,
        "colour": code.colour,
        "colour_label": code.get_colour_display(),
        "test_line": code.test_line,  # counted to the now of ensure_current
        "passed": passed,
        "decision": decision,
        "vaccination": vaccination.as_dict(),
    }


def _checkin_person(checkin) -> dict:
    """What the inspector sees after a recorded check-in: masked identity and the decision."""
    id_number = checkin.resident.id_number if checkin.resident else checkin.manual_id_number
    return {
        "name": checkin.masked_name,
        "id_number": masking.mask_id_number(id_number),
        "colour": checkin.colour,
        "colour_label": checkin.get_colour_display() or _("未注册"),
        "test_line": checkin.test_line,
        "passed": checkin.passed,
        "decision": checkin.decision_text,
        "vaccination": vaccination_out(Vaccination.from_stored(checkin.vaccination)),
        "checkin_id": checkin.public_id,
    }


class InspectVerifyApi(APIView):
    """Show the inspector who this code belongs to (masked) and their live status.
    Records the lookup; records no check-in."""

    class InspectVerifyInputSerializer(serializers.Serializer):
        venue = VenueIdField()
        code = serializers.CharField(max_length=300)

    @extend_schema(request=InspectVerifyInputSerializer, responses={200: PersonStatusSerializer})
    def post(self, request):
        scanned = _inspector_scan(request, self.InspectVerifyInputSerializer, "inspector_scan")
        if isinstance(scanned, Response):
            return scanned
        venue, resident, attrs, _lookup = scanned
        now = timezone.now()
        used_elsewhere, vaccination = door_preview_facts(
            resident=resident,
            token=tokens.one_venue_token(attrs["code"]),  # "" for a paper code
            venue=venue,
            now=now,
        )
        if used_elsewhere:
            raise services.token_used_elsewhere_error()
        code = ensure_current(resident.health_code, now=now)
        decision = services.door_decision(code=code, venue=venue, vaccination=vaccination, now=now)
        out = _person(
            resident,
            code,
            vaccination=vaccination,
            passed=decision.passed,
            decision=decision.text,
        )
        return Response(PersonStatusSerializer(out).data)


class InspectConfirmApi(APIView):
    """The inspector picked the temperature band and confirmed: record the check-in."""

    class InspectConfirmInputSerializer(serializers.Serializer):
        venue = VenueIdField()
        code = serializers.CharField(max_length=300)
        temperature_band = serializers.ChoiceField(choices=TemperatureBand.choices)
        client_id = serializers.UUIDField(
            required=False, help_text="the browser's id for this confirmation: kept once"
        )
        confirmed_at = serializers.DateTimeField(
            required=False,
            help_text="when the door confirmed, for a confirmation queued offline and sent later",
        )

        def validate_confirmed_at(self, value):
            now = timezone.now()
            if value > now + tokens.FUTURE_SKEW:
                raise serializers.ValidationError(_("确认时间晚于当前时间，请检查设备时间。"))
            hours = settings.OFFLINE_CONFIRM_MAX_HOURS
            if value < now - dt.timedelta(hours=hours):
                raise serializers.ValidationError(
                    _("离线确认已超过 %(hours)d 小时，未予登记。") % {"hours": hours}
                )
            return value

    @extend_schema(
        request=InspectConfirmInputSerializer,
        responses={201: PersonStatusSerializer, 200: PersonStatusSerializer},
    )
    def post(self, request):
        """201 with the new check-in; 200 with the same check-in when this ``client_id`` was
        already recorded (a door resending its offline queue)."""
        scanned = _inspector_scan(
            request, self.InspectConfirmInputSerializer, "inspector_confirm", record_lookup=False
        )
        if isinstance(scanned, Response):
            return scanned
        venue, resident, attrs, lookup = scanned
        checkin, new = services.checkin_record_looked_up(
            lookup=lookup,
            resident=resident,
            venue=venue,
            method=Method.INSPECTOR_SCAN,
            scanned_by=request.user,
            temperature_band=attrs["temperature_band"],
            token=tokens.one_venue_token(attrs["code"]),
            now=attrs.get("confirmed_at"),
            client_id=attrs.get("client_id"),
        )
        sent_before = not new and attrs.get("client_id") is not None
        code = status.HTTP_200_OK if sent_before else status.HTTP_201_CREATED
        return Response(PersonStatusSerializer(_checkin_person(checkin)).data, status=code)


class CheckoutOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    checked_out = serializers.BooleanField(help_text="false: no open stay here, nothing written")
    left_at = serializers.DateTimeField(allow_null=True)


def _checkout(resident, venue, code: str) -> Response:
    """An exit scan ends the person's open visit here; a phone token that checked its holder
    in at another venue is refused (409) as at the entrance — a forwarded screenshot must not
    end someone's stay."""
    if one_venue := tokens.one_venue_token(code):
        services.token_refuse_if_used_elsewhere(
            resident=resident, token=one_venue, venue=venue, now=timezone.now()
        )
    stay = services.checkout_at_venue(resident=resident, venue=venue)
    out = {
        "name": resident.masked_name,
        "checked_out": stay is not None,
        "left_at": stay.left_at if stay is not None else None,
    }
    return Response(CheckoutOutputSerializer(out).data)


class InspectCheckoutApi(APIView):
    """离开: the inspector scans a person's code at the exit; their open stay here ends now
    (explicitly). A person with no open stay here is told so and nothing is written."""

    class InspectCheckoutInputSerializer(serializers.Serializer):
        venue = VenueIdField()
        code = serializers.CharField(max_length=300)

    @extend_schema(
        request=InspectCheckoutInputSerializer, responses={200: CheckoutOutputSerializer}
    )
    def post(self, request):
        scanned = _inspector_scan(request, self.InspectCheckoutInputSerializer, "inspector_scan")
        if isinstance(scanned, Response):
            return scanned
        venue, resident, attrs, _lookup = scanned
        return _checkout(resident, venue, attrs["code"])


class InspectManualApi(APIView):
    """手工登记 (last resort): the inspector enters name, ID and phone of a person who has no
    phone and no code. A registered person is checked in with their status; anyone else is
    recorded as 未注册."""

    class InspectManualInputSerializer(serializers.Serializer):
        venue = VenueIdField()
        name = serializers.CharField(max_length=64)
        id_type = serializers.ChoiceField(choices=IdType.choices, default=IdType.RESIDENT_ID)
        id_number = serializers.CharField(max_length=40)
        phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
        temperature_band = serializers.ChoiceField(choices=TemperatureBand.choices)

        def validate(self, attrs):
            return _clean_person(attrs, phone=True)

    # On top of the API's default throttles (if any), never instead of them.
    throttle_classes = [
        *APIView.throttle_classes,
        DeviceIdCardThrottle,
        ManualCheckinPerInspectorThrottle,
        ManualCheckinPerVenueThrottle,
    ]

    def throttled(self, request, wait):
        raise ManualCheckinThrottled(wait)

    @extend_schema(
        request=InspectManualInputSerializer,
        responses={
            201: PersonStatusSerializer,
            403: OpenApiResponse(description="不是该场所的检测员，或场所尚未通过审核"),
            429: OpenApiResponse(description="手工登记过于频繁（见 Retry-After）"),
        },
    )
    def post(self, request):
        data = self.InspectManualInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attrs = data.validated_data
        venue = _inspected_venue(request, attrs["venue"])
        checkin = services.checkin_manual(
            venue=venue,
            scanned_by=request.user,
            name=attrs["name"],
            id_type=attrs["id_type"],
            id_number=attrs["id_number"],
            phone=attrs.get("phone", ""),
            temperature_band=attrs["temperature_band"],
        )  # records the lookup, matched or not
        out = _checkin_person(checkin)
        return Response(PersonStatusSerializer(out).data, status=status.HTTP_201_CREATED)


def _clean_person(attrs: dict, *, phone: bool = False) -> dict:
    """ID number, name (and phone) of a person typed in at the door, as registration checks
    them; errors go next to their fields."""
    errors = {}
    cleaners = {
        "id_number": lambda v: idnumbers.clean_id_number(
            attrs["id_type"], v, today=timezone.localdate()
        ),
        "name": idnumbers.clean_name,
    }
    if phone and attrs.get("phone"):
        cleaners["phone"] = idnumbers.clean_phone
    for field, clean in cleaners.items():
        try:
            attrs[field] = clean(attrs[field])
        except DjangoValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise serializers.ValidationError(errors)
    return attrs


class DeviceAuthentication(ApiKeyAuthentication):
    model = Device
    select_related = ("venue",)
    invalid_message = _("设备令牌无效。")
    revoked_message = _("设备令牌已吊销。")

    def find(self, key_hash: str):
        return device_by_key_hash(key_hash)  # row cache: dropped on revocation


class DeviceVerifyApi(APIView):
    """A gate device scanned a health code, or read an ID card: open or closed, and why.
    Records the check-in (method ``device``); 37.3 ℃ or more stops."""

    authentication_classes = [DeviceAuthentication]
    permission_classes = [HasKey]
    throttle_classes = [*APIView.throttle_classes, DeviceIdCardThrottle]

    def throttled(self, request, wait):
        raise DeviceIdCardThrottled(wait)

    class DeviceVerifyInputSerializer(serializers.Serializer):
        code = serializers.CharField(max_length=300, required=False)
        id_type = serializers.ChoiceField(choices=IdType.choices, required=False)
        id_number = serializers.CharField(max_length=40, required=False)
        name = serializers.CharField(max_length=64, required=False)
        temperature = serializers.DecimalField(
            max_digits=4, decimal_places=1, min_value=30, max_value=45, required=False
        )

        def validate(self, attrs):
            if "code" in attrs:
                return attrs
            missing = [f for f in ("id_type", "id_number", "name") if not attrs.get(f)]
            if missing:
                raise serializers.ValidationError(
                    {f: [_("请提供健康码 code，或证件类型、证件号码和姓名。")] for f in missing}
                )
            return _clean_person(attrs)

    class DeviceVerifyOutputSerializer(serializers.Serializer):
        decision = serializers.ChoiceField(choices=["pass", "stop"])
        reason = serializers.CharField(help_text="通行结果说明，如“红码，禁止通行”；不含赋码原因")
        colour = serializers.CharField(allow_blank=True)
        test = serializers.DictField()
        person = serializers.DictField()
        vaccination = VaccinationSerializer(
            allow_null=True, help_text="疫苗接种（四码一屏）；未注册的证件登记为 null"
        )
        checkin_id = serializers.UUIDField()

    @extend_schema(
        request=DeviceVerifyInputSerializer, responses={200: DeviceVerifyOutputSerializer}
    )
    def post(self, request):
        venue = venue_usable(request.auth.venue)  # 403 with the reason while not approved
        data = self.DeviceVerifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attrs = data.validated_data
        band = services.temperature_band_for(celsius=attrs.get("temperature"))
        machine = f"device {request.auth.pk}"
        if "code" in attrs:
            resident, error = _resident_or_400(attrs["code"])
            if error:
                return error
            checkin, _new = services.checkin_record_looked_up(
                lookup={
                    "action": "device",
                    "machine": machine,
                    "subject": resident,
                    "venue_name": venue.full_name,
                },
                resident=resident,
                venue=venue,
                method=Method.DEVICE,
                temperature_band=band,
                temperature=attrs.get("temperature"),
                token=tokens.one_venue_token(attrs["code"]),
            )
        else:
            checkin = services.checkin_manual(
                venue=venue,
                scanned_by=None,
                name=attrs["name"],
                id_type=attrs["id_type"],
                id_number=attrs["id_number"],
                temperature_band=band,
                method=Method.DEVICE,
                machine=machine,
            )  # records the lookup, matched or not
        person = _checkin_person(checkin)
        out = {
            "decision": checkin.decision,
            "reason": checkin.decision_text,
            "colour": checkin.colour,
            "test": {**checkin.test, "line": checkin.test_line},
            "person": {k: person[k] for k in ("name", "id_number")},
            "vaccination": person["vaccination"],
            "checkin_id": checkin.public_id,
        }
        return Response(self.DeviceVerifyOutputSerializer(out).data)


class DeviceCheckoutApi(APIView):
    """An exit gate scanned a health code: the person's open stay at the device's venue ends
    now, explicitly."""

    authentication_classes = [DeviceAuthentication]
    permission_classes = [HasKey]

    class DeviceCheckoutInputSerializer(serializers.Serializer):
        code = serializers.CharField(max_length=300)

    @extend_schema(request=DeviceCheckoutInputSerializer, responses={200: CheckoutOutputSerializer})
    def post(self, request):
        venue = venue_usable(request.auth.venue)
        data = self.DeviceCheckoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        resident, error = _resident_or_400(data.validated_data["code"])
        if error:
            return error
        audit_lookup(
            action="device",
            machine=f"device {request.auth.pk}",
            subject=resident,
            venue_name=venue.full_name,
        )
        return _checkout(resident, venue, data.validated_data["code"])
