"""README's command lines work as written: each names a real command and only options that
command takes; options are named alike across commands; role names from the demo-account
table are accepted where README uses them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.commands import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def _subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return parser, action.choices


def _readme_command_lines() -> list[str]:
    text = README.read_text("utf-8")
    lines = []
    for block in re.findall(r"```\n(.*?)```", text, re.S):
        for line in block.splitlines():
            m = re.search(r"(?:^|\s|&&\s)(?:\.venv/bin/)?python -m app(?:\s+(.*))?$", line)
            if m and "-m app." not in line:
                lines.append((m.group(1) or "").split("#")[0].strip())
    # Inline examples in the prose too (`python -m app export --what idmap`).
    lines += [m.strip() for m in re.findall(r"`python -m app ([^`]*)`", text)]
    return lines


def test_readme_has_command_lines():
    assert len(_readme_command_lines()) > 15


@pytest.mark.parametrize("line", _readme_command_lines())
def test_readme_command_line_names_real_commands_and_options(line):
    _, commands = _subparsers()
    # "a / b / c --opt" lists several commands: each part starts with a command name.
    for part in [p.strip() for p in line.split(" / ")] if " / " in line else [line]:
        words = part.split()
        if not words or words[0].startswith("-") or words[0].startswith("["):
            name, options = "gui", words
        else:
            name, options = words[0], words[1:]
        assert name in commands, f"README names a command that does not exist: {name!r} in {line!r}"
        known = set(commands[name]._option_string_actions)
        for opt in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", " ".join(options)):
            assert opt in known, f"README gives {name} the option {opt}, which it does not take ({line!r})"


def test_snapshot_takes_the_role_names_readme_uses():
    parser, _ = _subparsers()
    for given, role in (("manager", "cg_manager"), ("cg_manager", "cg_manager"), ("admin", "data_admin"),
                        ("nurse", "nurse"), ("chief", "chief"), ("auditor", "auditor")):
        args = parser.parse_args(["snapshot", "--role", given, "--view", "map", "--out", "x.png"])
        assert args.role == role
    args = parser.parse_args(["snapshot", "--role", "chief", "--view", "staffing", "--tab", "1", "--out", "x.png"])
    assert args.tab == 1


def test_unknown_role_is_one_line(capsys):
    from app.commands import main

    with pytest.raises(SystemExit) as exc:
        main(["snapshot", "--role", "boss", "--view", "map", "--out", "x.png"])
    assert exc.value.code != 0
    err = capsys.readouterr().err
    assert "unknown role 'boss'" in err and "cg_manager" in err


def test_unencrypted_output_is_plaintext_for_every_export_command():
    parser, commands = _subparsers()
    for name in ("export", "audit-export"):
        assert "--plaintext" in commands[name]._option_string_actions, name
    # The audit export's old spelling still works but is not advertised.
    assert parser.parse_args(["audit-export", "--db", "s.db", "--out", "x.csv", "--plain"]).plaintext
    assert parser.parse_args(["audit-export", "--db", "s.db", "--out", "x.csv", "--plaintext"]).plaintext
    assert "--plain " not in commands["audit-export"].format_help().replace("--plaintext", "")
