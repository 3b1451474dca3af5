"""``python -m notewell.transcriber``: runs the transcriber until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal

from notewell.platform.logs import configure_logging
from notewell.platform.telemetry import configure_tracing
from notewell.transcriber.app import TranscriberApp
from notewell.transcriber.settings import Settings


async def run(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    app = TranscriberApp(settings)
    try:
        await app.start()
        await stop.wait()
    finally:
        await app.stop()


def main() -> None:
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
