"""Run the CrossGuard policy pack for real, over gRPC, the way the Pulumi CLI does.

The CLI starts a Python policy pack as its own process (``python -u __main__.py`` in the pack directory),
reads the gRPC port the pack prints on its first stdout line, asks ``GetAnalyzerInfo``, sends
``Configure`` (every policy's enforcement level and config, schema defaults filled in), then ``Analyze``
for each resource (its inputs) and one ``AnalyzeStack`` for the whole stack. This module does the same
with the resources the offline engine recorded (:class:`preflight.model.RecordedResource`):

    with start_pack(REPO_ROOT / "policies") as pack:
        pack.configure({"log-retention": {"minimumDays": 30}})
        violations = pack.analyze(evaluation.resources)

or in one call: ``run_policy_pack(evaluation.resources)``.

What is sent, resource by resource (custom resources only; components are not analyzed):

* ``Analyze``: type, URN, name, the recorded inputs as a ``google.protobuf.Struct`` (they are already in the
  engine's wire encoding: unknown values are the unknown sentinel, secrets are signature envelopes, which
  pulumi_policy decodes exactly as it does for the CLI), options (protect, ignoreChanges,
  deleteBeforeReplace, additionalSecretOutputs, parent) and the provider when the program registered it.
* ``AnalyzeStack``: the same plus parent, dependencies and property dependencies. The CLI sends each
  resource's outputs there; the recorded outputs are the mock's answer without the wire encoding, so the
  properties are the recorded inputs (unknowns and secrets intact) plus the computed outputs the mock added
  under keys the inputs do not have (ARNs, endpoints, ...).
"""

from __future__ import annotations

import contextlib
import math
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NoReturn

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from .model import RecordedResource

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PACK_DIR = REPO_ROOT / "policies"
START_TIMEOUT_SECONDS = 60.0
RPC_TIMEOUT_SECONDS = 60.0

LEVELS: dict[int, str] = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}
_LEVEL_VALUES = {name: value for value, name in LEVELS.items()}
SEVERITIES: dict[int, str] = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}
_POLICY_KINDS = {
    analyzer_pb2.POLICY_TYPE_RESOURCE: "resource",
    analyzer_pb2.POLICY_TYPE_STACK: "stack",
}
# pulumi_policy reports a rule that read a value unknown at preview with this message, at advisory level.
_PREVIEW_SKIP_PREFIX = "can't run policy "
_PREVIEW_SKIP_MARK = " during preview"


class PackStartError(RuntimeError):
    """The policy pack process did not come up (it died, or printed no port in time)."""


@dataclass(frozen=True)
class Violation:
    """One diagnostic of the pack, as the CLI would print it."""

    policy_name: str
    policy_pack: str
    level: str  # "advisory" | "mandatory" | "remediate" | "disabled"
    urn: str  # the resource's URN; "" for a stack-wide violation
    message: str  # as the pack sent it: the policy description, a newline, then the rule's own message
    description: str
    severity: str  # "" | "low" | "medium" | "high" | "critical"
    kind: str  # "resource" (from Analyze) | "stack" (from AnalyzeStack)
    policy_pack_version: str = ""

    @property
    def is_preview_skip(self) -> bool:
        """True for pulumi_policy's "can't run policy ... during preview" diagnostic: the rule read a value
        that is unknown at preview and did not run (it is advisory, not a verdict)."""
        return is_preview_skip(self)

    @property
    def detail(self) -> str:
        """The rule's own message, without the policy description the pack puts in front of it."""
        prefix = self.description + "\n"
        return self.message[len(prefix) :] if self.message.startswith(prefix) else self.message

    def __str__(self) -> str:
        where = self.urn or "(stack)"
        return f"[{self.level}] {self.policy_pack}/{self.policy_name} {where}: {self.detail}"


def is_preview_skip(violation: Violation) -> bool:
    """Whether a diagnostic only says a policy could not run at preview because a value was unknown."""
    return (
        violation.level == "advisory"
        and violation.message.startswith(_PREVIEW_SKIP_PREFIX)
        and _PREVIEW_SKIP_MARK in violation.message
    )


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    description: str
    level: str
    kind: str  # "resource" | "stack" | "" (unspecified)
    severity: str
    config_schema: dict[str, dict[str, Any]] = field(default_factory=dict)
    required_config: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackInfo:
    name: str
    version: str
    description: str
    policies: tuple[PolicyInfo, ...]
    initial_config: dict[str, dict[str, Any]]

    def policy(self, name: str) -> PolicyInfo:
        for policy in self.policies:
            if policy.name == name:
                return policy
        raise KeyError(f"policy pack {self.name} has no policy {name!r}")

    @property
    def policy_names(self) -> list[str]:
        return [p.name for p in self.policies]


