"""The local SMTP sink of `make run`: a message lands as a .eml file; its log line names no address."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import aiosmtplib
from aiosmtpd.smtp import SMTP

from mignet_runtime.mailsink import FolderHandler

ADDRESS = "someone.private@example.org"


async def test_a_message_lands_in_the_folder_and_the_log_keeps_no_address(tmp_path, capsys):
    server = await asyncio.get_running_loop().create_server(lambda: SMTP(FolderHandler(tmp_path)), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "n@mignet.invalid", ADDRESS, "hello"
        message.set_content("body")
        await aiosmtplib.send(message, hostname="127.0.0.1", port=port)
    finally:
        server.close()
        await server.wait_closed()
    [saved] = tmp_path.glob("*.eml")
    assert ADDRESS in saved.read_text()  # the message itself, as a relay would have it
    said = capsys.readouterr().out
    assert "mail for 1 recipient(s) ->" in said and ADDRESS not in said
