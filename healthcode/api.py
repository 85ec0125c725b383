"""JSON API for residents and health codes (mounted under /api/v1/)."""

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import audit_lookup
from healthcode import idnumbers, lockout, regions, services, tokens
from healthcode.authentication import api_token_issue
from healthcode.errors import DomainError
from healthcode.forms import CONTACT_CHOICES, clean_id_fields, contact_history_flags
from healthcode.idnumbers import IdType
from healthcode.models import sampled_minutes_ago, test_line
from healthcode.selectors import ensure_current, health_code_current, resident_from_token
from healthcode.service_worker import mark_owner
from healthcode.throttling import REGISTRATION_MESSAGE, RegistrationThrottle, TooManyAttempts
from healthcode.uploads import UPLOAD_PARSERS, records_from_request


def _django_to_drf(func, value):
    try:
        return func(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from None


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()
    colour = serializers.CharField()
    since = serializers.DateTimeField(allow_null=True)
    until = serializers.DateTimeField(allow_null=True)


class TestSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["none", "negative", "pending", "expired", "positive", "invalid"]
    )
    line = serializers.CharField()
    last_sampled_at = serializers.DateTimeField(allow_null=True)
    last_result = serializers.CharField(allow_null=True)
    window_hours = serializers.IntegerField(allow_null=True)
    valid_until = serializers.DateTimeField(allow_null=True)
    valid_now = serializers.BooleanField()
    # Added for the test line (issue 11): whole minutes since the sample the line speaks of.
    sampled_minutes_ago = serializers.IntegerField(allow_null=True)


def test_out(code) -> dict:
    """The code's test status with its line, counted to when the status was judged."""
    now = code.evaluated_at or timezone.now()
    return {
        **code.test,
        "state": code.test.get("state", "none"),
        "valid_now": code.test.get("valid_now", False),
        "line": test_line(code.test, now),
        "sampled_minutes_ago": sampled_minutes_ago(code.test, now),
    }


class RegisterApi(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_classes = [RegistrationThrottle]  # per IP, shared with the page

    def throttled(self, request, wait):
        raise TooManyAttempts(
            wait=wait or RegistrationThrottle.window_seconds, message=REGISTRATION_MESSAGE
        )

    class RegisterInputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=64)
        id_type = serializers.ChoiceField(choices=IdType.choices)
        id_number = serializers.CharField(max_length=40)
        phone = serializers.CharField(max_length=20)
        password = serializers.CharField(write_only=True, trim_whitespace=False)
        nationality = serializers.CharField(max_length=64)
        region_code = serializers.CharField(max_length=6)
        address = serializers.CharField(max_length=200)
        contact_history = serializers.ListField(
            child=serializers.ChoiceField(choices=CONTACT_CHOICES), allow_empty=True
        )
        contact_note = serializers.CharField(max_length=500, required=False, allow_blank=True)
        commitment = serializers.BooleanField()

        def validate_name(self, value):
            return _django_to_drf(idnumbers.clean_name, value)

        def validate_phone(self, value):
            return _django_to_drf(idnumbers.clean_phone, value)

        def validate_region_code(self, value):
            return _django_to_drf(regions.clean_county_code, value)

        def validate_contact_history(self, value):
            return _django_to_drf(contact_history_flags, value)

        def validate_password(self, value):
            return _django_to_drf(password_validation.validate_password, value) or value

        def validate_commitment(self, value):
            if not value:
                raise serializers.ValidationError(_("请阅读并勾选承诺。"))
            return value

        def validate(self, attrs):
            try:
                attrs["id_number"] = clean_id_fields(attrs["id_type"], attrs["id_number"])
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"id_number": exc.messages}) from None
            return attrs

    class RegisterOutputSerializer(serializers.Serializer):
        public_id = serializers.UUIDField()

    @extend_schema(
        request=RegisterInputSerializer,
        responses={
            201: RegisterOutputSerializer,
            429: OpenApiResponse(description="注册请求过于频繁（按 IP 计），见 Retry-After"),
        },
    )
    def post(self, request):
        data = self.RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attrs = data.validated_data
        resident = services.resident_register(
            name=attrs["name"],
            id_type=attrs["id_type"],
            id_number=attrs["id_number"],
            phone=attrs["phone"],
            password=attrs["password"],
            nationality=attrs["nationality"].strip(),
            region_code=attrs["region_code"],
            address=attrs["address"].strip(),
            contact_note=attrs.get("contact_note", "").strip(),
            committed=attrs["commitment"],
            **attrs["contact_history"],
        )
        return Response(
            self.RegisterOutputSerializer({"public_id": resident.public_id}).data,
            status=status.HTTP_201_CREATED,
        )


