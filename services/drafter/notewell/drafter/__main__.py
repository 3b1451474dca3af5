"""``python -m notewell.drafter``: runs the drafter until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal

from notewell.drafter.app import DrafterApp
from notewell.drafter.settings import Settings
from notewell.platform.logs import configure_logging
from notewell.platform.telemetry import configure_tracing


async def main() -> None:
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name)
    app = DrafterApp(settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await app.start()
    try:
        await stopping.wait()
    finally:
        await app.stop()


if __name__ == "__main__":
    asyncio.run(main())
