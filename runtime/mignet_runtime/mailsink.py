"""A local SMTP sink for `make run`: every message the notifier sends lands as a .eml file in a folder.

``python -m mignet_runtime.mailsink --dir var/mail --port 2525``. Development only (aiosmtpd is in the
``local`` extra): nothing is relayed anywhere; compose's ``dev`` profile runs Mailpit instead.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
import time
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session


class FolderHandler:
    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._numbers = itertools.count(1)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{next(self._numbers):04d}.eml"
        (self.folder / name).write_bytes(content)
        # Not the addresses (personal data; the message itself has them): the log outlives an erasure.
        print(f"mail for {len(envelope.rcpt_tos)} recipient(s) -> {self.folder / name}", flush=True)
        return "250 Message accepted"


async def serve(folder: Path, host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(FolderHandler(folder)), host, port)
    print(f"SMTP sink on smtp://{host}:{port}, writing to {folder}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="var/mail")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    args = parser.parse_args(argv)
    asyncio.run(serve(Path(args.dir), args.host, args.port))


if __name__ == "__main__":
    main()
