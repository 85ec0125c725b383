"""The OpenAPI schema documents the error answers every operation can give.

drf-spectacular's maintainer points to overriding ``AutoSchema._get_response_bodies`` for
responses common to all operations (tfranzel/drf-spectacular#101); this adds them where a
view did not declare its own. The bodies are those of healthcode.api_errors and config.errors.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import AllowAny

ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "错误说明。整体错误为 detail（中文）与 code；字段错误为 {字段名: [中文说明, …]}。"
    ),
    "properties": {
        "detail": {"type": "string", "description": "中文说明"},
        "code": {"type": "string", "description": "机器可读的错误代码"},
    },
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}

ERRORS = {
    "400": "请求无效：字段错误或整体错误（中文说明）。",
    "401": "未认证或认证信息无效。",
    "403": "无权限，或会话请求的 CSRF 校验失败。",
    "404": "对象或地址不存在。",
    "413": "请求体超过 DATA_UPLOAD_MAX_MEMORY_SIZE，或批次超过 10,000 条记录。",
    "429": "请求过于频繁，请按 Retry-After 等待后重试。",
    "500": "服务器内部错误（不含堆栈信息）。",
}


class ErrorDocumentingAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        component = ResolvedComponent(
            name="Error", type=ResolvedComponent.SCHEMA, object="Error", schema=ERROR_SCHEMA
        )
        self.registry.register_on_missing(component)
        for code in self._error_codes():
            responses.setdefault(
                code,
                {
                    "content": {"application/json": {"schema": component.ref}},
                    "description": ERRORS[code],
                },
            )
        return responses

    def _error_codes(self) -> list[str]:
        codes = ["400", "404", "429", "500"]
        open_to_all = all(issubclass(p, AllowAny) for p in self.view.permission_classes)
        if not open_to_all:
            codes += ["401", "403"]
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append("413")  # config.middleware.BodySizeLimitMiddleware
        return sorted(codes)
