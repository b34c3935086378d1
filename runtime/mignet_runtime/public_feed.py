"""Provisioning of the public feed: the ``PUBLIC`` stream of the ``FEED`` account.

``PUBLIC`` sources from ``REGISTRY`` and ``REVIEWS`` (in the ``APP`` account) only the
subjects of public events (:mod:`mignet_contracts.feed`). Both directions cross an
account boundary through the exports and imports of deploy/nats/nats.conf:

- the APP ``admin`` user reaches the FEED account's JetStream API as
  :data:`FEED_API_PREFIX` (so one admin credential provisions everything);
- the PUBLIC stream creates its source consumers in APP through
  :data:`APP_API_PREFIX`, and receives their messages on :func:`deliver_subject`.

``PUBLIC`` is derived data: deleting it and provisioning again sources every public
event anew. Adding a filter (a new public event type) is applied in place; removing one
is refused, because the events already copied would stay: an operator decides whether
to delete the stream and provision it again.
"""

from __future__ import annotations

import nats.errors
from nats.js.api import ExternalStream, StorageType, StreamConfig, StreamSource, SubjectTransform
from nats.js.errors import APIError, NotFoundError

from mignet_contracts.feed import FEED_ACCOUNT, PUBLIC_STREAM, SOURCES, public_subjects

FEED_API_PREFIX = "$JS.FEED.API"
APP_API_PREFIX = "$JS.APP.API"


def deliver_subject(stream: str) -> str:
    """Where ``stream``'s messages for PUBLIC arrive in the FEED account (a stream export of APP)."""
    return f"feed.deliver.{stream.lower()}"


def expected_public_stream_config(replicas: int = 1) -> StreamConfig:
    sources = [
        StreamSource(
            name=stream,
            # An empty destination filters without renaming: subjects on PUBLIC are the services' own.
            subject_transforms=[SubjectTransform(src=subject, dest="") for subject in public_subjects(stream)],
            external=ExternalStream(api=APP_API_PREFIX, deliver=deliver_subject(stream)),
        )
        for stream in SOURCES
    ]
    return StreamConfig(
        name=PUBLIC_STREAM,
        description="mignet public events, sourced from the services' streams (read by integrators)",
        sources=sources,
        storage=StorageType.FILE,
        num_replicas=replicas,
        allow_direct=True,
    )


def _filters(config: StreamConfig) -> dict[str, set[str]]:
    return {
        source.name: {t.src for t in source.subject_transforms or ()}
        | ({source.filter_subject} if source.filter_subject else set())
        for source in config.sources or ()
    }


async def provision_public_stream(nc, replicas: int = 1) -> tuple[str, str]:
    """Create or extend PUBLIC; returns (outcome, detail) as provisioning reports them."""
    js = nc.jetstream(prefix=FEED_API_PREFIX, timeout=10)
    expected = expected_public_stream_config(replicas)
    try:
        info = await js.stream_info(PUBLIC_STREAM)
    except NotFoundError:
        await js.add_stream(expected)
        return "created", f"sources {sum(map(len, _filters(expected).values()))} public subjects"
    except nats.errors.NoRespondersError:
        return "refused", f"no {FEED_ACCOUNT} account answers {FEED_API_PREFIX}: run deploy/nats/nats.conf"
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
    try:
        await js.update_stream(info.config.evolve(sources=expected.sources))
    except APIError as exc:
        return "refused", f"the server would not add {', '.join(added)}: {exc.description}"
    return "updated", f"added {', '.join(added)}"