class PackProcess:
    """A running policy pack process and the gRPC stub talking to it. Use as a context manager."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        port: int,
        pack_dir: Path,
        stderr_file: IO[bytes],
    ) -> None:
        self.process = process
        self.port = port
        self.pack_dir = pack_dir
        self._stderr_file = stderr_file
        self.channel = grpc.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", 1024 * 1024 * 400)]
        )
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        self._info: PackInfo | None = None

    # --- lifecycle ---------------------------------------------------------------------------------------

    def __enter__(self) -> PackProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the channel and end the pack process (the one this object started, by its handle)."""
        with contextlib.suppress(Exception):
            self.channel.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process.stdout is not None:
            with contextlib.suppress(Exception):
                self.process.stdout.close()
        with contextlib.suppress(Exception):
            self._stderr_file.close()

    def stderr(self) -> str:
        """What the pack wrote on stderr so far."""
        return _read_stream(self._stderr_file)

    # --- RPCs --------------------------------------------------------------------------------------------

    def info(self) -> PackInfo:
        """``GetAnalyzerInfo``: name, version, policies (level, kind, config schema) and initial config."""
        raw = self.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=RPC_TIMEOUT_SECONDS)
        policies = tuple(
            PolicyInfo(
                name=p.name,
                description=p.description,
                level=LEVELS.get(p.enforcementLevel, str(p.enforcementLevel)),
                kind=_POLICY_KINDS.get(p.policy_type, ""),
                severity=SEVERITIES.get(p.severity, ""),
                config_schema=_whole_numbers(json_format.MessageToDict(p.configSchema.properties))
                if p.HasField("configSchema")
                else {},
                required_config=tuple(p.configSchema.required) if p.HasField("configSchema") else (),
            )
            for p in raw.policies
        )
        initial: dict[str, dict[str, Any]] = {}
        for name, config in raw.initialConfig.items():
            entry: dict[str, Any] = _whole_numbers(json_format.MessageToDict(config.properties))
            if config.enforcementLevel != analyzer_pb2.ADVISORY or not entry:
                entry["enforcementLevel"] = LEVELS.get(config.enforcementLevel, "advisory")
            initial[name] = entry
        self._info = PackInfo(
            name=raw.name,
            version=raw.version,
            description=raw.description,
            policies=policies,
            initial_config=initial,
        )
        return self._info

    def configure(self, policy_config: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        """``Configure`` the pack as the CLI does, and return the configuration that was sent.

        ``policy_config`` is a policy config file's content: ``{policy: {"enforcementLevel": ..., prop:
        value}}`` or ``{policy: "advisory"}``. Like the CLI, every policy is sent: its level (the
        configured one, else the pack's) and its properties (schema defaults, then the pack's initial
        config, then ``policy_config``). Sending a policy without its level would reset it to advisory,
        the protocol's zero value. Unknown policies, unknown properties and values of the wrong type
        raise ``ValueError``.
        """
        resolved = resolve_config(self._info or self.info(), policy_config or {})
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, entry in resolved.items():
            properties = {k: v for k, v in entry.items() if k != "enforcementLevel"}
            config = request.policyConfig[name]
            config.enforcementLevel = _LEVEL_VALUES[entry["enforcementLevel"]]  # type: ignore[assignment]
            if properties:
                json_format.ParseDict(properties, config.properties)
        self.stub.Configure(request, timeout=RPC_TIMEOUT_SECONDS)
        return resolved

    def configure_stack(
        self,
        stack: str,
        project: str = "saas-backend",
        *,
        organization: str = "organization",
        dry_run: bool = True,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """``ConfigureStack``: the stack being analyzed (policies see its tags as ``args.stack_tags``)."""
        request = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=stack, project=project, organization=organization, dry_run=dry_run
        )
        for key, value in (tags or {}).items():
            request.tags[key] = value
        self.stub.ConfigureStack(request, timeout=RPC_TIMEOUT_SECONDS)

    def analyze(self, resources: Sequence[RecordedResource]) -> list[Violation]:
        """``Analyze`` every custom resource, then ``AnalyzeStack`` once; all diagnostics, in that order."""
        custom = [r for r in resources if r.custom]
        by_urn = {r.urn: r for r in resources}
        violations: list[Violation] = []
        for resource in custom:
            request = analyzer_pb2.AnalyzeRequest(
                type=resource.type,
                properties=_struct(resource.inputs),
                urn=resource.urn,
                name=resource.name,
                options=_options(resource),
            )
            provider = _provider(resource, by_urn)
            if provider is not None:
                request.provider.CopyFrom(provider)
            response = self.stub.Analyze(request, timeout=RPC_TIMEOUT_SECONDS)
            violations.extend(_violation(d, "resource", resource.urn) for d in response.diagnostics)

        stack_request = analyzer_pb2.AnalyzeStackRequest()
        for resource in custom:
            entry = stack_request.resources.add(
                type=resource.type,
                properties=_struct(_stack_properties(resource)),
                urn=resource.urn,
                name=resource.name,
                options=_options(resource),
                parent=resource.parent or "",
                dependencies=list(resource.dependencies),
            )
            provider = _provider(resource, by_urn)
            if provider is not None:
                entry.provider.CopyFrom(provider)
            for key, urns in resource.property_dependencies.items():
                entry.propertyDependencies[key].urns.extend(urns)
        response = self.stub.AnalyzeStack(stack_request, timeout=RPC_TIMEOUT_SECONDS)
        violations.extend(_violation(d, "stack", "") for d in response.diagnostics)
        return violations


def start_pack(
    pack_dir: Path = DEFAULT_PACK_DIR,
    python: str = sys.executable,
    *,
    timeout: float = START_TIMEOUT_SECONDS,
) -> PackProcess:
    """Start ``python -u __main__.py`` in ``pack_dir`` as its own process; connect to the port it prints."""
    return launch_pack(pack_dir, python).connect(timeout)


class LaunchedPack:
    """A pack process that was started but not yet connected to: it imports its rules meanwhile.

    The CLI launches the pack before it evaluates the program, so the two start up on two cores at
    once; :meth:`connect` then waits for the port line. :meth:`close` ends a pack never connected to.
    """

    def __init__(
        self, process: subprocess.Popen[bytes], pack_dir: Path, python: str, stderr_file: IO[bytes]
    ) -> None:
        self.process = process
        self.pack_dir = pack_dir
        self.python = python
        self._stderr_file = stderr_file
        assert process.stdout is not None
        self._lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=_pump, args=(process.stdout, self._lines), daemon=True).start()

    def connect(self, timeout: float = START_TIMEOUT_SECONDS) -> PackProcess:
        """Wait for the port the pack prints on its first stdout line, then for its gRPC server."""
        port, first_line, waited = self._read_port(timeout)
        if port is None:
            self._fail(first_line, waited, timeout)
        pack = PackProcess(self.process, port, self.pack_dir, self._stderr_file)
        try:
            grpc.channel_ready_future(pack.channel).result(timeout=timeout)
        except grpc.FutureTimeoutError as exc:
            stderr = pack.stderr()
            pack.close()
            raise PackStartError(
                f"policy pack {self.pack_dir} listens on port {port} but never accepted: {stderr}"
            ) from exc
        return pack

    def close(self) -> None:
        """End the process (the one this object started, by its handle) without connecting."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)
        with contextlib.suppress(Exception):
            self._stderr_file.close()

    def _read_port(self, timeout: float) -> tuple[int | None, bytes, float]:
        first_line = b""
        waited = 0.0
        while True:
            try:
                first_line = self._lines.get(timeout=0.1)
            except queue.Empty:
                waited += 0.1
                if self.process.poll() is not None or waited >= timeout:
                    return None, first_line, waited
                continue
            try:
                return int(first_line.decode(errors="replace").strip()), first_line, waited
            except ValueError:
                return None, first_line, waited

    def _fail(self, first_line: bytes, waited: float, timeout: float) -> NoReturn:
        process = self.process
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        stderr = _read_stream(self._stderr_file).strip()
        self._stderr_file.close()
        if first_line:
            problem = f"printed {first_line.decode(errors='replace').strip()!r} instead of its port"
        elif process.returncode is not None and waited < timeout:
            problem = f"exited with code {process.returncode} before printing its port"
        else:
            problem = f"printed no port within {timeout:g} s"
        raise PackStartError(
            f"policy pack {self.pack_dir} ({self.python} -u __main__.py) {problem}"
            + (f"; stderr:\n{stderr}" if stderr else "; stderr was empty")
        )


def launch_pack(pack_dir: Path = DEFAULT_PACK_DIR, python: str = sys.executable) -> LaunchedPack:
    """Start ``python -u __main__.py`` in ``pack_dir`` as its own process and return at once."""
    pack_dir = Path(pack_dir).resolve()
    if not (pack_dir / "__main__.py").is_file():
        raise PackStartError(f"{pack_dir} is not a Python policy pack: it has no __main__.py")
    # Lives as long as the process (closed by PackProcess.close): a file, so stderr never fills a pipe.
    stderr_file = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        process = subprocess.Popen(
            [python, "-u", "__main__.py"],
            cwd=pack_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
        )
    except OSError as exc:
        stderr_file.close()
        raise PackStartError(f"cannot start policy pack {pack_dir} with {python}: {exc}") from exc
    return LaunchedPack(process, pack_dir, python, stderr_file)


def run_policy_pack(
    resources: Sequence[RecordedResource],
    pack_dir: Path = DEFAULT_PACK_DIR,
    config: Mapping[str, Any] | None = None,
) -> list[Violation]:
    """Start the pack, configure it (defaults + ``config``), analyze ``resources``, stop it."""
    with start_pack(pack_dir) as pack:
        pack.configure(config or {})
        return pack.analyze(resources)


# --- configuration ---------------------------------------------------------------------------------------


def resolve_config(info: PackInfo, config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The configuration the CLI would send: for every policy its level and properties, defaults filled in."""
    known = set(info.policy_names)
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(
            f"policy config names {', '.join(unknown)}, not in policy pack {info.name} "
            f"(its policies: {', '.join(sorted(known))})"
        )
    resolved: dict[str, dict[str, Any]] = {}
    for policy in info.policies:
        level = policy.level
        properties = {k: v["default"] for k, v in policy.config_schema.items() if "default" in v}
        for layer in (info.initial_config.get(policy.name), config.get(policy.name)):
            if layer is None:
                continue
            if isinstance(layer, str):
                layer = {"enforcementLevel": layer}
            if not isinstance(layer, Mapping):
                raise ValueError(
                    f"policy config for {policy.name} must be a level or an object, got {layer!r}"
                )
            for key, value in layer.items():
                if key == "enforcementLevel":
                    if value not in _LEVEL_VALUES:
                        raise ValueError(
                            f"policy config for {policy.name}: enforcementLevel {value!r} is not one of "
                            f"{', '.join(_LEVEL_VALUES)}"
                        )
                    level = value
                else:
                    properties[key] = value
        for key, value in properties.items():
            _check_config_value(policy, key, value)
        missing = [k for k in policy.required_config if k not in properties]
        if missing:
            raise ValueError(f"policy config for {policy.name} lacks required {', '.join(missing)}")
        resolved[policy.name] = {"enforcementLevel": level, **properties}
    return resolved


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "number": (int, float),
    "integer": (int, float),
    "array": (list, tuple),
    "object": (dict,),
}


