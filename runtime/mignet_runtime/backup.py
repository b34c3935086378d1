"""Back up a service's stream (the event store) to a file, and restore it into an empty stream.

The file is JSON lines: a header line (stream name, last sequence, when), then one line
per message with its sequence, subject, stored time, headers and payload (base64). A
restore republishes the messages in order into the freshly provisioned, empty stream and
checks that each one lands on its original sequence, so checkpoints, fencing tokens and
expected versions recorded elsewhere still mean the same events. MongoDB is not backed
up: its read models are rebuilt from the restored stream (`mignet projections rebuild`).

What a restore does not bring back: the stored time of each message (the server stamps
the restore's time; the event's own time is the `ce-time` header and `occurred_on`), and
the server's memory of recent `Nats-Msg-Id`s (the duplicate window starts empty; a command
resent later is still recognised on its own aggregate by `ce-commandid`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

FORMAT = "mignet-stream-backup/1"
#: Server-set or publish-time control headers: meaningless (or harmful) when republished.
_CONTROL_PREFIX = "Nats-"


class RestoreRefused(Exception):
    """The target is not an empty stream of the same name, or a message did not land where it was."""


@dataclass(frozen=True)
class Summary:
    stream: str
    messages: int
    last_seq: int


async def backup(nc, stream: str, path: Path, progress: Callable[[int, int], None] | None = None) -> Summary:
    js = nc.jetstream(timeout=10)
    info = await js.stream_info(stream)
    last = info.state.last_seq
    written = 0
    tmp = path.with_suffix(path.suffix + ".partial")
    with tmp.open("w") as out:
        header = {"format": FORMAT, "stream": stream, "last_seq": last, "messages": info.state.messages}
        out.write(json.dumps({**header, "taken_at": datetime.now(UTC).isoformat()}) + "\n")
        if last:
            sub = await js.pull_subscribe(
                "",
                stream=stream,
                config=ConsumerConfig(
                    ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=60.0
                ),
            )
            seq = 0
            while seq < last:
                for msg in await sub.fetch(500, timeout=10):
                    seq = msg.metadata.sequence.stream
                    if seq > last:
                        break
                    out.write(json.dumps(_line(msg, seq)) + "\n")
                    written += 1
                if progress:
                    progress(seq, last)
            await sub.unsubscribe()
    tmp.replace(path)  # a backup file is complete or absent, never half written under its name
    return Summary(stream, written, last)


def _line(msg, seq: int) -> dict:
    return {
        "seq": seq,
        "subject": msg.subject,
        "time": msg.metadata.timestamp.isoformat() if msg.metadata.timestamp else None,
        "headers": dict(msg.headers or {}),
        "data": base64.b64encode(msg.data).decode(),
    }


async def restore(nc, stream: str, path: Path, progress: Callable[[int, int], None] | None = None) -> Summary:
    js = nc.jetstream(timeout=10)
    with path.open() as source:
        header = json.loads(source.readline() or "{}")
        if header.get("format") != FORMAT:
            raise RestoreRefused(f"{path} is not a mignet stream backup (no {FORMAT} header)")
        if header["stream"] != stream:
            raise RestoreRefused(f"{path} is a backup of {header['stream']}, not of {stream}")
        state = (await js.stream_info(stream)).state
        if state.last_seq:
            raise RestoreRefused(
                f"stream {stream} is not empty (last sequence {state.last_seq}): restore only into a stream"
                " just provisioned (delete it with the admin user, then `mignet admin provision`)"
            )
        restored = 0
        for raw in source:
            line = json.loads(raw)
            headers = {k: v for k, v in line["headers"].items() if not k.startswith(_CONTROL_PREFIX)}
            ack = await js.publish(line["subject"], base64.b64decode(line["data"]), headers=headers or None)
            if ack.seq != line["seq"]:
                raise RestoreRefused(
                    f"message {line['seq']} landed on sequence {ack.seq}: the backup has a gap or the stream"
                    " was written to during the restore; start again from an empty stream"
                )
            restored += 1
            if progress and restored % 500 == 0:
                progress(line["seq"], header["last_seq"])
    return Summary(stream, restored, header["last_seq"])
