"""The reviews service end to end: NATS request-reply in, events in JetStream, read models in MongoDB,
and the public pages over HTTP.

The builders at the top are shared with the other reviews test modules.
"""

from __future__ import annotations

import asyncio
import dataclasses
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request

import nats
import pytest
from conftest import RunningService, eventually

from mignet_contracts import registry as r
from mignet_contracts import reviews as c
from mignet_contracts.envelope import new_id
from mignet_reviews import domain, seed
from mignet_reviews.app import SPEC
from mignet_runtime.client import RequestFailed
from mignet_runtime.codec import EventCodec
from mignet_runtime.eventstore import EventStore
from mignet_runtime.localstack import free_port

ACTOR = "test:reviews"
AP = "asia-pacific-2024-2025"
CONTACT = {"name": "Ana Reyes-Privada", "email": "ana.reyes.private@example.org"}
BANGLADESH = {"kind": "member-state", "country": "BD"}
MFA = {"kind": "stakeholder", "category": "migrant-diaspora", "organization": "Migrant Forum in Asia", "country": "PH"}

#: The service without its HTTP task, for tests that do not look at the pages: the runtime
#: waits up to 5 s for background tasks before cancelling them, so every stop would cost 5 s.
NATS_ONLY = dataclasses.replace(SPEC, background=())


# --- builders -------------------------------------------------------------------------


def schedule(region: str = "asia-pacific", cycle: str = "2024-2025", **fields) -> c.ScheduleReview:
    return c.ScheduleReview(**({"command_id": new_id()} | fields), actor=ACTOR, region=region, cycle=cycle)


def submission(review_id: str = AP, contributor: dict = BANGLADESH, **fields) -> c.SubmitContribution:
    values = {
        "level": "national",
        "title": "National review of GCM implementation",
        "summary": "Progress on regular pathways and data.",
        "objectives": [1, 5],
        "language": "en",
        "contact": CONTACT,
        **fields,
    }
    return c.SubmitContribution(
        **({"command_id": new_id()} | values), actor=ACTOR, review_id=review_id, contributor=contributor
    )


async def open_review(client, region: str = "asia-pacific", cycle: str = "2024-2025") -> str:
    result = await client.command(schedule(region, cycle))
    await client.command(c.OpenReview(command_id=new_id(), actor=ACTOR, review_id=result.aggregate_id))
    return result.aggregate_id


async def submit_and_publish(client, review_id: str = AP, **fields) -> str:
    submitted = await client.command(submission(review_id, **fields))
    await client.command(
        c.PublishContribution(command_id=new_id(), actor=ACTOR, contribution_id=submitted.aggregate_id)
    )
    return submitted.aggregate_id


async def ensure_registry_stream(nats_url: str) -> None:
    """The REGISTRY stream, as the registry service creates it.

    Deployed, the registry always runs; without its stream the reviews service's
    registry-mirror consumers would retry, logging, every 5 s.
    """
    nc = await nats.connect(nats_url)
    try:
        await EventStore(nc, r.SERVICE, EventCodec(r.REGISTRY_EVENTS)).ensure_stream()
    finally:
        await nc.close()


async def http_get(url: str, method: str = "GET") -> tuple[int, dict[str, str], str]:
    def get():
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    status, headers, body = await asyncio.to_thread(get)
    return status, {k.lower(): v for k, v in headers.items()}, body


async def http_head_no_redirect(url: str, accept_language: str) -> tuple[int, dict[str, str]]:
    """A GET that does not follow redirects: the status and headers."""

    def get():
        parts = urllib.parse.urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            connection.request("GET", path, headers={"Accept-Language": accept_language})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}
        finally:
            connection.close()

    return await asyncio.to_thread(get)


async def contribution_in_status(service, contribution_id: str, status: str) -> dict:
    async def probe():
        doc = await service.client.query(c.GetContribution(contribution_id=contribution_id))
        return doc if doc["status"] == status else None

    return await eventually(probe)


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture
async def reviews(fresh_nats, settings_for):
    await ensure_registry_stream(fresh_nats)
    async with RunningService(NATS_ONLY, settings_for(fresh_nats)) as service:
        yield service


