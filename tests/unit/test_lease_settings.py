"""The lease's configuration and key, without a server."""

from __future__ import annotations

import pytest

from mignet_runtime.lease import Lease, lease_bucket, lease_key
from mignet_runtime.settings import Settings


def test_lease_seconds_come_from_the_environment_and_must_leave_time_to_hold_the_lease(monkeypatch):
    monkeypatch.setenv("MIGNET_LEASE_SECONDS", "4")
    assert Settings.from_env().lease_seconds == 4
    assert Settings().lease_seconds == 10
    for bad in ("1", "0", "-3"):
        monkeypatch.setenv("MIGNET_LEASE_SECONDS", bad)
        with pytest.raises(SystemExit, match="MIGNET_LEASE_SECONDS must be at least 2"):
            Settings.from_env()
    monkeypatch.setenv("MIGNET_LEASE_SECONDS", "ten")
    with pytest.raises(SystemExit, match="MIGNET_LEASE_SECONDS must be a whole number"):
        Settings.from_env()


def test_names_follow_the_agreed_spec():
    assert lease_bucket("registry") == "leases_registry"
    assert lease_key("mignet_registry") == "projections.mignet_registry"
    with pytest.raises(ValueError):
        lease_key("a b")


def test_the_local_deadline_keeps_a_margin_before_the_server_would_expire_the_key():
    now = [0.0]
    lease = Lease(kv=None, key="projections.x", ttl=10, clock=lambda: now[0])
    assert not lease.held()  # never acquired
    lease.token = 7
    lease._held_from(sent=0.0, revision=7)
    now[0] = 7.9
    assert lease.held()
    now[0] = 8.0  # 10 s TTL - 20 % margin
    assert not lease.held()
    with pytest.raises(ValueError):
        Lease(kv=None, key="projections.x", ttl=0.5)  # the margin would eat it all
    assert lease.renew_every == pytest.approx(10 / 3) and lease.retry_every == 1.0
