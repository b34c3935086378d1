"""What the public pages say and link: regions with their article, links that cannot deceive."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mignet_contracts import reference
from mignet_contracts.envelope import new_id
from mignet_contracts.reviews import SubmitContribution
from mignet_reviews.templating import build_environment, in_sentence, web_url

DECEIVING = ["https://trusted.example@evil.example/", "https://user:pass@evil.example/x", "http://@evil.example/"]


@pytest.mark.parametrize("link", DECEIVING)
def test_a_link_with_userinfo_is_refused_at_submission(link):
    with pytest.raises(ValidationError) as excinfo:
        SubmitContribution(
            command_id=new_id(),
            actor="t",
            review_id="asia-pacific-2024-2025",
            level="national",
            title="t",
            summary="s",
            objectives=[1],
            language="en",
            contributor={"kind": "member-state", "country": "BD"},
            contact={"name": "A", "email": "a@example.org"},
            links=[link],
        )
    [error] = excinfo.value.errors()
    assert error["loc"] == ("links", 0) and "user name or password before its host" in error["msg"]


@pytest.mark.parametrize("link", DECEIVING)
def test_a_link_with_userinfo_is_never_rendered_as_a_link(link):
    assert web_url(link) is None
    html = (
        build_environment()
        .from_string("{% set u = link|web_url %}{% if u %}<a href='{{ u }}'>{% endif %}{{ link }}")
        .render(link=link)
    )
    assert "<a" not in html


def test_ordinary_links_stay_links():
    assert web_url("https://example.org/report?lang=en#top") == "https://example.org/report?lang=en#top"


def test_regions_read_with_their_article_inside_a_sentence():
    assert in_sentence("arab-region") == "the Arab region"
    assert in_sentence("asia-pacific") == "Asia and the Pacific"
    assert set(reference.REGIONS_IN_SENTENCE) == set(reference.REGIONS)