@pytest.fixture
async def reviews_with_pages(fresh_nats, settings_for):
    await ensure_registry_stream(fresh_nats)
    port = free_port()
    async with RunningService(SPEC, settings_for(fresh_nats, http_port=port)) as service:
        service.base_url = f"http://127.0.0.1:{port}"
        await eventually(lambda: _answers(service.base_url + "/healthz"))
        yield service


async def _answers(url: str) -> bool:
    try:
        return (await http_get(url))[0] == 200
    except OSError:
        return False


# --- review lifecycle ---------------------------------------------------------------------


async def test_review_lifecycle_reaches_the_read_model(reviews):
    result = await reviews.client.command(
        schedule(meeting_start="2025-02-04", meeting_end="2025-02-06", venue="Bangkok", occurred_on="2024-08-01")
    )
    assert result.aggregate_id == AP
    assert [e.subject for e in result.events] == [f"reviews.events.review.{AP}.scheduled"]
    for command in (
        c.OpenReview(command_id=new_id(), actor=ACTOR, review_id=AP, occurred_on="2024-10-01"),
        c.CloseReview(command_id=new_id(), actor=ACTOR, review_id=AP, occurred_on="2025-02-06"),
        c.PublishReviewReport(
            command_id=new_id(),
            actor=ACTOR,
            review_id=AP,
            report_url="https://example.org/report.pdf",
            occurred_on="2025-04-01",
        ),
    ):
        await reviews.client.command(command)

    async def published():
        found = await reviews.client.query(c.ListReviews(status="report-published"))
        return found["items"] if found["total"] else None

    [review] = await eventually(published)
    assert review["commission"] == "ESCAP" and review["region_name"] == "Asia and the Pacific"
    assert review["meeting_start"] == "2025-02-04" and review["venue"] == "Bangkok"
    assert [h["status"] for h in review["status_history"]] == [
        "planned",
        "open-for-contributions",
        "closed",
        "report-published",
    ]
    assert review["report_url"] == "https://example.org/report.pdf"
    assert await reviews.client.query(c.GetReview(review_id=AP)) == review
    assert (await reviews.client.query(c.ListReviews(region="africa")))["total"] == 0


async def test_one_review_per_region_and_cycle(reviews):
    first = await reviews.client.command(schedule(command_id="schedule-ap-once"))
    again = await reviews.client.command(schedule(command_id="schedule-ap-once"))
    assert again.replayed and again.events == first.events
    with pytest.raises(RequestFailed) as failure:
        await reviews.client.command(schedule())
    assert failure.value.error.code == "rejected"
    assert "one review per region and cycle" in failure.value.error.message
    with pytest.raises(RequestFailed) as wrong_organizer:
        await reviews.client.command(schedule(region="africa", commission="ECLAC"))
    assert wrong_organizer.value.error.code == "rejected" and "organized by ECA" in wrong_organizer.value.error.message
    assert await reviews.runtime.store.last_seq() == 1


# --- contributions --------------------------------------------------------------------------


async def test_submit_publish_reject_withdraw(reviews):
    await open_review(reviews.client)
    submitted = await reviews.client.command(submission())
    assert [e.subject.rsplit(".", 1)[1] for e in submitted.events] == ["submitted"]  # the contact sealed in it
    bd = submitted.aggregate_id
    doc = await contribution_in_status(reviews, bd, "submitted")
    assert doc["contributor"] == {
        "kind": "member-state",
        "country": "BD",
        "country_name": "Bangladesh",
        "category": None,
        "category_label": None,
        "organization": None,
    }
    assert doc["region"] == "asia-pacific" and doc["cycle"] == "2024-2025" and doc["objectives"] == [1, 5]

    await reviews.client.command(
        c.PublishContribution(command_id=new_id(), actor=ACTOR, contribution_id=bd, note="Received by ESCAP.")
    )
    published = await contribution_in_status(reviews, bd, "published")
    assert published["moderator_note"] == "Received by ESCAP."

    mfa = (await reviews.client.command(submission(contributor=MFA, level="regional"))).aggregate_id
    await reviews.client.command(
        c.RejectContribution(command_id=new_id(), actor=ACTOR, contribution_id=mfa, reason="Duplicate.")
    )
    assert (await contribution_in_status(reviews, mfa, "rejected"))["rejection_reason"] == "Duplicate."
    with pytest.raises(RequestFailed) as final:
        await reviews.client.command(c.PublishContribution(command_id=new_id(), actor=ACTOR, contribution_id=mfa))
    assert final.value.error.code == "rejected" and "rejection is final" in final.value.error.message

    await reviews.client.command(
        c.WithdrawContribution(command_id=new_id(), actor=ACTOR, contribution_id=bd, reason="Superseded.")
    )
    withdrawn = await contribution_in_status(reviews, bd, "withdrawn")
    assert withdrawn["withdrawal_reason"] == "Superseded." and "withdrawn_by" not in withdrawn

    listed = await reviews.client.query(c.ListContributions(review_id=AP))
    assert {item["contribution_id"]: item["status"] for item in listed["items"]} == {bd: "withdrawn", mfa: "rejected"}
    assert (await reviews.client.query(c.ListContributions(review_id=AP, status="published")))["total"] == 0


