"""Every shieldlab command shown in README.md and docs/*.md runs as shown.

A command is a line of a fenced block (not Python or YAML) that starts with ``$ shieldlab``
or ``shieldlab`` (with its ``\\`` continuation lines), except synopses, which hold
placeholders (``SCENARIO``, ``[--out PNG]``).  Each runs in a fresh folder, which holds a
copy of ``docs/examples`` at that path: a command with a shell's operators (a pipe, ``&&``)
through a shell and the installed ``shieldlab``, as written; a plain one through the
command line's ``main`` in this process (:func:`test_cli.cli`: the same code after the
imports, whose ~2 s a command the suite would otherwise pay for each of ~40 commands).
It must exit 0, or 2 where the
doc shows it ending in ``error:`` lines, which must then be the lines it prints; a
``--json`` command shown with its whole output must print the same keys.  Every other line
the doc shows after a command must be what it prints (:func:`missing_lines`): in its order,
whitespace and a table's box-drawing characters aside, where the doc may wrap a long line,
cut a wide table at the right, and leave out lines or parts of a line with ``...``; only the
wall time at the end of a line (``·  took 2.8 s``) may differ.  So a change of model, or of a
table's columns, that the docs do not follow fails here.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_cli import cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BIN = Path(sys.executable).parent

#: Words that make a command the shell's to run (as shlex splits it: quoted text is one word).
_SHELL_OPERATORS = {"|", "||", "&&", ";", "&", ">", ">>", "<", "2>", "2>&1"}

_PLACEHOLDER = re.compile(r"\[--|\b[A-Z][A-Z_]{2,}\b|\.\.\.")

_BOX = re.compile("[\u2500-\u257f]")  # a table's rules and borders: the doc may draw it plain
# the time a command took: the machine's, not the model's
_WALL_TIME = re.compile(r"(^|·\s*)(?:took )?\d+(?:\.\d+)? s$")
_ELIDED = re.compile(r"\.\.\.|…")


def _norm(line: str) -> str:
    return _WALL_TIME.sub(r"\1<wall time>", re.sub(r"\s+", " ", _BOX.sub(" ", line)).strip())


def missing_lines(shown, printed: str) -> list[str]:
    """The lines of ``shown`` (a doc's output of a command) that ``printed`` does not hold, in
    order: each line's text, with runs of whitespace and box-drawing characters as one space
    (:func:`_norm`), must come in ``printed`` (its lines joined by spaces, so that a doc may wrap
    them) after the previous line's; ``...`` (or ``…``) stands for anything, inside a line or as
    one."""
    whole = " " + " ".join(n for n in map(_norm, printed.splitlines()) if n) + " "
    missing, at = [], 0
    for line in shown:
        parts = [p.strip() for p in _ELIDED.split(_norm(line)) if p.strip()]
        pos = at
        for part in parts:
            i = whole.find(part, pos)
            if i < 0:
                missing.append(line)
                break
            pos = i + len(part)
        else:
            at = pos
    return missing


@dataclass(frozen=True)
class DocCommand:
    doc: str
    line: int
    command: str
    shown: tuple[str, ...]  # the lines the doc shows after it, up to the next command

    @property
    def expected_errors(self) -> list[str]:
        return [s for s in self.shown if s.startswith("error:")]

    @property
    def exit_code(self) -> int:
        return 2 if self.expected_errors else 0


def _blocks(text: str):
    """(first line number, lines) of each fenced block that is not Python, YAML or JSON."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^\s*```(\w*)", lines[i])
        if not m:
            i += 1
            continue
        lang, start, i = m.group(1).lower(), i + 1, i + 1
        body = []
        while i < len(lines) and not lines[i].strip().startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1
        if lang in ("", "console", "sh", "shell", "bash", "text"):
            yield start + 1, body