def _check_config_value(policy: PolicyInfo, key: str, value: Any) -> None:
    schema = policy.config_schema.get(key)
    if schema is None:
        allowed = ", ".join(sorted(policy.config_schema)) or "none"
        raise ValueError(f"policy config for {policy.name} has unknown property {key!r} (allowed: {allowed})")
    expected = schema.get("type")
    if not isinstance(expected, str) or expected not in _JSON_TYPES:
        return
    ok = isinstance(value, _JSON_TYPES[expected]) and not (
        expected in ("number", "integer") and isinstance(value, bool)
    )
    if ok and expected == "integer":
        ok = float(value).is_integer()
    if ok and expected in ("number", "integer"):
        if "minimum" in schema and value < schema["minimum"]:
            raise ValueError(
                f"policy config {policy.name}.{key} is {value}; the minimum is {schema['minimum']}"
            )
        if "maximum" in schema and value > schema["maximum"]:
            raise ValueError(
                f"policy config {policy.name}.{key} is {value}; the maximum is {schema['maximum']}"
            )
    if ok and expected == "array" and isinstance(value, list | tuple):
        item_type = (schema.get("items") or {}).get("type")
        if item_type in _JSON_TYPES:
            ok = all(isinstance(v, _JSON_TYPES[item_type]) for v in value)
    if not ok:
        raise ValueError(f"policy config {policy.name}.{key} is {value!r}; expected {expected}")