async def test_resent_submit_returns_the_same_contribution(reviews):
    await open_review(reviews.client)
    command = submission(command_id="submit-bd-once")
    first = await reviews.client.command(command)
    again = await reviews.client.command(command)
    assert again.replayed and again.aggregate_id == first.aggregate_id == c.contribution_id("submit-bd-once")
    assert await reviews.runtime.store.last_seq() == 3  # scheduled, opened, submitted


async def test_bad_input_gets_structured_errors_and_writes_nothing(reviews):
    await open_review(reviews.client)
    good = submission().model_dump(mode="json")
    cases = {
        "review_id": {**good, "review_id": "atlantis-2024-2025"},
        "contributor.member-state.country": {**good, "contributor": {"kind": "member-state", "country": "XX"}},
        "objectives.0": {**good, "objectives": [24]},
        "links.0": {**good, "links": ["javascript:alert(1)"]},
        "contact.email": {**good, "contact": {"name": "A", "email": "not-an-address"}},
        "surprise": {**good, "surprise": 1},
    }
    for field, payload in cases.items():
        reply = await reviews.client.request(c.SubmitContribution.subject(), payload)
        assert not reply.ok and reply.error.code == "validation_error", field
        assert field in {d.field for d in reply.error.details}, (field, reply.error.details)
    garbage = await reviews.client.request(c.SubmitContribution.subject(), b"{not json")
    assert garbage.error.code == "validation_error"
    bad_cycle = await reviews.client.request(
        c.ScheduleReview.subject(), {"command_id": new_id(), "actor": ACTOR, "region": "africa", "cycle": "2019-2020"}
    )
    assert bad_cycle.error.code == "validation_error" and "began in 2020" in bad_cycle.error.message

    with pytest.raises(RequestFailed) as wrong_region:
        await reviews.client.command(submission(contributor={"kind": "member-state", "country": "MX"}))
    assert wrong_region.value.error.code == "rejected"
    assert [d.field for d in wrong_region.value.error.details] == ["contributor.country"]
    with pytest.raises(RequestFailed) as unknown:
        await reviews.client.command(submission(review_id="africa-2024-2025"))
    assert unknown.value.error.code == "not_found"
    with pytest.raises(RequestFailed) as no_contribution:
        await reviews.client.command(
            c.PublishContribution(command_id=new_id(), actor=ACTOR, contribution_id="c-0123456789abcdef")
        )
    assert no_contribution.value.error.code == "not_found"
    assert await reviews.runtime.store.last_seq() == 2  # scheduled and opened only


async def test_only_an_open_review_takes_contributions(reviews):
    await reviews.client.command(schedule())
    with pytest.raises(RequestFailed) as planned:
        await reviews.client.command(submission())
    assert planned.value.error.code == "rejected" and "not yet open" in planned.value.error.message
    await reviews.client.command(c.OpenReview(command_id=new_id(), actor=ACTOR, review_id=AP))
    await reviews.client.command(submission())
    await reviews.client.command(c.CloseReview(command_id=new_id(), actor=ACTOR, review_id=AP))
    before = await reviews.runtime.store.last_seq()
    with pytest.raises(RequestFailed) as closed:
        await reviews.client.command(submission())
    assert closed.value.error.code == "rejected"
    assert "no longer takes contributions" in closed.value.error.message
    assert await reviews.runtime.store.last_seq() == before


