from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401
