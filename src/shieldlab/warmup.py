"""Compile every Numba kernel once and keep it in Numba's cache: ``python -m shieldlab.warmup``.

The kernels are compiled on first use and cached on disk (``cache=True``: in
``__pycache__`` beside each module, or under ``NUMBA_CACHE_DIR``).  Compiling them all
takes about three and a half minutes on two cores, the two halves of :data:`HALVES` side by
side (most of it Numba typing and optimising the trackers' compiled loops and the flyout's
integrator), which the first commands of a fresh install would otherwise pay.
``make install`` (and so ``make demo`` and ``make test``) runs this module once, so that
the first ``shieldlab run`` loads compiled code and answers in seconds.

It runs each command's code path on small jobs through the command line itself, so that
the kernels are compiled for the argument types real runs use: two-run raids of every
preset (one node and several, shared tracks, every kind of battery), a coarse footprint
of ballistic and aircraft threats, a coverage map, a reach, a dispersed flyout, the
multi-target tracker over reports with false alarms (a few, and hundreds a frame), a raid fought on
its tracks (a sweep that sets ``tracking.association: gnn``), the air picture (air-breathing
flight and air policing) and shelling (rounds, weapon-locating radars, points of origin).  The
output goes to a temporary folder that is removed; a job that fails stops the warm-up
with exit code 1.
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
import time

#: The small jobs, as command lines (``{out}`` is the temporary folder).
JOBS: tuple[tuple[str, ...], ...] = (
    ("run", "epaa-phase-1", "--runs", "2", "-q", "--out", "{out}/phase1"),
    ("run", "epaa-phase-4", "--runs", "2", "-q", "--out", "{out}/phase4"),
    ("run", "nato-russia-2011", "--runs", "2", "-q", "--out", "{out}/nato-russia"),
    ("run", "patriot-turkey-2013", "--runs", "2", "-q", "--out", "{out}/patriot"),
    ("footprint", "patriot-turkey-2013", "--step-deg", "2", "-q", "--json-out", "{out}/fp.json"),
    ("footprint", "patriot-turkey-2013", "--aircraft", "--bbox", "35,38,35,40", "--step-deg", "1", "-q",
     "--json-out", "{out}/air.json"),
    ("coverage", "epaa-phase-1", "--step-deg", "5", "--json-out", "{out}/coverage.json"),
    ("reach", "sm-3-block-iia", "--site", "54.48,17.10", "--missile", "topol-m", "--from", "54.0,35.8",
     "--to", "38.9,-77.0", "--json"),
    ("flyout", "scud-b", "--from", "35,38", "--to", "37.4,38.3", "--runs", "20", "--json"),
    ("tracks", "epaa-phase-1", "--runs", "2", "--false-alarms", "2", "-q"),
    # hundreds of false alarms a frame: the tracker steps scan by scan, associating on candidate pairs
    ("tracks", "epaa-phase-1", "--runs", "2", "--false-alarms", "300", "-q"),
    # fire control on the multi-target tracker's tracks (no preset associates without labels):
    # threat evaluation's boost test; after the whole-loop tracker, in the same half
    ("sweep", "epaa-phase-1", "--set", "tracking.association=gnn", "--runs", "2", "-q", "--out", "{out}/gnn"),
    ("run", "turkey-airspace-2015", "--runs", "2", "-q", "--out", "{out}/air"),
    ("run", "akcakale-2012", "--runs", "2", "-q", "--out", "{out}/shelling"),
)

#: Presets that are not ballistic raids: the air picture (air-breathing flight) and
#: shelling (unguided rounds and weapon-locating radars); they compile no kernel of the chain.
_NOT_CHAIN = ("turkey-airspace-2015", "akcakale-2012")


_WHOLE_LOOP = JOBS.index(("tracks", "epaa-phase-1", "--runs", "2", "--false-alarms", "2", "-q"))
_ON_TRACKS = next(i for i, j in enumerate(JOBS) if j[0] == "sweep")

#: The jobs in two halves that compile mostly different kernels and take about as long (the
#: raids, the whole-loop tracker and the raid on its tracks; the maps, the single shots, the
#: scan-by-scan tracker, the air picture and shelling), run side by side on a machine with two
#: cores or more.
_FIRST = tuple(i for i, j in enumerate(JOBS)
               if (j[0] == "run" and j[1] not in _NOT_CHAIN) or i in (_WHOLE_LOOP, _ON_TRACKS))
HALVES: tuple[tuple[int, ...], ...] = (_FIRST, tuple(i for i in range(len(JOBS)) if i not in _FIRST))


def _run_jobs(indices) -> int:
    """Run the jobs ``JOBS[i]`` for ``i`` in ``indices`` through the command line, in this
    process; 1 at the first that fails."""
    import typer

    from shieldlab.cli import app

    command = typer.main.get_command(app)
    with tempfile.TemporaryDirectory(prefix="shieldlab-warmup-") as out:
        for i in indices:
            job = JOBS[i]
            args = [a.format(out=out) for a in job]
            t = time.perf_counter()
            # standalone_mode=False: errors propagate instead of exiting; the output is not wanted
            with contextlib.redirect_stdout(io.StringIO()):
                try:
                    rc = command.main(args, prog_name="shieldlab", standalone_mode=False)
                except SystemExit as e:
                    rc = e.code
            if rc:
                print(f"warm-up: shieldlab {' '.join(args)} failed (exit code {rc})", file=sys.stderr)
                return 1
            print(f"warm-up: shieldlab {' '.join(job[:2])} … {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return 0


def main() -> int:
    """Run every job; on two cores or more, the two halves side by side in two processes
    (Numba writes each cache entry whole, so two processes compiling one kernel is safe)."""
    import os

    t0 = time.perf_counter()
    if (os.cpu_count() or 1) < 2:
        rc = _run_jobs(range(len(JOBS)))
    else:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
            rc = max(pool.map(_run_jobs, HALVES))
    if rc == 0:
        print(f"warm-up: compiled kernels cached in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