async def test_contact_stays_in_the_event_store_only(reviews):
    await open_review(reviews.client)
    contribution_id = await submit_and_publish(reviews.client)
    await contribution_in_status(reviews, contribution_id, "published")

    replies = [
        await reviews.client.query(c.ListContributions(review_id=AP)),
        await reviews.client.query(c.GetContribution(contribution_id=contribution_id)),
        await reviews.client.query(c.Compilation()),
        await reviews.client.query(c.ReviewFigures(review_id=AP)),
    ]
    collections = {
        name: await reviews.db[name].find({}).to_list(None) for name in await reviews.db.list_collection_names()
    }
    assert "contributions" in collections
    for text in (json.dumps(replies), json.dumps(collections, default=str)):
        assert CONTACT["email"] not in text and CONTACT["name"] not in text

    # Where it is kept: sealed in the non-public event, which the domain reads to reach the contributor.
    submitted = await reviews.runtime.store.js.get_last_msg(
        "REVIEWS", f"reviews.events.contribution.{contribution_id}.submitted"
    )
    assert CONTACT["email"] not in submitted.data.decode()
    loaded = await reviews.runtime.executor.load(domain.CONTRIBUTION, contribution_id)
    assert loaded.state.contact.email == CONTACT["email"]


# --- figures and compilation -------------------------------------------------------------------


async def test_review_figures(reviews):
    client = reviews.client
    await open_review(client)
    await submit_and_publish(client)  # member state; objectives 1 and 5
    await submit_and_publish(client, contributor=MFA, level="regional", objectives=[5, 7])
    await client.command(
        submission(
            contributor={"kind": "stakeholder", "category": "academia", "organization": "Mahidol University"},
            level="local",
        )
    )
    rejected = (await client.command(submission(title="Off topic"))).aggregate_id
    await client.command(
        c.RejectContribution(command_id=new_id(), actor=ACTOR, contribution_id=rejected, reason="Not about the GCM.")
    )
    withdrawn = (await client.command(submission(title="Draft"))).aggregate_id
    await client.command(c.WithdrawContribution(command_id=new_id(), actor=ACTOR, contribution_id=withdrawn))

    expected_status = {"published": 2, "rejected": 1, "submitted": 1, "withdrawn": 1}

    async def settled():
        figures = await client.query(c.ReviewFigures(review_id=AP))
        return figures if figures["by_status"] == expected_status else None

    figures = await eventually(settled)
    assert figures["total"] == 5 and figures["review_status"] == "open-for-contributions"
    published = figures["published"]
    assert published["total"] == 2
    assert published["by_contributor_kind"] == {"member-state": 1, "stakeholder": 1}
    assert published["by_stakeholder_category"] == {"migrant-diaspora": 1}
    assert published["by_level"] == {"national": 1, "regional": 1}
    assert [(o["objective"], o["label"], o["count"]) for o in published["by_objective"]] == [
        (1, "Data", 1),
        (5, "Regular pathways", 2),
        (7, "Reduce vulnerabilities", 1),
    ]
    received = figures["received"]
    assert received["total"] == 3 and received["by_level"] == {"local": 1, "national": 1, "regional": 1}
    assert received["by_stakeholder_category"] == {"academia": 1, "migrant-diaspora": 1}

    with pytest.raises(RequestFailed) as unknown:
        await client.query(c.ReviewFigures(review_id="africa-2024-2025"))
    assert unknown.value.error.code == "not_found"


async def test_list_contributions_filters_and_pages(reviews):
    client = reviews.client
    await open_review(client)
    bd = await submit_and_publish(client)
    mfa = await submit_and_publish(client, contributor=MFA, level="regional", objectives=[5, 7])
    academia = (
        await client.command(
            submission(
                contributor={"kind": "stakeholder", "category": "academia", "organization": "Asian Institute"},
                level="local",
                objectives=[18],
            )
        )
    ).aggregate_id

    async def all_three():
        try:
            found = await client.query(c.ListContributions(review_id=AP))
        except RequestFailed as exc:  # the review's own read model may lag behind under load
            if exc.error.code == "not_found":
                return None
            raise
        statuses = [i["status"] for i in found["items"]]
        return found if statuses == ["published", "submitted", "published"] else None

    found = await eventually(all_three)
    # Member states first, then organizations by name.
    assert [i["contribution_id"] for i in found["items"]] == [bd, academia, mfa]

    async def ids(**filters):
        result = await client.query(c.ListContributions(review_id=AP, **filters))
        return [i["contribution_id"] for i in result["items"]], result["total"]

    assert await ids(status="published") == ([bd, mfa], 2)
    assert await ids(contributor_kind="stakeholder") == ([academia, mfa], 2)
    assert await ids(stakeholder_category="migrant-diaspora") == ([mfa], 1)
    assert await ids(level="local") == ([academia], 1)
    assert await ids(objective=5) == ([bd, mfa], 2)
    assert await ids(country="PH") == ([mfa], 1)
    assert await ids(limit=1, offset=1) == ([academia], 3)
    with pytest.raises(RequestFailed) as unknown:
        await client.query(c.ListContributions(review_id="africa-2024-2025"))
    assert unknown.value.error.code == "not_found"


