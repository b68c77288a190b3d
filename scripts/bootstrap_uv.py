"""Install the pinned uv into a folder from its PyPI wheel, with nothing but the Python standard library.

Stock Debian and Ubuntu Pythons come without pip or venv (python3-pip, python3-venv) and refuse
``pip install`` outside a virtual environment (PEP 668, "externally-managed-environment"). A wheel is a zip
file: this downloads the wheel of this platform from PyPI, checks its pinned SHA-256 and unpacks the
``uv`` binary to ``<folder>/bin/uv``. ``./uvw`` calls it once; afterwards ``./uvw`` runs that binary.
"""

from __future__ import annotations

import hashlib
import platform
import stat
import sys
import urllib.request
import zipfile
from io import BytesIO
from pathlib import Path

VERSION = "0.13.8"
_FILES = "https://files.pythonhosted.org/packages"
# (system, machine) -> (wheel URL on PyPI, sha256 as PyPI lists it)
WHEELS: dict[tuple[str, str], tuple[str, str]] = {
    ("Linux", "x86_64"): (
        f"{_FILES}/c5/32/52ee34636aea1ab3f8baeeae1c3599461b8cddfb379862cc72ac61b8d91c/"
        f"uv-{VERSION}-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "e18a57b8b352eb7c8feb317b9f6f533c8f0ad9673fd6cf34bbe3cf1a9f6a8984",
    ),
    ("Linux", "aarch64"): (
        f"{_FILES}/9e/f0/d989ac5fcebf83f1c8c5d78974f27788e8364945969eb646f5d0db35d924/"
        f"uv-{VERSION}-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl",
        "0b3e8b1a4f5e405e31e2ff33de8af4744831e9f7338539671efbd8c3c94e791d",
    ),
    ("Darwin", "arm64"): (
        f"{_FILES}/84/46/deb3a1eb3020575e41d1f9840c07185761d8d4c25cd6f58e813afb017476/"
        f"uv-{VERSION}-py3-none-macosx_11_0_arm64.whl",
        "62b6943c7fd64fac6854f780bea6e0359e5a5bc3241f83ee357bb38276afac49",
    ),
    ("Darwin", "x86_64"): (
        f"{_FILES}/be/7a/fd8a719c0198f8f8341847fc33b377f25ac79f7c4a56dbce5ceb086f239c/"
        f"uv-{VERSION}-py3-none-macosx_10_12_x86_64.whl",
        "b7124ca1956ec2e476a1003ea5715a15f0266afaec37f4dc9c6972ba8183e6d1",
    ),
}


def install(folder: Path) -> Path:
    """Download, verify and unpack uv into ``folder/bin``; return the binary's path."""
    key = (platform.system(), platform.machine())
    if key not in WHEELS:
        raise SystemExit(
            f"bootstrap_uv: no pinned uv {VERSION} wheel for {key[0]} {key[1]}; install uv yourself"
        )
    url, sha256 = WHEELS[key]
    print(f"bootstrap_uv: downloading uv {VERSION} for {key[0]} {key[1]} from PyPI", file=sys.stderr)
    with urllib.request.urlopen(url, timeout=120) as response:
        data = response.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise SystemExit(f"bootstrap_uv: {url} has sha256 {digest}, expected {sha256}")
    binary = folder / "bin" / "uv"
    binary.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(BytesIO(data)) as wheel:
        partial = binary.with_suffix(".partial")
        partial.write_bytes(wheel.read(f"uv-{VERSION}.data/scripts/uv"))
    partial.chmod(partial.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    partial.replace(binary)  # atomic: a half-written binary is never run
    return binary


if __name__ == "__main__":
    print(install(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".uv")))
