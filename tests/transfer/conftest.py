"""Import and export fixtures: a private import folder and a way to run a job end to end."""

import pytest

from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    """Uploads, progress files and error reports of the test go to its own folder."""
    settings.GUANXI_IMPORT_DIR = tmp_path / "imports"
    return settings.GUANXI_IMPORT_DIR
