"""Sealing OAuth tokens at rest with a key derived from SECRET_KEY."""

import base64

import pytest
from cryptography.fernet import Fernet, InvalidToken

from bot.integrations.token_crypto import TokenBox, TokenUnreadable

SECRET = b"a-long-random-secret-key-for-tests-0123456789"
TOKEN = "1//0gLq-refresh-token_with/odd+chars=é"


def test_a_sealed_token_opens_with_the_same_secret_only() -> None:
    sealed = TokenBox.from_secret_key(SECRET).seal(TOKEN)

    assert TOKEN not in sealed and sealed.isascii()
    assert TokenBox.from_secret_key(SECRET).open(sealed) == TOKEN  # a new box, e.g. after a restart
    with pytest.raises(TokenUnreadable, match="SECRET_KEY changed"):
        TokenBox.from_secret_key(SECRET + b"-rotated").open(sealed)


def test_sealing_twice_gives_different_values() -> None:
    box = TokenBox.from_secret_key(SECRET)
    first, second = box.seal(TOKEN), box.seal(TOKEN)
    assert first != second and box.open(first) == box.open(second) == TOKEN


def test_an_altered_or_foreign_value_is_unreadable() -> None:
    box = TokenBox.from_secret_key(SECRET)
    sealed = box.seal(TOKEN)
    tampered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    for value in (tampered, "not a sealed token", "ünïcode", ""):
        with pytest.raises(TokenUnreadable):
            box.open(value)


def test_the_key_is_derived_not_the_secret_itself() -> None:
    sealed = TokenBox.from_secret_key(SECRET).seal(TOKEN)
    naive = Fernet(base64.urlsafe_b64encode(SECRET[:32]))
    with pytest.raises(InvalidToken):
        naive.decrypt(sealed.encode())


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        TokenBox.from_secret_key(b"")
