"""Reading a batch upload from an API request: a raw JSON or CSV body (labs, scripts), or a
``file`` in a multipart form (an officer's browser). Both end in ``ingest.parse_body``."""

from django.utils.translation import gettext as _
from rest_framework.parsers import BaseParser, MultiPartParser

from healthcode.errors import DomainError
from healthcode.ingest import parse_body


class RawBody(bytes):
    """A request body handed over unparsed, with its media type."""

    media_type: str = ""


class RawJsonParser(BaseParser):
    """Leaves the body as bytes: ``parse_body`` decodes JSON and CSV itself (BOM, GBK). The
    body's size is bounded before this by config.middleware.BodySizeLimitMiddleware."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        body = RawBody(stream.read() if stream is not None else b"")
        body.media_type = media_type or self.media_type
        return body


class RawCsvParser(RawJsonParser):
    media_type = "text/csv"


class RawAppCsvParser(RawJsonParser):
    media_type = "application/csv"


RAW_PARSERS = [RawJsonParser, RawCsvParser, RawAppCsvParser]
UPLOAD_PARSERS = [*RAW_PARSERS, MultiPartParser]


def records_from_request(request) -> list[dict]:
    """The records of an upload request, or DomainError (400/413/415) for the whole batch."""
    data = request.data
    if isinstance(data, RawBody):
        return parse_body(bytes(data), data.media_type)
    upload = data.get("file") if hasattr(data, "get") else None
    if upload is None or isinstance(upload, str):
        if request.content_type.startswith("multipart/form-data"):
            raise DomainError(_("请选择要上传的 CSV 或 JSON 文件。"), field="file")
        return parse_body(b"", request.content_type)  # an empty body: say what is expected
    return records_from_file(upload)


def records_from_file(upload) -> list[dict]:
    """The records of an uploaded file, its kind told by its name (.csv/.json), else by its
    declared type: browsers on Windows declare CSV as application/vnd.ms-excel."""
    name = (upload.name or "").lower()
    if name.endswith(".json"):
        kind = "application/json"
    elif name.endswith(".csv") or name.endswith(".txt"):
        kind = "text/csv"
    else:
        kind = (upload.content_type or "").split(";")[0].strip().lower()
    if kind not in ("application/json", "text/csv", "application/csv"):
        raise DomainError(_("文件应为 CSV（.csv）或 JSON（.json）。"), field="file")
    return parse_body(upload.read(), kind)
