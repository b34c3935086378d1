"""The compilation files: public fields only, lists joined, nothing a spreadsheet would run."""

from __future__ import annotations

import csv
import io

import pytest

from mignet_reviews.compilation_export import COLUMNS, cell, csv_lines, document, public_item

DOC = {
    "contribution_id": "c-0123456789abcdef",
    "review_id": "asia-pacific-2024-2025",
    "region": "asia-pacific",
    "cycle": "2024-2025",
    "status": "published",
    "status_history": [{"status": "submitted", "on": "2025-01-10"}],
    "contributor": {
        "kind": "stakeholder",
        "country": "NP",
        "country_name": "Nepal",
        "category": "academia",
        "category_label": "Academia",
        "organization": '-Test, "University"',
    },
    "level": "national",
    "title": "+1 for data",
    "summary": "@everyone",
    "body": "Line one\nLine two, with a comma",
    "objectives": [1, 5],
    "guiding_principles": ["human-rights"],
    "language": "ne",
    "links": ["https://example.org/a", "https://example.org/b"],
    "submitted_on": "2025-01-10",
    "published_on": "2025-01-12",
    "moderator_note": None,
    "rejection_reason": None,
    "updated_at": "2025-01-12T10:00:00+00:00",
    "country_has_network": True,
    "country_is_champion": False,
}


def test_the_items_hold_the_public_fields_only():
    item = public_item(DOC)
    assert list(item) == list(COLUMNS)
    assert "status_history" not in item and "updated_at" not in item and "submitted_on" not in item


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_a_spreadsheet_would_run_is_text(text):
    assert cell("title", text) == "'" + text


def test_lists_and_flags_in_cells():
    assert cell("objectives", [1, 5]) == "1;5"
    assert cell("links", ["a", "b"]) == "a\nb"
    assert (cell("country_has_network", True), cell("country_is_champion", False), cell("body", None)) == (
        "yes",
        "no",
        "",
    )


def test_the_csv_reads_back_field_for_field():
    text = "".join(csv_lines([DOC]))
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["organization"] == '\'-Test, "University"' and row["title"] == "'+1 for data"
    assert row["body"] == "Line one\nLine two, with a comma" and row["objectives"] == "1;5"
    assert text.startswith(",".join(COLUMNS) + "\r\n")


def test_the_json_document_counts_its_items():
    found = document([DOC, DOC], {"region": "asia-pacific"})
    assert found["total"] == 2 and found["filters"] == {"region": "asia-pacific"}
    assert found["items"][0]["title"] == "+1 for data"  # JSON keeps the text as written
