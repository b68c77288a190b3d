"""The deferred package ``__init__`` (components/lazy_package.py): submodules load alone, anything else
gets the whole package, and the program asks pulumi_cloudflare for its names through one facade."""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.lazy_package import _split_init, defer_package_init
from tests.conftest import REPO

# A generated SDK in miniature: the package __init__ star-imports every resource module and registers
# itself; resource modules import shared modules from the package (`from . import _utilities`).
FAKE_SDK = {
    "__init__.py": "from . import _utilities\nfrom .alpha import *\nfrom .beta import *\nINIT_RAN = True\n"
    "\n_utilities.register(resource_modules='[alpha, beta]')\n",
    "_utilities.py": "VERSION = '1.0'\nCALLS = []\ndef register(**kw):\n    CALLS.append(kw)\n",
    "alpha.py": "from . import _utilities\nclass Alpha:\n    version = _utilities.VERSION\n",
    "beta.py": "class Beta:\n    pass\n",
}


@pytest.fixture
def fake_sdk(tmp_path: Path) -> Iterator[str]:
    name = f"fake_sdk_{tmp_path.name.replace('-', '_')}"
    (tmp_path / name).mkdir()
    for file, text in FAKE_SDK.items():
        (tmp_path / name / file).write_text(text)
    sys.path.insert(0, str(tmp_path))
    try:
        yield name
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
            del sys.modules[module]


def _loaded(name: str) -> set[str]:
    return {m.removeprefix(f"{name}.") for m in sys.modules if m.startswith(f"{name}.")}


def test_a_submodule_loads_without_the_package_init(fake_sdk: str) -> None:
    defer_package_init(fake_sdk)
    alpha = __import__(f"{fake_sdk}.alpha", fromlist=["Alpha"])
    assert alpha.Alpha.version == "1.0"
    assert _loaded(fake_sdk) == {"alpha", "_utilities"}
    assert "INIT_RAN" not in vars(sys.modules[fake_sdk])
    # The resource-module registration ran at once: the runtime can rebuild resource references.
    assert sys.modules[f"{fake_sdk}._utilities"].CALLS == [{"resource_modules": "[alpha, beta]"}]


def test_any_other_name_runs_the_real_init_once(fake_sdk: str) -> None:
    defer_package_init(fake_sdk)
    alpha = __import__(f"{fake_sdk}.alpha", fromlist=["Alpha"])
    package = sys.modules[fake_sdk]
    assert package.Beta.__name__ == "Beta"  # not a submodule: the whole package now
    assert package.INIT_RAN is True and _loaded(fake_sdk) == {"alpha", "beta", "_utilities"}
    assert package.Alpha is alpha.Alpha  # the submodule loaded first is the one the package exports
    assert len(package._utilities.CALLS) == 1  # registered once, not again by the rest of the __init__
    with pytest.raises(AttributeError):
        _ = package.Gamma


def test_an_imported_package_is_left_alone(fake_sdk: str) -> None:
    package = __import__(fake_sdk)
    defer_package_init(fake_sdk)
    assert sys.modules[fake_sdk] is package and package.INIT_RAN is True


def test_a_missing_package_is_an_import_error() -> None:
    with pytest.raises(ImportError, match="not_an_installed_sdk"):
        defer_package_init("not_an_installed_sdk")


def test_only_the_facade_imports_pulumi_cloudflare() -> None:
    """Another module importing the package (or a name from it) directly would load all ~780 modules."""
    facade = REPO / "components" / "aws" / "edge" / "cloudflare_sdk.py"
    direct = []
    for path in sorted((REPO / "components").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            if path != facade and any(n.split(".")[0] == "pulumi_cloudflare" for n in names):
                direct.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert direct == []
    # The facade itself takes each name from its module, never from the package.
    from_package = [
        node.lineno
        for node in ast.walk(ast.parse(facade.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module == "pulumi_cloudflare"
    ]
    assert from_package == []


def test_the_pinned_cloudflare_sdk_ends_with_the_registration_the_deferral_runs() -> None:
    """The generated __init__'s shape this relies on: star imports, then one `_utilities.register(...)`
    of every resource module and the provider package, as its last statement."""
    spec = importlib.util.find_spec("pulumi_cloudflare")
    assert spec is not None and spec.origin is not None
    body, registration = _split_init(spec.origin)
    assert registration is not None and "_utilities.register(" not in body
    assert '"cloudflare:index/dnsRecord:DnsRecord"' in registration
    assert '"pulumi:providers:cloudflare"' in registration
