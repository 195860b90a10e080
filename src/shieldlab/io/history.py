"""One Monte Carlo run's tracks and truth over time, as tables a notebook reads.

:func:`track_history` runs run ``run`` of a simulation with ``seed`` again alone
(:func:`shieldlab.engine.chain.replay_run`: the same records the simulation made of it,
however its runs were cut into chunks) and lays out, as columns of equal length:

* ``tracks``: a row per track and update of every picture fire control read (a C2 node's:
  under ``tracking.association: labels`` each threat's track from its first report, before
  its confirmation too; under ``gnn`` the picture's tracks, which are its track file's
  confirmed ones), from the track's first report until its threat is destroyed: its state in
  ECEF [m, m/s] and geodetic degrees and km, its position standard deviation, the reports it took so far, whether it is
  confirmed; under ``gnn`` the track file and number it has in the events and
  ``tracks.parquet``; and, for scoring only, the object behind it (a threat's name,
  ``booster of NAME`` for a spent booster, ``false alarm``, as ``tracks.parquet`` names
  them) and, where that object is a
  threat in flight, the truth at the update's time and the errors against it;
* ``truth``: a row per threat and flight sample until it lands or is destroyed: its true
  ECEF state and geodetic place.

Times are scenario time [s after the epoch], as the event table's.  The truth is scoring
only: nothing of it went into the tracks (the records are the simulation's own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shieldlab import earth
from shieldlab.flyout.interp import in_flight, state_at

#: The tables' columns, each with its meaning and unit (also the Arrow fields' descriptions).
COLUMNS = {
    "tracks": {
        "picture": "the picture the track is of: a C2 node's name (its fire control read it)",
        "file": "under tracking.association gnn: the track file the track's number is of (the picture's own, "
                "or, where pictures share tracks, the node's whose track it was then), as the events' "
                "'picture' and tracks.parquet's name it; '' under labels",
        "track": "under gnn: the track's number in that file, as the events and tracks.parquet number it (join "
                 "on file and track); under labels: the picture's column, one per threat",
        "object": "scoring only: the threat behind the track, 'booster of NAME' for its spent booster, "
                  "'false alarm' for false alarms (as tracks.parquet names them)",
        "t_s": "update time [s after the scenario's epoch]",
        "x_m": "ECEF x of the track's position [m]", "y_m": "ECEF y [m]", "z_m": "ECEF z [m]",
        "vx_ms": "ECEF velocity x [m/s]", "vy_ms": "ECEF velocity y [m/s]", "vz_ms": "ECEF velocity z [m/s]",
        "lat_deg": "geodetic latitude of the track's position [deg]", "lon_deg": "its longitude [deg]",
        "alt_km": "its height above the WGS84 ellipsoid [km]",
        "sigma_pos_m": "position standard deviation, sqrt of the position covariance's trace [m]",
        "reports": "reports the track has taken up to this update",
        "confirmed": "whether the track is confirmed (fire control reads confirmed tracks only)",
        "true_x_m": "scoring only: the object's true ECEF x at t_s [m] (nan: not a threat in flight)",
        "true_y_m": "its true ECEF y [m]", "true_z_m": "its true ECEF z [m]",
        "pos_error_m": "scoring only: distance from the track's position to the truth [m]",
        "vel_error_ms": "scoring only: size of the track's velocity error [m/s]",
    },
    "truth": {
        "threat": "the threat's name", "t_s": "flight sample time [s after the scenario's epoch]",
        "x_m": "true ECEF x [m]", "y_m": "true ECEF y [m]", "z_m": "true ECEF z [m]",
        "vx_ms": "true ECEF velocity x [m/s]", "vy_ms": "true ECEF velocity y [m/s]",
        "vz_ms": "true ECEF velocity z [m/s]",
        "lat_deg": "geodetic latitude [deg]", "lon_deg": "longitude [deg]", "alt_km": "height [km]",
    },
}


@dataclass(frozen=True, eq=False)
class TrackHistory:
    """What :func:`track_history` returns: run ``run`` of a simulation with ``seed``, its
    ``tracks`` and ``truth`` tables as columns (dicts of NumPy arrays; the module says what
    each holds)."""

    run: int
    seed: int
    tracks: dict[str, np.ndarray]
    truth: dict[str, np.ndarray]

    def __repr__(self) -> str:
        n = len(self.tracks["t_s"])
        pictures = sorted(set(self.tracks["picture"].tolist()))
        return (f"TrackHistory(run {self.run}, seed {self.seed}: {n:,} track updates of {', '.join(pictures) or 'no'} "
                f"picture{'s' if len(pictures) != 1 else ''}, {len(self.truth['t_s']):,} truth samples)")

    def to_arrow(self, name: str):
        """Table ``name`` (``tracks`` or ``truth``) as a ``pyarrow.Table``, each field's meaning
        and unit in its metadata (``description``); a missing number (nan) is null, as in
        ``Results.to_arrow``."""
        from shieldlab.errors import InputError
        from shieldlab.io.columns import described
        from shieldlab.io.output import arrow_table

        if name not in COLUMNS:
            raise InputError(f"no table {name!r}: tracks or truth", field="name")
        # (a missing number, nan, as null: as Results.to_arrow and the results folders give it)
        return described(arrow_table(getattr(self, name)), COLUMNS[name])

    def to_pandas(self, name: str):
        """:meth:`to_arrow` as a ``pandas.DataFrame`` (pandas is not a dependency of shieldlab)."""
        from shieldlab.engine.eventlog import require_pandas

        require_pandas("TrackHistory.to_pandas", "to_arrow, or the tracks and truth columns")
        return self.to_arrow(name).to_pandas()


def tables(world, chunk, c: int = 0) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``(tracks, truth)`` columns of run ``c`` of ``chunk`` (the records of a simulation of
    ``world``; the module says what they hold)."""
    names = [t.name for t in world.threats]
    N = len(names)
    truth = chunk.truth
    # a destroyed threat's flight and its tracks end at the intercept: the records hold the
    # flight on and the tracks built on its every report (the fight came after them; the
    # engine cut the reports fire control read there, and track quality cuts them too)
    gone = np.asarray(chunk.outcomes.intercept_time, float)[c]
    gone = np.where(np.isfinite(gone), gone, np.inf)
    rows: dict[str, list] = {k: [] for k in COLUMNS["tracks"]}
    numbering = _file_numbering(chunk)
    for picture, tr in chunk.pictures.items():
        x = tr.x[c]  # (G, K, 6)
        held = np.isfinite(x).all(axis=-1)
        g, k = np.nonzero(held)
        obj = chunk.picture_targets.get(picture)
        if obj is None:  # tracks by label: column n is threat n
            who = g
        else:
            who = np.asarray(obj)[c][g]
        label = np.array([names[o] if 0 <= o < N else f"booster of {names[o - N]}" if N <= o < 2 * N
                          else "false alarm" for o in who.tolist()], object)
        t = tr.t[k]
        threat = (who >= 0) & (who < N)
        idx = np.where(threat, who, 0)
        keep = ~threat | (t < gone[idx])
        g, k, label, t, threat, idx = g[keep], k[keep], label[keep], t[keep], threat[keep], idx[keep]
        if g.size == 0:
            continue
        xs = x[g, k]
        P = np.asarray(tr.P[np.full(g.size, c), g, k])  # (E, 6, 6)
        lat, lon, alt = earth.ecef_to_geodetic(xs[:, :3])
        flying = threat & in_flight(truth, t, index=(np.full(t.size, c), idx))
        pos, vel = state_at(truth, t, index=(np.full(t.size, c), idx))
        assert vel is not None  # asked for
        pos = np.where(flying[:, None], pos, np.nan)
        vel = np.where(flying[:, None], vel, np.nan)
        if numbering is None:  # labels: the picture's column
            file, number = np.full(t.size, "", object), g.astype(np.int32)
        else:
            file, number = numbering(picture, c, g, t)
        add = {"picture": np.full(t.size, picture, object), "file": file, "track": number, "object": label,
               "t_s": t,
               "x_m": xs[:, 0], "y_m": xs[:, 1], "z_m": xs[:, 2], "vx_ms": xs[:, 3], "vy_ms": xs[:, 4],
               "vz_ms": xs[:, 5], "lat_deg": np.degrees(lat), "lon_deg": np.degrees(lon), "alt_km": alt / 1e3,
               "sigma_pos_m": np.sqrt(np.trace(P[:, :3, :3], axis1=1, axis2=2)),
               "reports": np.asarray(tr.n_hits)[c][g, k], "confirmed": np.asarray(tr.confirmed)[c][g, k],
               "true_x_m": pos[:, 0], "true_y_m": pos[:, 1], "true_z_m": pos[:, 2],
               "pos_error_m": np.linalg.norm(xs[:, :3] - pos, axis=1),
               "vel_error_ms": np.linalg.norm(xs[:, 3:] - vel, axis=1)}
        for key, v in add.items():
            rows[key].append(v)
    tracks = {k: _joined(v, k) for k, v in rows.items()}
    # in time order, then by picture and track (each picture's rows came track by track)
    order = np.lexsort((tracks["track"], tracks["picture"].astype(str), tracks["t_s"]))
    tracks = {k: v[order] for k, v in tracks.items()}
    return tracks, _truth_table(truth, names, c, gone)


