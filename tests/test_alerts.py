"""Launch-report alerts on tracks without labels (shieldlab.c2.alerts): which track a report
is about, by where and when only, and what the alert does in the kill chain."""

import math

import numpy as np
import pytest
import yaml
from phase1_scene import phase1

from shieldlab import earth
from shieldlab.c2.alerts import GATE_SIGMA, HeldReports, correlate, gate
from shieldlab.engine import chain
from shieldlab.engine.chain import preflight, run_chunk
from shieldlab.scenario import compile_world, locate
from shieldlab.scenario.loader import parse
from shieldlab.tracking.records import Tracks

LAT0, LON0 = math.radians(38.08), math.radians(46.29)  # Tabriz
HEADING = math.radians(300.0)


def _report(held=(100.0,), launch=(0.0,), heading=(HEADING,), lat=None, lon=None) -> HeldReports:
    n = len(held)

    def row(v):
        return np.asarray(v, float).reshape(1, n)

    return HeldReports(held_time=row(held), launch_time=row(launch),
                       lat=row(lat if lat is not None else [LAT0] * n), lon=row(lon if lon is not None else [LON0] * n),
                       heading=row(heading), sigma_time_s=row([3.0] * n), sigma_m=row([2e3] * n),
                       sigma_heading=row([math.radians(2.0)] * n))


def _tracks(points, t_first=(80.0,), sigma_m=1e3) -> Tracks:
    """One run of tracks whose first state is at ``points`` ((bearing [rad], distance [m],
    altitude [m]) from Tabriz) at ``t_first`` [s], on a grid of 0-200 s."""
    t = np.arange(0.0, 201.0, 10.0)
    T, K = len(points), t.size
    x = np.full((1, T, K, 6), np.nan)
    P = np.zeros((1, T, K, 6, 6))
    for j, ((brg, dist, alt), t0) in enumerate(zip(points, t_first)):
        lat, lon = earth.destination(LAT0, LON0, brg, dist)
        k0 = int(np.searchsorted(t, t0))
        x[0, j, k0:, :3] = earth.geodetic_to_ecef(lat, lon, alt)
        x[0, j, k0:, 3:] = 0.0
        P[0, j, :, :3, :3] = np.eye(3) * sigma_m ** 2 / 3.0
    return Tracks(system="s", t=t, x=x, P=P, n_hits=np.zeros((1, T, K), np.int32),
                  confirmed=np.isfinite(x[..., 0]), confirm_time=np.full((1, T), 80.0),
                  q=np.where(np.isfinite(x[..., 0]), 1e-2, np.nan).astype(np.float32))


def test_a_track_on_the_reported_path_is_alerted_others_are_not():
    """80 s after the reported launch: 150 km out on the reported heading, alerted; the same
    distance 40 deg off the heading, behind the launch point, 1,000 km out (faster than
    any ballistic missile's ground point) or first seen 60 s before the launch, not."""
    tracks = _tracks([(HEADING, 150e3, 60e3), (HEADING + math.radians(40), 150e3, 60e3),
                      (HEADING + math.pi, 150e3, 60e3), (HEADING, 1000e3, 60e3), (HEADING, 150e3, 60e3)],
                     t_first=(80.0, 80.0, 80.0, 80.0, 20.0))
    alert = correlate(tracks, _report(held=(100.0,), launch=(80.0 - 80.0,)))
    assert alert[0, 0] == 100.0
    assert np.isinf(alert[0, 1:4]).all()
    late = correlate(tracks, _report(held=(150.0,), launch=(80.0,)))  # launched at 80 s: track 4 came first
    assert np.isinf(late[0, 4])


def test_the_gate_widens_with_the_errors_and_the_bend_of_the_ground_track():
    """Cross-track distance allowed: GATE_SIGMA sigmas of the launch point's, the track's and
    the heading's errors, plus omega * d * dt; a point just inside passes, just outside not."""
    d, t0 = 400e3, 150.0
    rep = _report(held=(160.0,), launch=(0.0,))
    s_p = math.hypot(2e3, 1e3)
    room = GATE_SIGMA * math.hypot(s_p, d * math.radians(2.0)) + earth.OMEGA_EARTH * d * t0
    for frac, ok in ((0.97, True), (1.03, False)):
        off = math.asin(frac * room / earth.R_EARTH_MEAN / math.sin(d / earth.R_EARTH_MEAN))
        tr = _tracks([(HEADING + off, d, 0.0)], t_first=(t0,))
        from shieldlab.c2.alerts import first_states
        t, pos, sg = first_states(tr)
        assert sg[0, 0] == pytest.approx(1e3)
        assert bool(gate(t, pos, sg, rep)[0, 0, 0]) is ok


