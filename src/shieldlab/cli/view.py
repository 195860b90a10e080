"""``shieldlab demo`` and ``shieldlab view``: the demonstration run and the 3-D scene in a browser."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.text import Text

from shieldlab import MAX_RUNS
from shieldlab.cli.common import _QUIET, DEFAULT_RUNS, DEMO_PRESET, _Command, _guard, _path, _print_line, app
from shieldlab.cli.run import _simulate
from shieldlab.errors import InputError

DEMO_OUT = Path("out/demo")


@app.command(cls=_Command)
@_guard
def demo(
    runs: int = typer.Option(DEFAULT_RUNS, "--runs", min=1, max=MAX_RUNS, help="Monte Carlo runs"),
    seed: int = typer.Option(1, "--seed", min=0, help="random seed: same seed, same numbers"),
    out_dir: Path | None = typer.Option(None, "--out", parser=_path,
                                           help=f"results folder [default: {DEMO_OUT}, replaced on each demo]"),
    force: bool = typer.Option(False, "--force", help="replace an existing results folder given with --out"),
    quiet: bool = _QUIET,
) -> None:
    """The flagship preset (EPAA phase 1) end to end: summary, timeline, files, the report
    and the 3-D scene."""
    if force and out_dir is None:
        raise InputError(f"replaces a results folder given with --out ({DEMO_OUT} is replaced anyway)",
                         field="--force")
    if out_dir is None:  # the demo's own folder: an earlier demo's results are replaced
        out_dir, force = DEMO_OUT, True
    if not quiet:
        _print_line(Text.assemble(("shieldlab demo", "bold"), f": preset {DEMO_PRESET}, {runs} runs"))
    _simulate(DEMO_PRESET, runs, seed, out_dir, quiet=quiet, force=force, timeline=True, footprint=True)


@app.command(cls=_Command)
@_guard
def view(
    results: Path = typer.Argument(..., parser=_path, metavar="DIR",
                                   help="a results folder written by `shieldlab run ... --out DIR`"),
    port: int = typer.Option(0, "--port", min=0, max=65535, show_default=False,
                             help="port on 127.0.0.1 [default: a free one]"),
    open_browser: bool = typer.Option(False, "--open", help="open the address in the default browser"),
) -> None:
    """Play a results folder's 3-D scene (scene.czml) in the browser: serves the folder and
    the offline viewer on 127.0.0.1 until Ctrl-C."""
    from shieldlab.io import serve

    if not results.exists():
        raise InputError(f"{results} does not exist", field="DIR")
    if not results.is_dir():
        raise InputError(f"{results} is not a folder", field="DIR")
    if not (results / "scene.czml").is_file():
        raise InputError(f"{results} holds no scene.czml: write one with `shieldlab run SCENARIO --out {results}`",
                         field="DIR")
    _check_scene(results / "scene.czml")
    try:
        srv = serve.start(results, port, background=False)
    except serve.ViewerMissing as e:
        raise InputError(str(e), field="viewer") from None
    except OSError as e:
        raise InputError(f"cannot serve on 127.0.0.1:{port}: {e.strerror or e}", field="--port") from None
    _print_line(f"serving {results} at {srv.url}  (Ctrl-C stops)")
    if open_browser:
        import webbrowser

        webbrowser.open(srv.url)
    try:
        srv.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.httpd.server_close()


def _check_scene(path: Path) -> None:
    """Refuse ``path`` unless it reads as a CZML document: a JSON list whose first packet is
    the one with the id ``document`` (what the viewer would fail on in the browser)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path} is not JSON ({e})", field="DIR") from None
    if not (isinstance(doc, list) and doc and isinstance(doc[0], dict) and doc[0].get("id") == "document"):
        raise InputError(f"{path} is not a CZML document (a list of packets, the first with the id "
                         "'document'): write one with `shieldlab run SCENARIO --out DIR`", field="DIR")
