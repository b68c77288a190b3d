"""Defer a generated Pulumi SDK's package ``__init__`` until a name only that ``__init__`` defines is used.

``pulumi_cloudflare/__init__.py`` star-imports every one of its ~780 resource modules (about 1.5 s) while the
program declares eight resources from it. Deferred, ``import pulumi_cloudflare.dns_record`` loads that
module and what it imports (``_utilities``, ``_inputs``, ``outputs``) and nothing else. The first use of any
other package attribute (``pulumi_cloudflare.Zone``) runs the rest of the real ``__init__`` right then, so
code that expects the whole package still gets it. The one statement the runtime needs before that, the
registration of the resource modules, runs at once. Nothing is cached between runs.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

# The last statement of a generated Pulumi SDK's __init__: it tells the runtime which module holds each
# resource type, so that resource references the engine returns can be rebuilt as objects.
_REGISTER = "\n_utilities.register("


def defer_package_init(name: str) -> None:
    """Register package ``name`` without running its ``__init__`` (no-op when it is already imported)."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None or spec.submodule_search_locations is None:
        raise ImportError(f"{name} is not an installed package", name=name)
    body, registration = _split_init(spec.origin)
    origin = spec.origin
    package = importlib.util.module_from_spec(spec)

    def __getattr__(attr: str) -> object:
        # `from . import _utilities` inside a submodule asks the package for the attribute first.
        if not attr.startswith("__") and importlib.util.find_spec(f"{name}.{attr}") is not None:
            return importlib.import_module(f"{name}.{attr}")
        vars(package).pop("__getattr__", None)
        exec(compile(body, origin, "exec"), vars(package))  # the rest of the real __init__
        return getattr(package, attr)

    package.__getattr__ = __getattr__  # type: ignore[attr-defined]
    sys.modules[name] = package
    if registration is not None:
        code = compile(registration, origin, "exec")
        exec(code, {"_utilities": importlib.import_module(f"{name}._utilities")})


def _split_init(init_file: str) -> tuple[str, str | None]:
    """The ``__init__``'s source without its final resource-module registration, and that registration
    (None when the file has none: then the body registers when it runs). Both keep their line numbers."""
    source = Path(init_file).read_text()
    start = source.rfind(_REGISTER)
    if start < 0:
        return source, None
    return source[:start], "\n" * source.count("\n", 0, start) + source[start:]
