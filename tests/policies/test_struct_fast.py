"""The pack's Struct conversion (policies/saas_guardrails/struct_fast.py) gives what protobuf's own JSON
printer gives, for every Struct; the printer stays in charge of everything else."""

from __future__ import annotations

import types

import pytest
from google.protobuf import json_format, struct_pb2, timestamp_pb2

from policies.saas_guardrails import struct_fast


def _struct(value: dict) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


def test_every_struct_converts_as_the_printer_converts_it() -> None:
    """Generated Structs of every kind of value. Hypothesis is imported here, not at collection: every
    worker collects this module, one runs the test."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    json = st.recursive(
        st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
        max_leaves=20,
    )

    @settings(max_examples=60, deadline=None)
    @given(st.dictionaries(st.text(max_size=6), json, max_size=6))
    def converts_alike(value: dict) -> None:
        struct = _struct(value)
        assert struct_fast.struct_to_dict(struct) == json_format.MessageToDict(struct)

    converts_alike()


def test_a_value_with_no_kind_is_null_and_a_non_finite_number_is_refused() -> None:
    struct = struct_pb2.Struct()
    struct.fields["unset"].Clear()
    assert struct_fast.struct_to_dict(struct) == json_format.MessageToDict(struct) == {"unset": None}
    struct.fields["n"].number_value = float("inf")
    with pytest.raises(ValueError, match="Infinity"):
        json_format.MessageToDict(struct)
    with pytest.raises(ValueError, match="Infinity"):
        struct_fast.struct_to_dict(struct)


def test_the_same_message_again_gets_the_same_dict_another_message_its_own() -> None:
    first, second = _struct({"a": 1}), _struct({"a": 2})
    converted = struct_fast.message_to_dict(first)
    assert struct_fast.message_to_dict(first) is converted
    assert struct_fast.message_to_dict(second) == {"a": 2.0}
    assert struct_fast.message_to_dict(first) is converted  # AnalyzeStack's order: every resource, again


def test_the_cache_keeps_the_newest_messages_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(struct_fast, "CACHE_SIZE", 2)
    monkeypatch.setattr(struct_fast, "_converted", {})
    messages = [_struct({"n": n}) for n in range(3)]
    dicts = [struct_fast.message_to_dict(m) for m in messages]
    assert len(struct_fast._converted) == 2
    assert struct_fast.message_to_dict(messages[2]) is dicts[2]
    again = struct_fast.message_to_dict(messages[0])  # evicted: converted anew, equal
    assert again == dicts[0] and again is not dicts[0]


def test_other_messages_and_printer_options_go_to_the_printer() -> None:
    stamp = timestamp_pb2.Timestamp(seconds=0)
    assert struct_fast.message_to_dict(stamp) == "1970-01-01T00:00:00Z"
    struct = _struct({"a": 1})
    assert struct_fast.message_to_dict(struct, preserving_proto_field_name=True) == {"a": 1.0}


def test_install_replaces_only_the_printer_it_was_written_against() -> None:
    policy = types.ModuleType("policy")
    policy.json_format = json_format  # type: ignore[attr-defined]
    struct_fast.install(policy)
    assert policy.json_format.MessageToDict is struct_fast.message_to_dict  # type: ignore[attr-defined]
    assert policy.json_format.Parse is json_format.Parse  # type: ignore[attr-defined]
    other = types.ModuleType("other")
    struct_fast.install(other)
    assert not hasattr(other, "json_format")
