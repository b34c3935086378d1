"""The metrics' names and outcomes, and that the dashboard and the operations guide use only (and all) of them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from mignet_notifier.metrics import DeliveryMetrics
from mignet_runtime.metrics import COMMAND_OUTCOMES, CacheCollector, ServiceMetrics, reply_outcome

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = json.loads((ROOT / "deploy" / "grafana" / "mignet.json").read_text())
OPERATIONS = (ROOT / "docs" / "operations.md").read_text()
#: Series the cache collector adds at scrape time (not declared on the registry up front).
_UNSTARTED = SimpleNamespace(spec=SimpleNamespace(name="registry"), executor_or_none=None)
CACHE_SERIES = {
    f.name + ("_total" if f.type == "counter" else "")
    for f in CacheCollector(_UNSTARTED).collect()  # type: ignore[arg-type]
}


def _registry():
    """The runtime's metrics, and a service's own on the same registry (the notifier's deliveries)."""
    metrics = ServiceMetrics("notifier")
    DeliveryMetrics("notifier", metrics.registry)
    return metrics


def exported_series() -> set[str]:
    """Every series name a scrape can carry (``_total``, ``_bucket``... included)."""
    metrics = _registry()
    names = set(CACHE_SERIES)
    for family in metrics.registry.collect():
        names.add(family.name)
        names.update(
            family.name + suffix
            for suffix in ("_total", "_bucket", "_count", "_sum")
            if family.type in ("counter", "histogram")
        )
    return names


def documented_families() -> set[str]:
    metrics = _registry()
    families = {f.name + ("_total" if f.type == "counter" else "") for f in metrics.registry.collect()}
    return families | CACHE_SERIES


@pytest.mark.parametrize(
    ("reply", "command", "outcome"),
    [
        (b'{"ok":true,"result":{"aggregate":"network","replayed":false},"error":null}', True, "accepted"),
        (b'{"ok":true,"result":{"aggregate":"network","replayed":true},"error":null}', True, "replayed"),
        (b'{"ok":true,"result":{"items":[]},"error":null}', False, "ok"),
        (b'{"ok":false,"result":null,"error":{"code":"rejected","message":"no"}}', True, "rejected"),
        (b'{"ok":false,"result":null,"error":{"code":"validation_error","message":"x"}}', False, "validation_error"),
        (b'{"ok":false,"result":null,"error":{"code":"conflict","message":"x"}}', True, "conflict"),
        (b'{"ok":false,"result":null,"error":{"code":"something-new","message":"x"}}', True, "internal"),
        (b"not json at all", True, "internal"),
    ],
)
def test_a_reply_says_its_outcome(reply, command, outcome):
    assert reply_outcome(reply, command) == outcome


def test_every_outcome_the_contracts_know_is_counted_by_name():
    from mignet_contracts.envelope import ErrorBody

    codes = set((ErrorBody.model_fields["code"].description or "").split(" | "))
    assert "rejected" in codes
    assert codes <= set(COMMAND_OUTCOMES), codes - set(COMMAND_OUTCOMES)


def test_the_dashboard_queries_only_metrics_that_exist():
    exprs = [t["expr"] for p in DASHBOARD["panels"] for t in p["targets"]]
    exprs.append(next(v["query"] for v in DASHBOARD["templating"]["list"] if v["name"] == "service"))
    used = {name for expr in exprs for name in re.findall(r"\bmignet_[a-z_]+", expr)}
    assert used, "the dashboard has no query"
    assert used <= exported_series(), used - exported_series()
    ids = [p["id"] for p in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids))


def test_the_operations_guide_explains_every_metric():
    missing = {name for name in documented_families() if f"`{name}`" not in OPERATIONS}
    assert not missing, f"docs/operations.md does not explain {sorted(missing)}"


def test_the_alert_rules_use_only_metrics_that_exist_and_the_guide_explains_each():
    import yaml

    document = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    rules = [rule for group in document["groups"] for rule in group["rules"]]
    assert rules and all({"alert", "expr"} <= set(rule) for rule in rules)
    used = {name for rule in rules for name in re.findall(r"\bmignet_[a-z_]+", rule["expr"])}
    assert used <= exported_series(), used - exported_series()
    assert {"mignet_ready", "mignet_projection_parked_events", "mignet_projection_lag_seconds"} <= used
    for rule in rules:
        assert f"`{rule['alert']}`" in OPERATIONS, rule["alert"]


def test_every_delivery_series_exists_at_zero_before_the_first_attempt():
    """MignetDeliveriesFailing compares failed with delivered per channel: a channel that never delivered (an SMTP
    relay down since the start) must have a delivered series, at zero, or the comparison is empty and never fires."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    DeliveryMetrics("notifier", registry)
    text = generate_latest(registry).decode()
    for channel in ("webhook", "email"):
        for outcome in ("delivered", "failed", "parked"):
            line = f'mignet_delivery_attempts_total{{channel="{channel}",outcome="{outcome}",service="notifier"}} 0.0'
            assert line in text
        assert f'mignet_deliveries{{channel="{channel}",service="notifier",status="parked"}} 0.0' in text