async def test_compilation_holds_published_contributions_across_regions(reviews):
    client = reviews.client
    await open_review(client)
    africa = await open_review(client, "africa")
    first_cycle = await open_review(client, "africa", "2020-2021")
    bd = await submit_and_publish(client)
    ke = await submit_and_publish(
        client, africa, contributor={"kind": "member-state", "country": "KE"}, objectives=[5, 23]
    )
    old = await submit_and_publish(client, first_cycle, contributor={"kind": "member-state", "country": "GH"})
    await client.command(submission(africa, contributor={"kind": "member-state", "country": "NG"}))  # unpublished

    async def compiled():
        result = await client.query(c.Compilation())
        return result if result["total"] == 3 else None

    everything = await eventually(compiled)
    assert [i["contribution_id"] for i in everything["items"]] == [old, ke, bd]
    assert everything["by_region"] == {"africa": 2, "asia-pacific": 1}
    assert all(i["status"] == "published" for i in everything["items"])

    async def ids(**filters):
        return [i["contribution_id"] for i in (await client.query(c.Compilation(**filters)))["items"]]

    assert await ids(cycle="2024-2025") == [ke, bd]
    assert await ids(region="africa") == [old, ke]
    assert await ids(objective=23) == [ke]
    assert await ids(cycle="2024-2025", limit=1, offset=1) == [bd]


# --- seed ---------------------------------------------------------------------------------------


async def test_seed_schedules_both_cycles_and_is_idempotent(reviews):
    first = await seed.load(reviews.client)
    assert first == {"written": 30, "replayed": 0, "refused": []}
    last = await reviews.runtime.store.last_seq()
    again = await seed.load(reviews.client)
    assert again == {"written": 0, "replayed": 30, "refused": []}
    assert await reviews.runtime.store.last_seq() == last == 30

    async def all_ten():
        found = await reviews.client.query(c.ListReviews(status="closed"))
        return found["items"] if found["total"] == 10 else None

    items = await eventually(all_ten)
    assert {(i["cycle"], i["commission"]) for i in items} == {
        (cycle, commission)
        for cycle in ("2020-2021", "2024-2025")
        for commission in ("ECA", "ECE", "ECLAC", "ESCAP", "ESCWA")
    }
    ece = next(i for i in items if i["review_id"] == "europe-north-america-central-asia-2024-2025")
    assert ece["venue"] == "Geneva" and ece["meeting_start"] == ece["meeting_end"] == "2024-03-11"
    assert ece["stakeholder_consultations"] == ["2024-01-29", "2024-02-28"]
    escwa = next(i for i in items if i["review_id"] == "arab-region-2020-2021")
    assert escwa["partners"] == ["League of Arab States", "IOM"] and escwa["closed_on"] == "2021-02-25"


async def test_seed_leaves_alone_a_review_scheduled_by_other_means(reviews):
    await reviews.client.command(schedule("africa", "2024-2025"))
    summary = await seed.load(reviews.client)
    assert summary["written"] == 27
    assert [r["command_id"] for r in summary["refused"]] == ["seed-review-africa-2024-2025-schedule"]
    review = await reviews.runtime.executor.load(domain.REVIEW, "africa-2024-2025")
    assert review.state.status is c.ReviewStatus.PLANNED  # not opened or closed by the seed


# --- public pages -------------------------------------------------------------------------------


