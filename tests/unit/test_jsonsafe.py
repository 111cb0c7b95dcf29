"""connectfed.jsonsafe: the one JSON reader for untrusted input bounds nesting depth."""

from __future__ import annotations

import json

import pytest

from connectfed import jsonsafe


@pytest.mark.parametrize(
    "text,ok",
    [
        ("[" * 64 + "]" * 64, True),
        ("[" * 65 + "]" * 65, False),
        ('{"a":' * 64 + "1" + "}" * 64, True),
        ('{"a":' * 65 + "1" + "}" * 65, False),
        ("[" * 100_000, False),  # RecursionError inside json, reported as too deep
        (json.dumps(["[" * 500, "{" * 500, '\\"[[[['] + [[[]]] * 100), True),  # brackets in strings
        (json.dumps([[[]] * 1000]), True),  # many shallow containers
    ],
)
def test_depth_limit(text: str, ok: bool) -> None:
    if ok:
        assert jsonsafe.loads(text) == json.loads(text)
    else:
        with pytest.raises(jsonsafe.JsonTooDeep):
            jsonsafe.loads(text)


def test_too_deep_is_a_value_error_and_bytes_in_any_json_encoding_work() -> None:
    assert issubclass(jsonsafe.JsonTooDeep, ValueError)
    deep = ("[" * 70 + "]" * 70).encode("utf-16")
    with pytest.raises(ValueError):
        jsonsafe.loads(deep)
    assert jsonsafe.loads(bytearray(b'{"a": [1]}')) == {"a": [1]}
    with pytest.raises(ValueError):
        jsonsafe.loads(b"\xff\xfe\x00")
