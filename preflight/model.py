"""Data the offline engine records: one entry per RegisterResource request, plus the run's outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The value the Pulumi engine uses on the wire for "not known until the resource is created".
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
# The signature key the engine uses to wrap secret values on the wire.
SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"


@dataclass
class RecordedResource:
    """What the program asked the engine to register, as the engine (and the policy pack) sees it.

    ``inputs`` keep the engine's camelCase names and wire encoding: an unknown value is the string
    ``UNKNOWN`` and a secret is ``{SECRET_SIG: SECRET_SIG_VALUE, "value": ...}``. ``outputs`` is the
    state the mock answered with (inputs plus computed properties in up mode, inputs only in preview).
    """

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    additional_secret_outputs: list[str] = field(default_factory=list)
    provider: str = ""
    depends_on_explicit: list[str] = field(default_factory=list)

    @property
    def is_component(self) -> bool:
        return not self.custom
