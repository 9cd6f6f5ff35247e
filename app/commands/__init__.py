"""The command line: ``python -m app [command] ...``.

Each command lives in a module of this package that exposes ``register(subparsers)``;
the module adds its sub-parser and sets ``func=run`` where ``run(args) -> int``.
The command names are stable: other tools and checks depend on them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from app.commands.errors import CommandError

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    except CommandError as exc:
        print(f"mimamori: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("mimamori: interrupted", file=sys.stderr)
        return 130