class TokenLoginApi(APIView):
    """Exchange phone and password for an API token (``Authorization: Token <key>``).

    The token works for API_TOKEN_TTL_DAYS, until the password changes, or until the next
    log-in issues another. Too many wrong passwords for the account or from the IP: 429."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    class TokenLoginInputSerializer(serializers.Serializer):
        phone = serializers.CharField()
        password = serializers.CharField(trim_whitespace=False)

    @extend_schema(
        request=TokenLoginInputSerializer,
        responses={
            200: inline_serializer("TokenOut", {"token": serializers.CharField()}),
            429: OpenApiResponse(description="登录失败次数过多（按账号或 IP 计），见 Retry-After"),
        },
    )
    def post(self, request):
        data = self.TokenLoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            phone = idnumbers.clean_phone(data.validated_data["phone"])
        except DjangoValidationError:
            phone = data.validated_data["phone"]
        # The request goes to authenticate so that django-axes counts and refuses by IP too.
        user = authenticate(request, phone=phone, password=data.validated_data["password"])
        if user is None and getattr(request, "axes_locked_out", False):
            wait = lockout.lockout_wait_seconds(request, {"phone": phone})
            raise TooManyAttempts(wait=wait, message=lockout.LOCKED_MESSAGE)
        if user is None:
            return Response(
                {"detail": _("手机号码或密码不正确。"), "code": "invalid_login"},
                status=status.HTTP_400_BAD_REQUEST,
            )
        lockout.login_succeeded(user=user)
        return Response({"token": api_token_issue(user=user).key})


class MyCodeApi(APIView):
    class MyCodeOutputSerializer(serializers.Serializer):
        colour = serializers.CharField()
        colour_label = serializers.CharField()
        reasons = ReasonSerializer(many=True)
        test = TestSerializer()
        computed_at = serializers.DateTimeField()
        token = serializers.CharField()
        token_expires_at = serializers.DateTimeField()
        refresh_seconds = serializers.IntegerField()
        # What to do next for red and yellow (隔离/联系社区, until when); "" for green.
        advice = serializers.CharField()

    @extend_schema(responses={200: MyCodeOutputSerializer})
    def get(self, request):
        code = health_code_current(user=request.user)
        if code is None:
            return Response(
                {"detail": _("该账号没有登记居民信息。"), "code": "no_resident"},
                status=status.HTTP_404_NOT_FOUND,
            )
        # The holder's own answer is the one the code page's service worker keeps offline.
        return mark_owner(my_code_response(code), request.user)


def my_code_response(code) -> Response:
    """A (current) code as its holder sees it, with a fresh token asserting it (their own,
    or a bound member's)."""
    response = Response(my_code_data(my_code_out(code)))
    response["Cache-Control"] = "no-store"
    return response


def my_code_out(code) -> dict:
    issued = tokens.issue_for(code, now=timezone.now())
    return {
        "colour": code.colour,
        "colour_label": code.get_colour_display(),
        "reasons": code.reasons,
        "test": test_out(code),
        "computed_at": code.computed_at,
        "token": issued.token,
        "token_expires_at": issued.expires_at,
        "refresh_seconds": settings.HEALTHCODE_TOKEN_REFRESH_SECONDS,
        "advice": code.advice,
    }


_REASON_KEYS = tuple(ReasonSerializer().fields)
_TEST_KEYS = tuple(TestSerializer().fields)


def _when(value):
    """A datetime as DRF's DateTimeField writes it (current time zone, ISO 8601); a string
    kept in a JSON column passes as it is."""
    if value is None or isinstance(value, str):
        return value
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def my_code_data(out: dict) -> dict:
    """``MyCodeOutputSerializer(out).data``, built directly: the code refresh is the door's
    most frequent request and the serializer's field objects were a tenth of its time
    (docs/benchmarks.md). ``tests/healthcode/test_code_api_shape.py`` holds the two equal."""
    test = out["test"]
    return {
        "colour": out["colour"],
        "colour_label": str(out["colour_label"]),
        "reasons": [
            {key: _when(r[key]) if key in ("since", "until") else r[key] for key in _REASON_KEYS}
            for r in out["reasons"]
        ],
        "test": {
            key: _when(test[key]) if key in ("last_sampled_at", "valid_until") else test[key]
            for key in _TEST_KEYS
        },
        "computed_at": _when(out["computed_at"]),
        "token": out["token"],
        "token_expires_at": _when(out["token_expires_at"]),
        "refresh_seconds": out["refresh_seconds"],
        "advice": str(out["advice"]),
    }


class AssertionKeySerializer(serializers.Serializer):
    kid = serializers.CharField(help_text="key id: 3 bytes of SHA-256(key), base64url")
    alg = serializers.CharField()
    key = serializers.CharField(help_text="the raw 32-byte Ed25519 public key, base64url")
    signing = serializers.BooleanField(help_text="the key new codes are signed with")


class AssertionKeysApi(APIView):
    """Public: the keys a door needs to check a code's status assertion without network
    (docs/offline.md). The inspector's page keeps them; any cache may keep them a while."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    class KeysOutputSerializer(serializers.Serializer):
        keys = AssertionKeySerializer(many=True)
        max_age = serializers.IntegerField(help_text="seconds before asking again")

    @extend_schema(responses={200: KeysOutputSerializer})
    def get(self, request):
        max_age = settings.HEALTHCODE_ASSERTION_KEYS_MAX_AGE
        out = {"keys": tokens.published_keys(), "max_age": max_age}
        response = Response(self.KeysOutputSerializer(out).data)
        response["Cache-Control"] = f"public, max-age={max_age}"
        return response


class VerifyCodeApi(APIView):
    """Staff only for now: a scanned token in, the masked person and live status out."""

    permission_classes = [permissions.IsAdminUser]

    class VerifyCodeInputSerializer(serializers.Serializer):
        token = serializers.CharField(max_length=256)

    class VerifyCodeOutputSerializer(serializers.Serializer):
        name = serializers.CharField()
        id_number = serializers.CharField()
        colour = serializers.CharField()
        colour_label = serializers.CharField()
        reasons = ReasonSerializer(many=True)
        test = TestSerializer()
        computed_at = serializers.DateTimeField()

    @extend_schema(request=VerifyCodeInputSerializer, responses={200: VerifyCodeOutputSerializer})
    def post(self, request):
        data = self.VerifyCodeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            resident = resident_from_token(token=data.validated_data["token"], now=timezone.now())
        except tokens.TokenInvalid as exc:
            return Response(
                {"token": [exc.message], "code": exc.problem.value},
                status=status.HTTP_400_BAD_REQUEST,
            )
        audit_lookup(action="api_verify", actor=request.user, subject=resident)
        code = ensure_current(resident.health_code)
        out = {
            "name": resident.masked_name,
            "id_number": resident.masked_id_number,
            "colour": code.colour,
            "colour_label": code.get_colour_display(),
            "reasons": code.reasons,
            "test": test_out(code),
            "computed_at": code.computed_at,
        }
        return Response(self.VerifyCodeOutputSerializer(out).data)


def model_permission(perm: str):
    """DRF permission: the user holds this Django permission (health officers do)."""

    class HasPermission(permissions.BasePermission):
        def has_permission(self, request, view):
            return bool(request.user and request.user.has_perm(perm))

    return HasPermission


class BatchReportSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())


class RiskFlagImportApi(APIView):
    """Health officers import risk flags (JSON or CSV, up to 10,000), idempotent per
    ``source`` + ``external_id``. Columns: source, external_id, id_type, id_number, name,
    kind, starts_at, ends_at (optional; yellow kinds default to 14 days), reason. From a
    browser session, post the file as ``file`` in a multipart form (with the CSRF token)."""

    permission_classes = [model_permission("healthcode.add_riskflag")]
    parser_classes = UPLOAD_PARSERS

    @extend_schema(
        request={
            "application/json": inline_serializer(
                "RiskFlagRecords", {"records": serializers.ListField(child=serializers.DictField())}
            ),
            "text/csv": {"type": "string"},
            "multipart/form-data": inline_serializer(
                "RiskFlagFile", {"file": serializers.FileField(help_text=".csv 或 .json")}
            ),
        },
        responses={200: BatchReportSerializer},
    )
    def post(self, request):
        records = records_from_request(request)
        outcome = services.risk_flags_import(records=records, entered_by=request.user)
        return Response(BatchReportSerializer(outcome.report()).data)


class ItineraryApi(APIView):
    """The signed-in resident declares a place of their 14-day itinerary (行程申报)."""

    class ItineraryInputSerializer(serializers.Serializer):
        region_code = serializers.CharField(max_length=6)
        arrived_at = serializers.DateTimeField()
        left_at = serializers.DateTimeField(required=False, allow_null=True)

        def validate_region_code(self, value):
            return _django_to_drf(idnumbers.clean_region_code, value)

    @extend_schema(
        request=ItineraryInputSerializer,
        responses={201: inline_serializer("StayOut", {"id": serializers.IntegerField()})},
    )
    def post(self, request):
        resident = getattr(request.user, "resident", None)
        if resident is None:
            raise DomainError(_("该账号没有登记居民信息。"), code="no_resident", status=404)
        data = self.ItineraryInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        stay = services.stay_declare(resident=resident, **data.validated_data)
        return Response({"id": stay.pk}, status=status.HTTP_201_CREATED)