async def test_public_pages_show_published_contributions_only(reviews_with_pages):
    service = reviews_with_pages
    client, base = service.client, service.base_url
    await open_review(client)
    hostile = "<script>window.pwned=1</script>"
    shown = await submit_and_publish(
        client, title=f"Bangladesh {hostile}", body=f"Body {hostile}", links=["https://example.org/report"]
    )
    pending = (await client.command(submission(title="Still in moderation"))).aggregate_id
    rejected = (await client.command(submission(title="Rejected one"))).aggregate_id
    await client.command(
        c.RejectContribution(command_id=new_id(), actor=ACTOR, contribution_id=rejected, reason="Spam.")
    )
    await contribution_in_status(service, rejected, "rejected")
    await contribution_in_status(service, shown, "published")

    status, headers, index = await http_get(base + "/en/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "script-src" not in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "same-origin"
    assert "camera=()" in headers["permissions-policy"] and "geolocation=()" in headers["permissions-policy"]
    assert f'href="/en/reviews/{AP}"' in index and "Asia and the Pacific" in index

    status, _, page = await http_get(f"{base}/en/reviews/{AP}")
    assert status == 200
    assert f"/contributions/{shown}" in page
    assert pending not in page and "Still in moderation" not in page and "Rejected one" not in page
    assert hostile not in page and "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page
    assert "regional page for the 2024-2025 regional review" in page

    status, headers, detail = await http_get(f"{base}/en/contributions/{shown}")
    assert status == 200 and "default-src 'none'" in headers["content-security-policy"]
    assert hostile not in detail and "Body &lt;script&gt;" in detail
    assert '<a href="https://example.org/report" rel="nofollow noopener noreferrer ugc" dir="ltr">' in detail
    assert "Bangladesh" in detail and "1. Data" in detail and "5. Regular pathways" in detail
    assert CONTACT["email"] not in detail and CONTACT["name"] not in detail

    for unseen in (pending, rejected, "c-0123456789abcdef", "not-an-id"):
        status, headers, body = await http_get(f"{base}/en/contributions/{unseen}")
        assert status == 404 and "no published page" in body, unseen
        assert headers["x-content-type-options"] == "nosniff" and "microphone=()" in headers["permissions-policy"]
    assert (await http_get(f"{base}/en/reviews/africa-2024-2025"))[0] == 404
    assert (await http_get(f"{base}/en/reviews/{AP}?objective=abc"))[0] == 400
    assert (await http_get(f"{base}/en/reviews/{AP}?contributor=robots"))[0] == 400
    assert (await http_get(f"{base}/en/reviews/{AP}", method="POST"))[0] == 405
    # An address without a language goes to the browser's language, and says it depends on it.
    for path, accept, target in (
        (f"/reviews/{AP}?objective=5", "fr-CH, fr;q=0.9", f"/fr/reviews/{AP}?objective=5"),
        ("/", "de", "/en/"),
        ("/ar", "", "/ar/"),
    ):
        status, headers = await http_head_no_redirect(base + path, accept)
        assert status in (307, 308) and headers["location"] == target, (path, status, headers)
    assert (await http_head_no_redirect(base + "/", "ar"))[1]["vary"] == "accept-language"
    assert (await http_get(f"{base}/xx/reviews/{AP}"))[0] == 404
    status, headers, css = await http_get(base + "/static/site.css")
    assert status == 200 and headers["content-type"].startswith("text/css")
    status, _, health = await http_get(base + "/healthz")
    assert status == 200 and json.loads(health) == {"status": "ok"}

    # Region names read with their article inside sentences, as the Network writes them.
    await client.command(c.ScheduleReview(command_id=new_id(), actor=ACTOR, region="arab-region", cycle="2024-2025"))

    async def arab_page():
        status, _, body = await http_get(f"{base}/en/reviews/arab-region-2024-2025")
        return body if status == 200 else None

    arab = await eventually(arab_page)
    assert "Regional review of the GCM in the Arab region, <bdi>2024-2025</bdi></h1>" in arab
    assert "in Arab region" not in arab

    # Withdrawn after publication: gone from the pages at once.
    await client.command(
        c.WithdrawContribution(command_id=new_id(), actor=ACTOR, contribution_id=shown, reason="Replaced.")
    )
    await contribution_in_status(service, shown, "withdrawn")
    assert (await http_get(f"{base}/en/contributions/{shown}"))[0] == 404
    assert f"/contributions/{shown}" not in (await http_get(f"{base}/en/reviews/{AP}"))[2]
