"""Autouse fixtures shared by tests/core and tests/customers (imported by their conftests)."""

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 still, with the smallest cost: fixtures create many users per test.

    The production parameters are tested once, in tests/core/test_login.py.
    """

    time_cost = 1
    memory_cost = 64
    parallelism = 1


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = [
        "tests.core.testing.FastArgon2PasswordHasher",
        *settings.PASSWORD_HASHERS,
    ]


@pytest.fixture(autouse=True)
def _plain_http(settings):
    """The test client speaks plain HTTP; production's redirect to HTTPS is not under test."""
    settings.SECURE_SSL_REDIRECT = False
