"""The CLI's tables and error lines: ids stay whole and copyable, each error is said once."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from mignet_cli import common
from mignet_cli.reviews import CONTRIBUTION_COLUMNS
from mignet_contracts.envelope import ErrorBody, ErrorDetail

ROW = {
    "contribution_id": "c-a968314320795ea1",
    "status": "being-established",
    "contributor_name": "Ministry of Foreign Affairs of the Lao People's Democratic Republic",
    "contributor_kind": "stakeholder",
    "level": "national",
    "objectives": [1, 2, 3, 5, 7, 11, 23],
    "title": "A long title about everything that matters",
    "network_status": "being-established",
    "champion_status": "confirmed",
}


def rendered(monkeypatch, width: int, rows=(ROW,), columns=CONTRIBUTION_COLUMNS) -> str:
    out = io.StringIO()
    monkeypatch.setattr(common, "console", Console(file=out, width=width, color_system=None))
    common.table(list(rows), columns, title="Contributions")
    return out.getvalue()


@pytest.mark.parametrize("width", [60, 80, 120, 200, 300])
def test_ids_and_statuses_never_wrap_at_any_width(monkeypatch, width):
    text = rendered(monkeypatch, width)
    lines = text.splitlines()
    assert any("c-a968314320795ea1" in line for line in lines), text
    assert text.count("being-established") == 2, text  # the row's status and its network's, each whole
    assert all(len(line) <= width for line in lines if "c-a968314320795ea1" in line or "━" in line)


def test_a_wide_terminal_gets_a_table_and_a_narrow_one_records(monkeypatch):
    assert "┃ id " in rendered(monkeypatch, 250)
    narrow = rendered(monkeypatch, 80)
    assert "┃" not in narrow, narrow
    assert "         id: c-a968314320795ea1" in narrow.splitlines(), narrow


def test_short_tables_stay_tables_on_a_narrow_terminal(monkeypatch):
    text = rendered(
        monkeypatch,
        60,
        rows=[{"on": "2025-01-01", "status": "report-published"}],
        columns=[("on", "on"), ("status", "status")],
    )
    assert "┃ on " in text and "report-published" in text


def test_an_error_is_said_once():
    rejected = ErrorBody(
        code="rejected",
        message="Mexico takes part in the regional review of ECLAC",
        details=[ErrorDetail(field="contributor.country", message="Mexico takes part in the regional review of ECLAC")],
    )
    assert common.error_lines(rejected) == [
        "error (rejected): contributor.country: Mexico takes part in the regional review of ECLAC"
    ]
    invalid = ErrorBody(
        code="validation_error",
        message="invalid request: region: unknown region; cycle: bad",
        details=[ErrorDetail(field="region", message="unknown region"), ErrorDetail(field="cycle", message="bad")],
    )
    assert common.error_lines(invalid) == [
        "error (validation_error): invalid request",
        "  - region: unknown region",
        "  - cycle: bad",
    ]
    many = ErrorBody(
        code="validation_error",
        message="invalid request: f0: bad; f1: bad; f2: bad; f3: bad; f4: bad",
        details=[ErrorDetail(field=f"f{i}", message="bad") for i in range(7)],
    )
    assert common.error_lines(many) == [
        "error (validation_error): invalid request",
        *[f"  - f{i}: bad" for i in range(7)],
    ]
    plain = ErrorBody(code="unavailable", message="cannot reach NATS")
    assert common.error_lines(plain) == ["error (unavailable): cannot reach NATS"]


@pytest.mark.parametrize(
    ("code", "exit_code"),
    [("validation_error", 2), ("rejected", 1), ("not_found", 1), ("conflict", 3), ("unavailable", 3), ("internal", 3)],
)
def test_exit_codes_follow_the_error_code(code, exit_code):
    assert common.exit_code(code) == exit_code


def test_privacy_erase_refuses_a_malformed_address_before_connecting_and_never_echoes_it():
    from typer.testing import CliRunner

    from mignet_cli.main import app

    result = CliRunner().invoke(
        app,
        [
            "privacy",
            "erase",
            "--email",
            "not-an-address-secret",
            "--requested-by",
            "t-1",
            "--nats-url",
            "nats://127.0.0.1:1",
        ],
    )
    assert result.exit_code == 2, result.output
    assert "email" in result.output and "not-an-address-secret" not in result.output
    assert "Traceback" not in result.output
