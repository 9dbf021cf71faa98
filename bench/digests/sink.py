"""A local SMTP server that keeps every message as a file: `python -m bench.digests.sink FOLDER`.

aiosmtpd on 127.0.0.1 and a port of its own choosing (printed on the first line of stdout); each message
is written to FOLDER/NNNNNN.eml as received, as a mail catcher does. Stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP


class Catcher:
    """Writes each message's bytes to the folder, numbered in arrival order."""

    def __init__(self, folder: Path) -> None:
        """Keep messages under `folder`."""
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802  (aiosmtpd hook)
        """Store the message; answer 250."""
        self.count += 1
        (self.folder / f"{self.count:06d}.eml").write_bytes(envelope.original_content or envelope.content)
        return "250 OK"


def main(folder: Path) -> None:
    """Serve until SIGTERM."""
    folder.mkdir(parents=True, exist_ok=True)
    catcher = Catcher(folder)
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(lambda: SMTP(catcher, data_size_limit=64 * 1024 * 1024), "127.0.0.1", 0)
    )
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())


if __name__ == "__main__":
    main(Path(sys.argv[1]))
