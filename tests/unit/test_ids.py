"""Identifiers shaped like AWS's: a prefix, then characters of ``[A-Z2-7]``, fresh each time."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from connectfed.identity import ids


@pytest.mark.parametrize(
    ("make", "prefix", "length"),
    [
        (ids.user_unique_id, "AIDA", 21),
        (ids.role_unique_id, "AROA", 21),
        (ids.long_term_access_key_id, "AKIA", 20),
        (ids.temporary_access_key_id, "ASIA", 20),
    ],
)
def test_ids_have_their_prefix_length_and_alphabet(
    make: Callable[[], str], prefix: str, length: int
) -> None:
    made = {make() for _ in range(2000)}
    assert len(made) == 2000
    assert all(re.fullmatch(f"{prefix}[A-Z2-7]{{{length - 4}}}", value) for value in made)
    # Every character of the alphabet turns up (each is drawn uniformly from 32).
    assert set("".join(value[4:] for value in made)) == set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
