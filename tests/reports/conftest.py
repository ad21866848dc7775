"""Reports read the sales office's deals and receipts: the sales fixtures, re-used."""

from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401
from tests.sales.conftest import _pipeline, flat, units  # noqa: F401
