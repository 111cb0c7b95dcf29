"""IAM wildcard matching in linear space and O(len(pattern) * len(value)) worst-case time.

IAM's wildcards ("IAM JSON policy elements: Action / Resource", "String condition operators")
are ``*`` (any run of characters, including none) and ``?`` (exactly one character); nothing else
is special — ``[``, ``]`` and ``\\`` are literal. User-supplied patterns are never turned into
regular expressions: a backtracking regex engine takes exponential time on patterns such as
``*/*/*/*/*/*/*X``. This is the classic two-pointer matcher that remembers only the last ``*``.

A compiled pattern is a tuple of tokens: one-character strings are literals, and the two
multi-character markers :data:`STAR` and :data:`ONE` are the wildcards. Since a marker is never
equal to a single character, text that must stay literal (a policy variable's value, or
``${*}``) can sit in the same pattern as wildcards.

ARNs are matched segment by segment (IAM User Guide, "ARN condition operators": "each of the six
colon-delimited components of the ARN is checked separately"): a wildcard never crosses one of
the first five colons; the last segment (the resource) takes the rest, colons included.
"""

from __future__ import annotations

from functools import lru_cache

STAR = "<*>"
ONE = "<?>"

Pattern = tuple[str, ...]


@lru_cache(maxsize=4096)
def compile_glob(text: str) -> Pattern:
    """``*`` and ``?`` are wildcards; every other character is literal."""
    return tuple(STAR if ch == "*" else ONE if ch == "?" else ch for ch in text)


def literal(text: str) -> Pattern:
    return tuple(text)


def as_text(pattern: Pattern) -> str:
    """The pattern written back as text (wildcards as ``*`` and ``?``)."""
    return "".join("*" if t == STAR else "?" if t == ONE else t for t in pattern)


def _lower(pattern: Pattern) -> Pattern:
    return tuple(t if t in (STAR, ONE) else t.lower() for t in pattern)


# The hot path asks the same few questions on every request (this policy's action and resource
# patterns against this operation and this ARN): answers are remembered, as pure functions of
# their arguments, in bounded caches.
_MEMO = 4096


@lru_cache(maxsize=_MEMO)
def match_tokens(pattern: Pattern, value: str, *, ignore_case: bool = False) -> bool:
    """Whether ``value`` matches ``pattern`` as a whole."""
    if ignore_case:
        pattern, value = _lower(pattern), value.lower()
    p = v = 0
    star = -1  # index in pattern of the last * seen
    resume = 0  # index in value where that * currently stops
    n, m = len(pattern), len(value)
    while v < m:
        if p < n and (pattern[p] == ONE or pattern[p] == value[v]):
            p += 1
            v += 1
        elif p < n and pattern[p] == STAR:
            star, resume = p, v
            p += 1
        elif star >= 0:
            # Let the last * swallow one more character and retry from just after it.
            resume += 1
            p, v = star + 1, resume
        else:
            return False
    while p < n and pattern[p] == STAR:
        p += 1
    return p == n


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return match_tokens(compile_glob(pattern), value, ignore_case=ignore_case)


def _split(pattern: Pattern, parts: int) -> list[Pattern]:
    out: list[Pattern] = []
    start = 0
    for index, item in enumerate(pattern):
        if len(out) == parts - 1:
            break
        if item == ":":
            out.append(pattern[start:index])
            start = index + 1
    out.append(pattern[start:])
    return out


@lru_cache(maxsize=_MEMO)
def match_arn_tokens(pattern: Pattern, value: str) -> bool:
    """Segment-wise ARN match: the pattern's colons split both sides (at most six segments)."""
    segments = min(6, pattern.count(":") + 1)
    wanted = _split(pattern, segments)
    actual = value.split(":", segments - 1)
    if len(actual) != len(wanted):
        return False
    return all(match_tokens(w, a) for w, a in zip(wanted, actual, strict=True))


def arn_match(pattern: str, value: str) -> bool:
    return match_arn_tokens(compile_glob(pattern), value)
