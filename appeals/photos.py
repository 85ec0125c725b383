"""An appeal's photo: checked, re-encoded and kept where no URL reaches it.

Checked by Pillow, not by the name or the Content-Type a client sends: the bytes must open as
JPEG, PNG or WebP and pass ``verify()``. Re-encoded in the same format from the decoded
pixels, so what is kept is an image and nothing else (no EXIF with the place a phone took it,
no trailing bytes). Kept under ``PRIVATE_UPLOAD_ROOT/appeals`` with a random name; the only
way back out is ``appeals.views.photo``.
"""

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from appeals.models import PhotoFormat
from healthcode.errors import DomainError

# Pillow's name → ours. Anything else (GIF, BMP, TIFF, SVG, a renamed text file) is refused.
FORMATS = {"JPEG": PhotoFormat.JPEG, "PNG": PhotoFormat.PNG, "WEBP": PhotoFormat.WEBP}
CONTENT_TYPES = {
    PhotoFormat.JPEG: "image/jpeg",
    PhotoFormat.PNG: "image/png",
    PhotoFormat.WEBP: "image/webp",
}
EXTENSIONS = {PhotoFormat.JPEG: "jpg", PhotoFormat.PNG: "png", PhotoFormat.WEBP: "webp"}
# A phone photo is 12–50 megapixels; more is a decompression bomb, not a photo.
MAX_PIXELS = 60_000_000


@dataclass(frozen=True)
class CleanPhoto:
    format: str  # PhotoFormat
    content: bytes  # re-encoded


def _refuse(message: str) -> DomainError:
    return DomainError(message, field="photo", code="invalid_photo")


def photo_clean(upload) -> CleanPhoto:
    """The upload as a clean image, or ``DomainError`` on the ``photo`` field. Reads nothing
    of a file over ``APPEAL_PHOTO_MAX_BYTES``; writes nothing."""
    limit = settings.APPEAL_PHOTO_MAX_BYTES
    if upload.size > limit:
        raise _refuse(
            _("照片不能超过 %(mb)s MB，请压缩或重新拍摄后上传。") % {"mb": _megabytes(limit)}
        )
    if upload.size == 0:
        raise _refuse(_("照片文件是空的，请重新选择。"))
    data = upload.read()
    kind = _verified_format(data)
    try:
        content = _reencode(data, kind)
    except (OSError, ValueError, Image.DecompressionBombError):
        raise _refuse(_("照片已损坏，无法读取，请重新选择。")) from None
    return CleanPhoto(format=kind, content=content)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


def _verified_format(data: bytes) -> str:
    not_an_image = _("请上传 JPG、PNG 或 WebP 格式的图片；该文件不是这几种图片。")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = FORMATS.get(image.format or "")
                too_big = image.width * image.height > MAX_PIXELS
                image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(not_an_image) from None
    except (OSError, SyntaxError, ValueError):  # what verify() raises on broken data
        raise _refuse(_("照片已损坏，无法读取，请重新选择。")) from None
    if kind is None:
        raise _refuse(not_an_image)
    if too_big:
        raise _refuse(_("照片像素过多，请缩小后上传。"))
    return kind


def _reencode(data: bytes, kind: str) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        image = ImageOps.exif_transpose(image)  # keep the way it was taken, drop the EXIF
        if kind == PhotoFormat.JPEG and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        elif image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")
        out = io.BytesIO()
        options = {"quality": 85} if kind != PhotoFormat.PNG else {"optimize": True}
        image.save(out, format=kind.upper(), **options)
    return out.getvalue()


def photo_dir() -> Path:
    return Path(settings.PRIVATE_UPLOAD_ROOT) / "appeals"


def photo_store(photo: CleanPhoto) -> str:
    """Write the photo under a new random name; return the name."""
    directory = photo_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"{secrets.token_hex(16)}.{EXTENSIONS[photo.format]}"
    with open(directory / name, "xb") as out:  # "x": never over another file
        out.write(photo.content)
    return name


def photo_path(name: str) -> Path | None:
    """The stored file of this name, or None if the name is not one we make (no path can be
    smuggled in) or the file is gone."""
    stem, _dot, extension = name.partition(".")
    if len(stem) != 32 or not all(c in "0123456789abcdef" for c in stem):
        return None
    if extension not in EXTENSIONS.values():
        return None
    path = photo_dir() / name
    return path if path.is_file() else None


def photo_remove(name: str) -> None:
    if name and (path := photo_path(name)) is not None:
        path.unlink(missing_ok=True)
