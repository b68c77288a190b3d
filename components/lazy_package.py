"""Defer a generated Pulumi SDK's package ``__init__`` until a name only that ``__init__`` defines is used.

``pulumi_cloudflare/__init__.py`` star-imports every one of its ~780 resource modules (about 1.5 s) while the
program declares eight resources from it. Deferred, ``import pulumi_cloudflare.dns_record`` loads that
module and what it imports (``_utilities``, ``_inputs``, ``outputs``) and nothing else. The first use of any
other package attribute (``pulumi_cloudflare.Zone``) runs the real ``__init__`` right then, so code that
expects the whole package still gets it. Nothing is cached between runs: every process decides again.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from importlib.abc import Loader
from types import ModuleType


def defer_package_init(name: str) -> None:
    """Register package ``name`` without running its ``__init__`` (no-op when it is already imported)."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        raise ImportError(f"{name} is not an installed package", name=name)
    loader = spec.loader
    package = importlib.util.module_from_spec(spec)

    def __getattr__(attr: str) -> object:
        # `from . import _utilities` inside a submodule asks the package for the attribute first.
        if not attr.startswith("__") and importlib.util.find_spec(f"{name}.{attr}") is not None:
            return importlib.import_module(f"{name}.{attr}")
        _run_init(package, loader)
        return getattr(package, attr)

    package.__getattr__ = __getattr__  # type: ignore[attr-defined]
    sys.modules[name] = package


def _run_init(package: ModuleType, loader: Loader) -> None:
    """Run the package's own ``__init__`` in the registered module (submodules already loaded stay)."""
    vars(package).pop("__getattr__", None)
    loader.exec_module(package)