def doc_commands() -> list[DocCommand]:
    found = []
    for path in DOCS:
        for first, body in _blocks(path.read_text(encoding="utf-8")):
            j = 0
            while j < len(body):
                raw = body[j].strip()
                prompt = raw.startswith("$ shieldlab")
                if not (prompt or raw.startswith("shieldlab ")):
                    j += 1
                    continue
                line_no = first + j
                cmd = raw[2:] if prompt else raw
                while cmd.endswith("\\") and j + 1 < len(body):
                    j += 1
                    cmd = cmd[:-1].rstrip() + " " + body[j].strip()
                j += 1
                shown = []
                while j < len(body) and not body[j].strip().startswith(("$ ", "shieldlab ")):
                    shown.append(body[j].rstrip())
                    j += 1
                if not prompt and _PLACEHOLDER.search(cmd):
                    continue  # a synopsis, not a command
                found.append(DocCommand(path.name, line_no, cmd, tuple(shown)))
    return found


COMMANDS = doc_commands()


def test_the_docs_show_commands():
    shown = {(c.doc, c.line) for c in COMMANDS}
    prompts = [(p.name, n) for p in DOCS
               for n, ln in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if ln.startswith("$ shieldlab")]
    assert prompts and set(prompts) <= shown  # every "$ shieldlab" line is run
    assert any(c.exit_code == 2 for c in COMMANDS) and any(c.exit_code == 0 for c in COMMANDS)


@pytest.mark.parametrize("cmd", COMMANDS, ids=[f"{c.doc}:{c.line}" for c in COMMANDS])
def test_documented_command(cmd, tmp_path):
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")
    assert shutil.which("shieldlab", path=str(BIN)), "the shieldlab command is not installed beside this Python"
    words = shlex.split(cmd.command)
    if words[0] == "shieldlab" and not set(words) & _SHELL_OPERATORS:
        r = cli(*words[1:], cwd=tmp_path)
    else:
        env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", COLUMNS="200")
        r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd.command], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=600)
    assert r.returncode == cmd.exit_code, (cmd.command, r.stdout[-2000:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr, r.stderr
    if cmd.expected_errors:
        assert [ln for ln in r.stderr.splitlines() if ln.strip()] == cmd.expected_errors
        assert sorted(p.name for p in tmp_path.iterdir()) == ["docs"]  # nothing written
        assert sorted(p.name for p in (tmp_path / "docs").iterdir()) == ["examples"]
        return
    text = "\n".join(cmd.shown).strip()
    if "--json" in cmd.command and "|" not in cmd.command and text.startswith("{"):
        assert set(json.loads(r.stdout)) == set(json.loads(text))
    missing = missing_lines(cmd.shown, r.stdout + "\n" + r.stderr)
    assert not missing, f"{cmd.doc}:{cmd.line} shows lines the command does not print:\n" + "\n".join(missing) \
        + "\n--- it printed:\n" + r.stdout[-3000:]


def test_missing_lines_reads_a_doc_as_its_reader_would():
    printed = ("┃ radar     ┃ detection km ┃\n│ kurecik   │        1,495 │\n"
               "a long line that a doc wraps at eighty columns\nin parentheses: 95 % intervals  ·  2.8 s\n")
    assert missing_lines(["  radar   detection km", "  kurecik   1,495"], printed) == []  # drawn plain
    assert missing_lines(["a long line that a doc", "wraps at eighty columns"], printed) == []
    assert missing_lines(["│ kurecik   │    "], printed) == []  # a wide table cut at the right
    assert missing_lines(["...", "a long ... columns", "in parentheses: 95 % intervals  ·  0.4 s"], printed) == []
    assert missing_lines(["  kurecik   1,494"], printed) == ["  kurecik   1,494"]  # a number drifted
    assert missing_lines(["in parentheses: 99 % intervals  ·  2.8 s"], printed) != []
    assert missing_lines(["a long line", "kurecik"], printed) == ["kurecik"]  # out of order


def test_the_user_guides_example_scenario_loads_and_aims():
    """The example a newcomer copies (the user guide's *Scenario files*) is a scenario that
    loads and whose threats reach their aim, with the defaults its comments name."""
    import yaml

    import shieldlab
    from shieldlab.engine.chain import preflight

    text = (ROOT / "docs" / "user-guide.md").read_text().split("## Scenario files", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert block is not None
    world = shieldlab.load_world(yaml.safe_load(block.group(1)))
    assert world.scenario.tracking.association == "labels"  # its comment calls labels the default
    preflight(world, 2)