def _file_numbering(chunk):
    """Under ``tracking.association: gnn``, a function ``(picture, run c, columns g, times t)
    -> (file, number)`` giving each picture column's track as the events and
    ``tracks.parquet`` name it, as the engine gives a salvo's
    (:func:`shieldlab.engine.chain.file_numbers`: the track numbers behind the track files'
    fire-control columns, and over several files their network numbers, made again from the
    chunk's track files); None under labels."""
    from shieldlab.c2 import track_numbers
    from shieldlab.engine.chain import file_numbers
    from shieldlab.tracking.mtt import fire_control_tracks

    files = chunk.track_files
    if not files:
        return None
    local, column_tid = {}, {}
    for key, (tf, _) in files.items():
        local[key], column_tid[key] = fire_control_tracks(tf)
    net = track_numbers.number(local) if len(local) > 1 else None

    def numbering(picture: str, c: int, g: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        source = np.empty(g.size, object)
        source[:] = [("system", picture)] * g.size
        file, number = file_numbers(np.full(g.size, c), g, source, t, column_tid, {}, net)
        return np.where(file == None, "", file).astype(object), number.astype(np.int32)  # noqa: E711

    return numbering


def _joined(parts: Sequence[np.ndarray], key: str) -> np.ndarray:
    if parts:
        return np.concatenate(parts)
    kind = {"picture": object, "file": object, "object": object, "track": np.int32, "reports": np.int32,
            "confirmed": bool}
    return np.zeros(0, kind.get(key, float))


def _truth_table(truth, names: list[str], c: int, gone: np.ndarray) -> dict[str, np.ndarray]:
    """The truth of run ``c``: a row per threat and flight sample while it flies, up to its
    destruction (``gone`` (N,) [s], inf: never destroyed)."""
    cols: dict[str, list] = {k: [] for k in COLUMNS["truth"]}
    for n, name in enumerate(names):
        fly = in_flight(truth, truth.t, index=(np.full(truth.t.size, c), np.full(truth.t.size, n))) \
            & (truth.t < gone[n])
        t = truth.t[fly]
        pos, vel = state_at(truth, t, index=(np.full(t.size, c), np.full(t.size, n)))
        assert vel is not None
        lat, lon, alt = earth.ecef_to_geodetic(pos)
        for key, v in (("threat", np.full(t.size, name, object)), ("t_s", t), ("x_m", pos[:, 0]),
                       ("y_m", pos[:, 1]), ("z_m", pos[:, 2]), ("vx_ms", vel[:, 0]), ("vy_ms", vel[:, 1]),
                       ("vz_ms", vel[:, 2]), ("lat_deg", np.degrees(lat)), ("lon_deg", np.degrees(lon)),
                       ("alt_km", alt / 1e3)):
            cols[key].append(v)
    return {k: np.concatenate(v) if v else np.zeros(0, object if k == "threat" else float) for k, v in cols.items()}
