"""The one error type a service raises when a request cannot be honoured.

Views map it to a message next to the field (pages) or a 400/409 field error (API); see
``healthcode.api_errors``. ``field`` names the input that caused it, if one did.
"""


class DomainError(Exception):
    def __init__(
        self, message: str, *, field: str | None = None, code: str = "invalid", status: int = 400
    ) -> None:
        super().__init__(message)
        self.message = str(message)
        self.field = field
        self.code = code
        self.status = status

    def as_dict(self) -> dict:
        """The API body: field errors like DRF's, or a ``detail`` with its code."""
        if self.field:
            return {self.field: [self.message]}
        return {"detail": self.message, "code": self.code}
