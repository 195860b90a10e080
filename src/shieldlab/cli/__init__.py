"""The ``shieldlab`` command: Typer front end over the library.

Bad input of any kind (file, field, flag) ends with one line on stderr naming
the file and field, exit code 2, and no output file written.  User text (file
names, scenario, threat and battery names) is printed literally, never read as
console markup.
"""

from __future__ import annotations

import importlib
import sys

from rich.text import Text

from shieldlab.cli import compare, flight, info, maps, run, sweep, view  # noqa: F401
from shieldlab.cli.common import _err, _stop_noting_compiles, app

#: The commands in the order ``shieldlab --help`` lists them (each module registers its own).
COMMANDS = ("run", "compare", "sweep", "query", "demo", "view", "flyout", "reach", "footprint", "coverage",
            "tracks", "presets", "validate", "schema", "catalog")
app.registered_commands.sort(key=lambda c: COMMANDS.index(c.name or getattr(c.callback, "__name__", "")))


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad input or usage).

    A usage error (an unknown option, a value out of range) is one line on stderr, like
    any other bad input."""
    try:
        from typer._click import exceptions as click_errors
    except ImportError:  # Typer on the separate click package
        click_errors = importlib.import_module("click.exceptions")
    NoArgsIsHelpError, UsageError = click_errors.NoArgsIsHelpError, click_errors.UsageError
    try:
        return _main(argv, NoArgsIsHelpError, UsageError)
    finally:
        _stop_noting_compiles()  # (a command run in a longer process leaves no listener behind)


def _main(argv, NoArgsIsHelpError, UsageError) -> int:  # noqa: N803 (click's exception classes)
    try:
        rv = app(args=argv, prog_name="shieldlab", standalone_mode=False)
    except NoArgsIsHelpError as e:
        e.show()
        return e.exit_code
    except UsageError as e:
        hint = f" (see {e.ctx.command_path} --help)" if e.ctx is not None else ""
        _suggest_longer_options(e)
        said = " ".join(e.format_message().split())
        opts = [o for o in getattr(getattr(e, "param", None), "opts", None) or () if o.startswith("-")]
        if opts and said.startswith("Invalid value for "):
            # named as every other bad value is ("error: --to: ..."), not in click's words
            # ("Invalid value for '--runs': ..."): the option's long name, then what is wrong
            name = next((o for o in opts if o.startswith("--")), opts[0])  # (-n: --runs)
            said = f"{name}: " + " ".join(str(getattr(e, "message", "")).split())
        got = _given(argv, getattr(e, "param", None))
        if got is not None and " got " not in said and repr(got) not in said:  # (a range's refusal names no value)
            said += f" (got {got if got.strip() else repr(got)})"
        _err().print(Text.assemble(("error:", "red"), " ", said + hint))
        return e.exit_code
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except SystemError as e:
        # SIGTERM's SystemExit raised while a compiled function was being loaded comes out of
        # the C call as a SystemError caused by it ("CPUDispatcher(...) returned a result with an
        # exception set"): the same end, by the same unwinding, so the same exit code
        stop = _system_exit_in(e)
        if stop is None:
            raise
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    return rv if isinstance(rv, int) else 0


def _system_exit_in(e: BaseException) -> SystemExit | None:
    """The SystemExit among ``e``'s causes and contexts, if one is."""
    seen = set()
    at: BaseException | None = e
    while at is not None and id(at) not in seen:
        if isinstance(at, SystemExit):
            return at
        seen.add(id(at))
        at = at.__cause__ or at.__context__
    return None


def _given(argv, param) -> str | None:
    """The value the command line gave option ``param`` (its last, as click reads it), or None."""
    names = set(getattr(param, "opts", ()) or ())
    if not names:
        return None
    args, got = list(sys.argv[1:] if argv is None else argv), None
    for i, a in enumerate(args):
        if a in names and i + 1 < len(args):
            got = args[i + 1]
        elif "=" in a and a.split("=", 1)[0] in names:
            got = a.split("=", 1)[1]
    return got


def _suggest_longer_options(e) -> None:
    """An unknown option that begins a known one (``--cue`` of ``--cue-delay-s``) gets that one
    among click's suggestions (which click prints sorted), which go by likeness alone and may
    leave it out (``--cue`` looks more like ``--force``)."""
    typed, possible = getattr(e, "option_name", None), getattr(e, "possibilities", None)
    if not typed or e.ctx is None or possible is None:
        return
    opts = [o for p in e.ctx.command.params if not getattr(p, "hidden", False) for o in p.opts]
    e.possibilities = sorted(set(possible) | {o for o in opts if o.startswith(typed) and o != typed})


def _terminated(signum, frame) -> None:
    """SIGTERM (a job's wall time, ``timeout``, ``kill``) ends the command as Ctrl-C does:
    by an exception, so that what it was writing is cleaned up (a half-written results
    folder's temporary copy) instead of left behind; exit code 128 + 15."""
    raise SystemExit(143)


def entry() -> None:
    """Console-script entry (``shieldlab``, ``python -m shieldlab``): exit with :func:`main`'s
    code, SIGTERM handled as :func:`_terminated` says, a reader gone as :func:`_reader_gone`."""
    import os
    import signal

    signal.signal(signal.SIGTERM, _terminated)
    # Arrow's buffers (the Parquet chunks written and read back) from the C library's malloc,
    # not its own mimalloc pool: freed, they go back to the system with the rest of the heap
    # (engine.heap.release), and a long run's resident memory is ~7-10 MB lower throughout
    # (BENCHMARKS.md).  A command line's process only, and never over the user's own setting
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    try:
        code = main()
        sys.stdout.flush()  # (here, not at exit, where a reader gone could not be told)
    except BrokenPipeError:
        code = _reader_gone()
    sys.exit(code)


def _reader_gone() -> int:
    """The reader of the output went away (``shieldlab query DIR SQL --csv | head -1``): the
    rest is not wanted, and the command ends as if it had been read, exit code 0, as the
    table and ``--json`` did (``--csv``, row by row, stopped with 1 and no word); the output
    is pointed at /dev/null so that Python's flush at exit does not raise again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
    return 0
