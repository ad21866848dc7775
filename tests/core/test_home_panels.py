"""The home page is built from the panels apps register (core imports no domain app);
the administrator's panel is the system's health."""

import os
import time

from django.utils import timezone

from guanxi.core import home
from guanxi.core.home import HomePanel, home_panels_for, register_home_panel
from guanxi.core.models import Webhook, WebhookDelivery


def test_a_panel_shows_only_for_the_users_its_function_accepts(owner, manager, monkeypatch):
    monkeypatch.setattr(home, "_PANELS", dict(home._PANELS))
    register_home_panel(
        HomePanel(
            "test.managers_only",
            "core/panels/recent_activity.html",
            lambda user: {"entries": []} if user.managed_unit_ids else None,
            order=1,
        )
    )
    assert "test.managers_only" in [p.name for p, _ in home_panels_for(manager)]
    assert "test.managers_only" not in [p.name for p, _ in home_panels_for(owner)]


def test_admin_home_shows_failed_webhooks_and_a_missing_backup(
    client, admin_user, settings, tmp_path
):
    settings.VAR_DIR = tmp_path
    hook = Webhook.objects.create(name="ERP", url="http://127.0.0.1:9/", events=["x"])
    WebhookDelivery.objects.create(
        webhook=hook,
        event="customer.created",
        event_id="00000000-0000-0000-0000-000000000001",
        status=WebhookDelivery.Status.FAILED,
        next_attempt_at=timezone.now(),
    )
    client.force_login(admin_user)
    html = client.get("/").content.decode()
    assert 'data-panel="core.system_health"' in html
    assert "none yet: run guanxi backup" in html
    assert "not seen in the last 10 minutes" in html
    backups = tmp_path / "backups"
    backups.mkdir()
    (backups / "guanxi-20261203-010000.sqlite3").write_bytes(b"")
    os.utime(backups / "guanxi-20261203-010000.sqlite3", (time.time(), time.time()))
    html = client.get("/").content.decode()
    assert "none yet: run guanxi backup" not in html


def test_a_salesperson_sees_no_system_health(client, owner):
    client.force_login(owner)
    assert 'data-panel="core.system_health"' not in client.get("/").content.decode()
