"""Reading printed QR codes as a phone would: render the page (poppler's pdftoppm), then
decode it with a real decoder (zxing-cpp). Shared by the poster and paper-code tests."""

import io
import os
import shutil
import subprocess

import pytest
import zxingcpp
from PIL import Image

MM_PER_INCH = 25.4


def pdf_page_png(pdf: bytes, *, dpi: int = 150, page: int = 1) -> bytes:
    """One page of ``pdf`` rendered at ``dpi`` as PNG. Skips without pdftoppm, unless
    REQUIRE_BROWSER is set (as in .ci/run, which installs it): then the test fails."""
    if shutil.which("pdftoppm") is None:
        reason = (
            "pdftoppm not found: install poppler-utils (sudo apt-get install poppler-utils) "
            "to render PDFs in tests"
        )
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"REQUIRE_BROWSER is set but {reason}.")
        pytest.skip(reason)
    command = ["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page)]
    return subprocess.run(
        [*command, "-singlefile", "-"], input=pdf, capture_output=True, check=True
    ).stdout


def read_qr(png: bytes) -> zxingcpp.Result:
    """The one QR code in the image (fails if there is none, or more than one)."""
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(results) == 1, f"expected one QR code, found {len(results)}"
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode
    return results[0]


def decode_qr(png: bytes) -> str:
    return read_qr(png).text