def test_the_earliest_held_report_that_fits_and_no_order():
    """Two launches from one site on one heading (a salvo): a track on that path takes the
    earlier held report; reports held never (inf) alert nothing; the order of the reports
    (which carry no label) does not change the alerts."""
    tracks = _tracks([(HEADING, 150e3, 60e3), (HEADING + math.radians(90), 150e3, 60e3)], t_first=(80.0, 90.0))
    rep = _report(held=(140.0, 95.0, 60.0), launch=(5.0, 0.0, 10.0),
                  heading=(HEADING, HEADING, HEADING + math.radians(90)))
    alert = correlate(tracks, rep)
    np.testing.assert_array_equal(alert, [[95.0, 60.0]])
    perm = [2, 0, 1]
    shuffled = HeldReports(**{k: v[:, perm] for k, v in rep.__dict__.items()})
    np.testing.assert_array_equal(correlate(tracks, shuffled), alert)
    never = HeldReports(**{**rep.__dict__, "held_time": np.full((1, 3), np.inf)})
    assert np.isinf(correlate(tracks, never)).all()


def _gnn_phase1():
    data = yaml.safe_load(locate("epaa-phase-1")[0].read_text())
    data["early_warning"] = [{"name": "sbirs-1", "type": "sbirs-geo", "lon_deg": 57.0, "system": "nato-bmd"}]
    data.setdefault("tracking", {})["association"] = "gnn"
    return compile_world(parse(data, "epaa-phase-1"))


def test_launch_reports_alert_batteries_on_tracks_without_labels(monkeypatch):
    """Under association gnn a battery alerted on a track has prepared since the alert: no
    launch sooner than the alert plus the reaction time, some sooner than the decision plus
    it; nearly every track of a threat or its booster is alerted (the gate is 4 sigma wide);
    without the alerts every launch waits the whole reaction time."""
    w = _gnn_phase1()
    flights = preflight(w, 16)
    seen = {}
    real = chain.track_alerts

    def keep(*args):
        seen.update(real(*args))
        return seen

    monkeypatch.setattr(chain, "track_alerts", keep)
    ch = run_chunk(w, flights, 0, 16, np.random.SeedSequence(1))
    e = ch.engagements
    assert set(seen) == {b.name for b in w.batteries} and len(e.run)
    react = np.array([w.batteries[b].reaction_time for b in e.battery])
    alert = np.array([seen[w.batteries[b].name][c, t] for b, c, t in zip(e.battery, e.run, e.track)])
    assert (e.launch_time >= np.minimum(alert, e.decision_time) + react - 1e-9).all()
    assert (e.launch_time < e.decision_time + react - 1.0).any()  # the alert saved time
    # which tracks were alerted, by the lineage that only scoring reads
    obj = ch.targets["nato-bmd"]
    first = np.isfinite(ch.pictures["nato-bmd"].x[..., 0]).any(axis=-1)
    real_tracks = first & (obj >= 0)
    alerted = np.isfinite(seen[w.batteries[0].name])
    assert real_tracks.sum() > 100
    assert (alerted & real_tracks).sum() >= 0.97 * real_tracks.sum()
    monkeypatch.setattr(chain, "track_alerts", lambda *args: {})
    e0 = run_chunk(w, flights, 0, 16, np.random.SeedSequence(1)).engagements
    react0 = np.array([w.batteries[b].reaction_time for b in e0.battery])
    assert (e0.launch_time >= e0.decision_time + react0 - 1e-9).all()
    assert np.median(e.launch_time) < np.median(e0.launch_time)


def test_no_satellite_no_alert():
    w = phase1()
    assert chain.track_alerts(w, None, [], {}, {}) == {}
