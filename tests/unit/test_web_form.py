"""The browser routes' form parser gives what ``urllib.parse.parse_qs`` (the oracle) gives:
the first value of each name, blanks kept, ``{}`` for a body that is not UTF-8 or has more
than 20 fields."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectfed.web.routes import form_fields


def oracle(body: bytes) -> dict[str, str]:
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[0] for k, v in parsed.items()}


CASES = {
    "sign-in": urlencode({"SAMLResponse": "PD94+bWw/=", "RelayState": "https://x/?a=1&b=2"}),
    "empty": "",
    "blank value": "a=&b",
    "repeated name keeps the first": "a=1&a=2",
    "empty fields": "&&a=1&&",
    "plus and escapes": "a+b=c+d%2Be%20f%26g",
    "bad escapes": "a=%zz%4&b=%",
    "utf-8 escapes": "n=%C3%A9%E2%82%AC",
    "invalid utf-8 escape": "n=%C3%28&m=%FF",
    "raw utf-8": "n=\u00e9t\u00e9",
    "semicolon is not a separator": "a=1;b=2",
    "20 fields": "&".join(f"f{i}=v" for i in range(20)),
    "21 fields": "&".join(f"f{i}=v" for i in range(21)),
}


@pytest.mark.parametrize("body", list(CASES.values()), ids=list(CASES))
def test_as_parse_qs(body: str) -> None:
    assert form_fields(body.encode()) == oracle(body.encode())


def test_a_body_that_is_not_utf8_is_no_form() -> None:
    assert form_fields(b"a=\xff") == {} == oracle(b"a=\xff")


@given(st.binary(max_size=200))
def test_any_bytes_as_parse_qs(body: bytes) -> None:
    assert form_fields(body) == oracle(body)


@given(st.text(alphabet="ab=&+%2F3Cé€;", max_size=60))
def test_any_form_like_text_as_parse_qs(text: str) -> None:
    assert form_fields(text.encode()) == oracle(text.encode())
