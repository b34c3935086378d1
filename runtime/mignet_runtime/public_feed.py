"""Provisioning of the public feed: the ``PUBLIC`` stream of the ``FEED`` account.

``PUBLIC`` sources from ``REGISTRY`` and ``REVIEWS`` (in the ``APP`` account) only the
subjects of public events (:mod:`mignet_contracts.feed`). Both directions cross an
account boundary through the exports and imports of deploy/nats/nats.conf:

- the APP ``admin`` user reaches the FEED account's JetStream API as
  :data:`FEED_API_PREFIX` (so one admin credential provisions everything);
- the PUBLIC stream creates its source consumers in APP through
  :data:`APP_API_PREFIX`, and receives their messages on :func:`deliver_subject`.

``PUBLIC`` is derived data: deleting it and provisioning again sources every public
event anew. A new public event type is added as one more source of its stream, filtered
on the new subject alone (editing the existing source's filters would make the server
copy that stream again from its start); removing a filter is refused, because the
events already copied would stay: an operator decides whether to delete the stream and
provision it again.
"""

from __future__ import annotations

import nats.errors
import nats.js.errors
from nats.js.api import ExternalStream, StorageType, StreamConfig, StreamSource, SubjectTransform
from nats.js.errors import APIError, NotFoundError

from mignet_contracts.feed import FEED_ACCOUNT, PUBLIC_STREAM, SOURCES, public_subjects

FEED_API_PREFIX = "$JS.FEED.API"
APP_API_PREFIX = "$JS.APP.API"


def deliver_subject(stream: str) -> str:
    """Where ``stream``'s messages for PUBLIC arrive in the FEED account (a stream export of APP)."""
    return f"feed.deliver.{stream.lower()}"


def expected_public_stream_config(replicas: int = 1) -> StreamConfig:
    sources = [_source(stream, public_subjects(stream)) for stream in SOURCES]
    return StreamConfig(
        name=PUBLIC_STREAM,
        description="mignet public events, sourced from the services' streams (read by integrators)",
        sources=sources,
        storage=StorageType.FILE,
        num_replicas=replicas,
        allow_direct=True,
    )


def _filters(config: StreamConfig) -> dict[str, set[str]]:
    """Every subject filter, by origin stream, across all the sources of that stream."""
    found: dict[str, set[str]] = {}
    for source in config.sources or ():
        subjects = found.setdefault(source.name, set())
        subjects |= {t.src for t in source.subject_transforms or ()}
        subjects |= {source.filter_subject} if source.filter_subject else set()
    return found


def _source(stream: str, subjects: list[str]) -> StreamSource:
    return StreamSource(
        name=stream,
        # An empty destination filters without renaming: subjects on PUBLIC are the services' own.
        subject_transforms=[SubjectTransform(src=subject, dest="") for subject in subjects],
        external=ExternalStream(api=APP_API_PREFIX, deliver=deliver_subject(stream)),
    )


async def provision_public_stream(nc, replicas: int = 1) -> tuple[str, str]:
    """Create or extend PUBLIC; returns (outcome, detail) as provisioning reports them."""
    js = nc.jetstream(prefix=FEED_API_PREFIX, timeout=10)
    expected = expected_public_stream_config(replicas)
    try:
        info = await js.stream_info(PUBLIC_STREAM)
    except NotFoundError:
        await js.add_stream(expected)
        return "created", f"sources {sum(map(len, _filters(expected).values()))} public subjects"
    except (nats.errors.NoRespondersError, nats.js.errors.ServiceUnavailableError):
        # A plain `nats-server -js` (the benchmarks, a developer's own server) has no FEED account: the
        # services run without a public feed there. deploy/nats/nats.conf always defines it.
        return "skipped", f"no {FEED_ACCOUNT} account answers {FEED_API_PREFIX} (deploy/nats/nats.conf defines it)"
    want, have = _filters(expected), _filters(info.config)
    if want == have:
        return "unchanged", ""
    removed = {stream: sorted(have.get(stream, set()) - subjects) for stream, subjects in want.items()}
    removed = {stream: subjects for stream, subjects in removed.items() if subjects}
    if removed or set(have) - set(want):
        return "refused", (
            f"would stop sourcing {removed or sorted(set(have) - set(want))}, but the events already copied "
            f"would stay: delete stream {PUBLIC_STREAM} (as admin, API prefix {FEED_API_PREFIX}) and provision again"
        )
    added = sorted(s for stream, subjects in want.items() for s in subjects - have.get(stream, set()))
    # New subjects come in as a source of their own: changing an existing source's filters would make
    # the server source that stream again from its start, copying every event it already holds twice.
    extra = [
        _source(stream, sorted(subjects - have.get(stream, set())))
        for stream, subjects in want.items()
        if subjects - have.get(stream, set())
    ]
    try:
        await js.update_stream(info.config.evolve(sources=[*(info.config.sources or ()), *extra]))
    except APIError as exc:
        return "refused", f"the server would not add {', '.join(added)}: {exc.description}"
    return "updated", f"added {', '.join(added)}"
