"""Command line: ``python tools/devstack {up,up-llm,down,status,env}``."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from devstack.binaries import BinaryNotFound
from devstack.stack import DEFAULT_DIR, Stack, StackError

log = logging.getLogger("devstack")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devstack",
        description="Run Tansu, SeaweedFS, jongodb and llama.cpp on free local ports.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_dir(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--dir",
            type=Path,
            default=DEFAULT_DIR,
            help=f"state, data and logs directory (default {DEFAULT_DIR})",
        )
        return p

    up = with_dir(sub.add_parser("up", help="start the stack and wait until it is ready"))
    up.add_argument("--no-llm", action="store_true", help="do not start the LLM server")
    up.add_argument(
        "--kafka-storage",
        choices=("memory", "s3"),
        default="memory",
        help="Tansu storage: in memory (default) or a bucket in this stack's SeaweedFS",
    )
    with_dir(sub.add_parser("up-llm", help="start only the LLM server"))
    down = with_dir(sub.add_parser("down", help="stop every server of the stack"))
    down.add_argument("--purge", action="store_true", help="also delete data and logs")
    with_dir(sub.add_parser("status", help="show the servers and whether they run"))
    with_dir(sub.add_parser("env", help='print stack.env (use: eval "$(... env)")'))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="[devstack] %(message)s",
        stream=sys.stderr,
    )
    stack = Stack(
        args.dir,
        kafka_storage=getattr(args, "kafka_storage", "memory"),
        stop_at_exit=False,
    )

    if args.command in ("up", "up-llm"):
        started = time.monotonic()
        try:
            if args.command == "up":
                stack.up(llm=not args.no_llm)
            else:
                stack.up_llm()
        except (StackError, BinaryNotFound) as err:
            log.error("%s", err)
            stack.stop_started()
            return 1
        log.info(
            "stack ready in %.1fs; env: %s",
            time.monotonic() - started,
            stack.dir / "stack.env",
        )
        _print_status(stack)
        return 0

    if args.command == "down":
        stack.down(purge=args.purge)
        log.info("stopped")
        return 0

    if args.command == "status":
        if not _print_status(stack):
            print("not running")
            return 3
        return 0

    env_file = stack.dir / "stack.env"
    if not env_file.exists():
        log.error("no stack.env in %s (is the stack up?)", stack.dir)
        return 3
    sys.stdout.write(env_file.read_text())
    return 0


def _print_status(stack: Stack) -> bool:
    status = stack.status()
    for name, item in status.items():
        state = "running" if item["alive"] else "DEAD"
        ready = f"{item['ready_s']:.2f}s" if item.get("ready_s") is not None else "-"
        print(
            f"{name:8} {state:8} pid={item['pid']:<8} port={item['port']:<6} "
            f"ready_in={ready:7} log={item['log']}"
        )
    return bool(status)
