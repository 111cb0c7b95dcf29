"""Secrets at rest: authenticated encryption under a master key that never enters the database.

Secrets the server must recover (IAM access-key secrets, STS session secrets, the token HMAC key)
are stored as ``v1:<base64url(nonce || AES-256-GCM ciphertext and tag)>``. The associated data
names the row the secret belongs to (``access_keys:<key id>``, ``sts_sessions:<key id>``,
``meta:<name>``), so a ciphertext copied into another row does not open (NIST SP 800-38D §5.2.1
on associated data). ``:`` never occurs in AWS's base64 secrets, so a sealed value can never be
mistaken for a legacy plaintext one.

The key comes from a :class:`MasterKey`: a fixed value (``CONNECTFED_MASTER_KEY``) or a key file
(``<data-dir>/master.key``, mode 0600, created on the first start of an empty database). The
database keeps only a sealed check value, so a wrong or missing key is refused at start with one
clear line instead of silently generating a new key.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
_PREFIX = "v1:"
SEALED_LIKE = _PREFIX + "%"  # SQL LIKE pattern matching sealed values
_NONCE_BYTES = 12
KEY_CHECK = "master_key_check"  # the meta entry holding the sealed check value
_KEY_CHECK_TEXT = "connectfed master key check"


class MasterKeyError(Exception):
    """The master key is missing, malformed or does not open this database's secrets."""


def is_sealed(value: str) -> bool:
    return value.startswith(_PREFIX)


def decode_key(text: str, origin: str) -> bytes:
    """A master key from its text form: base64 (standard or URL-safe) of 32 bytes."""
    try:
        key = base64.urlsafe_b64decode(text.strip().replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise MasterKeyError(f"{origin} must hold a base64-encoded {KEY_BYTES}-byte key")
    return key


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


class SecretBox:
    """Seals and opens secret strings with AES-256-GCM, bound to a context (the row identity)."""

    def __init__(self, key: bytes | None) -> None:
        self._aead = AESGCM(key) if key is not None else None

    def _cipher(self) -> AESGCM:
        if self._aead is None:
            raise MasterKeyError(
                "no master key configured: give --master-key-file or CONNECTFED_MASTER_KEY"
            )
        return self._aead

    def seal(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._cipher().encrypt(nonce, plaintext.encode(), context.encode())
        return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, sealed: str, context: str) -> str:
        if not is_sealed(sealed):
            raise MasterKeyError(f"the stored secret of {context} is not sealed")
        try:
            raw = base64.urlsafe_b64decode(sealed.removeprefix(_PREFIX))
            return (
                self._cipher()
                .decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
                .decode()
            )
        except (InvalidTag, binascii.Error, ValueError):
            raise MasterKeyError(
                f"the stored secret of {context} does not open with this master key"
            ) from None

    def check_value(self) -> str:
        return self.seal(_KEY_CHECK_TEXT, "meta:" + KEY_CHECK)

    def verify_check_value(self, sealed: str, origin: str) -> None:
        try:
            ok = self.open(sealed, "meta:" + KEY_CHECK) == _KEY_CHECK_TEXT
        except MasterKeyError:
            ok = False
        if not ok:
            raise MasterKeyError(
                f"the master key ({origin}) does not match this database: its secrets were "
                "sealed with another key; give the right --master-key-file or "
                "CONNECTFED_MASTER_KEY"
            )


class MasterKey(Protocol):
    """Where the master key comes from."""

    origin: str

    def load(self, database_is_new: bool) -> bytes:
        """The key; ``database_is_new``: the database holds no sealed secret yet."""
        ...


class StaticKey:
    def __init__(self, key: bytes, origin: str = "CONNECTFED_MASTER_KEY") -> None:
        if len(key) != KEY_BYTES:
            raise MasterKeyError(f"{origin} must be a {KEY_BYTES}-byte key")
        self._key = key
        self.origin = origin

    def load(self, database_is_new: bool) -> bytes:
        return self._key


class KeyFile:
    """A key file (mode 0600). Created only for a new database; never silently replaced."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.origin = str(path)

    def load(self, database_is_new: bool) -> bytes:
        try:
            return decode_key(self.path.read_text(), f"master key file {self.path}")
        except FileNotFoundError:
            if not database_is_new:
                raise MasterKeyError(
                    f"master key file {self.path} is missing, but the database holds secrets "
                    "sealed with a master key; restore the file or give --master-key-file / "
                    "CONNECTFED_MASTER_KEY"
                ) from None
        except OSError as exc:
            raise MasterKeyError(f"cannot read master key file {self.path}: {exc}") from None
        return self._create()

    def _create(self) -> bytes:
        key = new_key()
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Written whole to a private temporary file, then linked into place: a concurrent
        # starter either wins or reads the complete key of the winner, never a partial file.
        temporary = self.path.with_name(f".{self.path.name}.{secrets.token_hex(8)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(encode_key(key) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, self.path)
            except FileExistsError:
                return decode_key(self.path.read_text(), f"master key file {self.path}")
        finally:
            temporary.unlink(missing_ok=True)
        return key