# --- wire helpers ----------------------------------------------------------------------------------------


def _pump(stream: IO[bytes], lines: queue.Queue[bytes]) -> None:
    """Hand the first stdout line to start_pack, then keep draining: the pack never blocks on a full pipe."""
    with contextlib.suppress(Exception):
        for line in iter(stream.readline, b""):
            lines.put(line)


def _read_stream(stream: IO[bytes]) -> str:
    try:
        stream.flush()
        stream.seek(0)
        return stream.read().decode(errors="replace")
    except (OSError, ValueError):
        return ""


def _json_safe(value: Any) -> Any:
    """A JSON-compatible copy of a mock output value (Struct holds only null/bool/number/string/list/map)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, Iterable) and not isinstance(value, bytes):
        return [_json_safe(v) for v in value]
    return str(value)


def _whole_numbers(value: Any) -> Any:
    """Struct numbers are doubles: give integral ones back as ints (schema defaults such as 7, not 7.0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value


def _struct(properties: Mapping[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(_json_safe(dict(properties)), struct_pb2.Struct())


def _stack_properties(resource: RecordedResource) -> dict[str, Any]:
    properties = dict(resource.inputs)
    for key, value in resource.outputs.items():
        if key not in properties and not key.startswith("__"):
            properties[key] = value
    return properties


def _options(resource: RecordedResource) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=resource.protect,
        ignoreChanges=list(resource.ignore_changes),
        deleteBeforeReplace=resource.delete_before_replace,
        deleteBeforeReplaceDefined=resource.delete_before_replace,
        additionalSecretOutputs=list(resource.additional_secret_outputs),
        parent=resource.parent or "",
    )


def _urn_type_and_name(urn: str) -> tuple[str, str]:
    """``urn:pulumi:<stack>::<project>::<parent types$>type::<name>`` -> (type, name)."""
    parts = urn.split("::", 3)
    if len(parts) < 4:
        return "", urn
    return parts[2].split("$")[-1], parts[3]


def _provider(
    resource: RecordedResource, by_urn: Mapping[str, RecordedResource]
) -> analyzer_pb2.AnalyzerProviderResource | None:
    """The explicit provider a resource uses (a reference ``<provider urn>::<id>``), when there is one."""
    if not resource.provider:
        return None
    provider_urn = resource.provider.rsplit("::", 1)[0]
    type_, name = _urn_type_and_name(provider_urn)
    if not type_.startswith("pulumi:providers:"):
        return None
    recorded = by_urn.get(provider_urn)
    return analyzer_pb2.AnalyzerProviderResource(
        type=type_,
        properties=_struct(recorded.inputs if recorded is not None else {}),
        urn=provider_urn,
        name=recorded.name if recorded is not None else name,
    )


def _violation(diagnostic: Any, kind: str, default_urn: str) -> Violation:
    return Violation(
        policy_name=diagnostic.policyName,
        policy_pack=diagnostic.policyPackName,
        level=LEVELS.get(diagnostic.enforcementLevel, str(diagnostic.enforcementLevel)),
        urn=diagnostic.urn or default_urn,
        message=diagnostic.message,
        description=diagnostic.description,
        severity=SEVERITIES.get(diagnostic.severity, ""),
        kind=kind,
        policy_pack_version=diagnostic.policyPackVersion,
    )


__all__ = [
    "DEFAULT_PACK_DIR",
    "LaunchedPack",
    "PackInfo",
    "PackProcess",
    "PackStartError",
    "PolicyInfo",
    "Violation",
    "is_preview_skip",
    "launch_pack",
    "resolve_config",
    "run_policy_pack",
    "start_pack",
]
