"""The command line: ``python -m app [command] ...``.

Each command lives in a module of this package that exposes ``register(subparsers)``;
the module adds its sub-parser and sets ``func=run`` where ``run(args) -> int``.
The command names are stable: other tools and checks depend on them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from app.commands.errors import describe

# Modules that define commands, in help order. Add a module here when it adds a command.
COMMAND_MODULES = [
    "app.commands.gui",
    "app.commands.demo",
    "app.commands.store_admin",
    "app.commands.governance",
    "app.commands.generate",
    "app.commands.importing",
    "app.commands.scoring",
    "app.commands.exporting",
    "app.commands.printing",
    "app.commands.snapshot",
    "app.commands.bench",
]


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (not usage + error) and exit 2."""

    def error(self, message: str):
        self.exit(2, f"mimamori: {self.prog}: {message}（--help で使い方を表示）\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m app",
        description="Mimamori (見守り): linked early-support picture for caseworkers.",
    )
    sub = parser.add_subparsers(dest="command")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # A command module not written yet: leave it out of the parser, never fake it.
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        # No command: the GUI, as the user expects from double-clicking the program.
        from app.commands import gui

        args = parser.parse_args(["gui", *(argv or [])])
        args.func = gui.run
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("mimamori: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place every failure becomes one line
        if os.environ.get("MIMAMORI_DEBUG"):
            traceback.print_exc()
        message, code = describe(exc, getattr(args, "db", None))
        print(f"mimamori: {message}", file=sys.stderr)
        return code
