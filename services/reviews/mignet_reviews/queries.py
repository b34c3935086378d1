"""Reviews queries, answered from the read models.

Contribution documents carry the registry facts of the contributor's country
(network, champion), joined from the registry mirror when the query runs, so
a network established after a contribution was published still shows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterable
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from mignet_contracts import reference
from mignet_contracts import reviews as c
from mignet_reviews.domain import describe_review
from mignet_reviews.projections import CONTRIBUTIONS, REVIEWS
from mignet_reviews.registry_mirror import with_registry_facts
from mignet_runtime.errors import NotFound

Doc = dict[str, Any]
_HIDDEN = {"_id": 0, "_seq": 0, "_fence": 0}  # the runner's internal fields
PUBLISHED = str(c.ContributionStatus.PUBLISHED)
#: Member states first ("member-state" < "stakeholder"), then by country or organization name.
CONTRIBUTION_ORDER = [("contributor_kind", 1), ("contributor_name", 1), ("_id", 1)]
#: What is still in play: not rejected, not withdrawn.
RECEIVED = (str(c.ContributionStatus.SUBMITTED), PUBLISHED)


async def list_reviews(db: AsyncDatabase, q: c.ListReviews) -> dict:
    selector: dict[str, Any] = {}
    if q.region:
        selector["region"] = str(q.region)
    if q.cycle:
        selector["cycle"] = q.cycle
    if q.status:
        selector["status"] = str(q.status)
    items = await db[REVIEWS.collection].find(selector, _HIDDEN).sort([("cycle", 1), ("region", 1)]).to_list(None)
    return {"total": len(items), "items": items}


async def get_review(db: AsyncDatabase, q: c.GetReview) -> Doc:
    doc = await db[REVIEWS.collection].find_one({"_id": q.review_id}, _HIDDEN)
    if doc is None:
        raise NotFound(f"{describe_review(q.review_id)} has not been scheduled", field="review_id")
    return doc


def contribution_selector(q: c.ListContributions) -> dict[str, Any]:
    # Exactly one of the two (the query model checks it): a regional review, or the IMRF itself.
    selector: dict[str, Any] = {"review_id": q.review_id} if q.review_id else {"imrf": q.imrf, "to_imrf_itself": True}
    if q.status:
        selector["status"] = str(q.status)
    if q.contributor_kind:
        selector["contributor_kind"] = str(q.contributor_kind)
    if q.stakeholder_category:
        selector["stakeholder_category"] = q.stakeholder_category
    if q.level:
        selector["level"] = str(q.level)
    if q.objective:
        selector["objectives"] = q.objective
    if q.country:
        selector["country"] = q.country
    return selector


async def list_contributions(db: AsyncDatabase, q: c.ListContributions) -> dict:
    if q.review_id:
        await get_review(db, c.GetReview(review_id=q.review_id))  # an unknown review is a mistake, not "none yet"
    selector = contribution_selector(q)
    collection = db[CONTRIBUTIONS.collection]
    total = await collection.count_documents(selector)
    cursor = collection.find(selector, _HIDDEN).sort(CONTRIBUTION_ORDER).skip(q.offset).limit(q.limit)
    items = await cursor.to_list(None)
    return {"total": total, "limit": q.limit, "offset": q.offset, "items": await with_registry_facts(db, items)}


async def get_contribution(db: AsyncDatabase, q: c.GetContribution) -> Doc:
    doc = await db[CONTRIBUTIONS.collection].find_one({"_id": q.contribution_id}, _HIDDEN)
    if doc is None:
        raise NotFound(f"there is no contribution {q.contribution_id}", field="contribution_id")
    [doc] = await with_registry_facts(db, [doc])
    return doc


def breakdown(docs: Iterable[Doc]) -> dict:
    """Counts by contributor type, stakeholder category, level, GCM objective and language."""
    docs = list(docs)
    objectives = Counter(n for d in docs for n in d["objectives"])
    return {
        "total": len(docs),
        "by_contributor_kind": dict(sorted(Counter(d["contributor_kind"] for d in docs).items())),
        "by_stakeholder_category": dict(
            sorted(Counter(d["stakeholder_category"] for d in docs if d["stakeholder_category"]).items())
        ),
        "by_level": dict(sorted(Counter(d["level"] for d in docs).items())),
        "by_objective": [
            {"objective": n, "label": reference.GCM_OBJECTIVES[n].label, "count": objectives[n]}
            for n in sorted(objectives)
        ],
        "by_language": dict(sorted(Counter(d["language"] for d in docs).items())),
    }


async def review_figures(db: AsyncDatabase, q: c.ReviewFigures) -> dict:
    review = await get_review(db, c.GetReview(review_id=q.review_id))
    fields = {
        "_id": 0,
        "status": 1,
        "contributor_kind": 1,
        "stakeholder_category": 1,
        "level": 1,
        "objectives": 1,
        "language": 1,
    }
    docs = await db[CONTRIBUTIONS.collection].find({"review_id": q.review_id}, fields).to_list(None)
    return {
        "review_id": q.review_id,
        "review_status": review["status"],
        "total": len(docs),
        "by_status": dict(sorted(Counter(d["status"] for d in docs).items())),
        # Submitted or published: what the review has to consider.
        "received": breakdown(d for d in docs if d["status"] in RECEIVED),
        # What the public pages show and the IMRF compilation holds.
        "published": breakdown(d for d in docs if d["status"] == PUBLISHED),
    }


def compilation_selector(q: c.Compilation, *, published_only: bool = True) -> dict[str, Any]:
    """The contributions a compilation query asks for (the pages' downloads use it too): the published
    ones, or with ``published_only=False`` everything received (to count it by status)."""
    selector: dict[str, Any] = {"status": PUBLISHED} if published_only else {}
    if q.imrf:
        selector["imrf"] = q.imrf
    if q.cycle:
        selector["cycle"] = q.cycle
    if q.region:
        selector["region"] = str(q.region)
    if q.objective:
        selector["objectives"] = q.objective
    if q.stakeholder_category:
        selector["contributor_kind"] = str(c.ContributorKind.STAKEHOLDER)
        selector["stakeholder_category"] = q.stakeholder_category
    elif q.contributor_kind:
        selector["contributor_kind"] = str(q.contributor_kind)
    return selector


COMPILATION_ORDER = [("cycle", 1), ("region", 1), *CONTRIBUTION_ORDER]


async def compilation(db: AsyncDatabase, q: c.Compilation) -> dict:
    selector = compilation_selector(q)
    collection = db[CONTRIBUTIONS.collection]
    # Everything received, by status: the compilation holds all of it but what moderation kept out.
    everything = compilation_selector(q, published_only=False)
    received = Counter([d["status"] async for d in collection.find(everything, {"_id": 0, "status": 1})])
    # Contributions to the IMRF itself have no region: counted under "imrf".
    regions = Counter([d["region"] or "imrf" async for d in collection.find(selector, {"_id": 0, "region": 1})])
    items = await collection.find(selector, _HIDDEN).sort(COMPILATION_ORDER).skip(q.offset).limit(q.limit).to_list(None)
    return {
        "cycle": q.cycle,
        "region": str(q.region) if q.region else None,
        "objective": q.objective,
        "contributor_kind": str(q.contributor_kind) if q.contributor_kind else None,
        "stakeholder_category": q.stakeholder_category,
        "imrf": q.imrf,
        "received": dict(sorted(received.items())),
        "total": sum(regions.values()),
        "by_region": dict(sorted(regions.items())),
        "limit": q.limit,
        "offset": q.offset,
        "items": await with_registry_facts(db, items),
    }


async def all_compiled(db: AsyncDatabase, q: c.Compilation, batch: int = 200) -> AsyncIterator[dict]:
    """Every published contribution the query selects, in compilation order (limit and offset ignored)."""
    cursor = db[CONTRIBUTIONS.collection].find(compilation_selector(q), _HIDDEN).sort(COMPILATION_ORDER)
    docs: list[dict] = []
    async for doc in cursor.batch_size(batch):
        docs.append(doc)
        if len(docs) == batch:
            for item in await with_registry_facts(db, docs):
                yield item
            docs = []
    for item in await with_registry_facts(db, docs):
        yield item
