"""Launch-on-remote under gnn: the interceptor homes on the battery radar's track of the target."""
from importlib import resources

import numpy as np

from shieldlab.c2.records import Salvo
from shieldlab.c2.trackview import TrackView
from shieldlab.engage.assess import guidance_columns
from shieldlab.engine import chain
from shieldlab.scenario import load_world
from shieldlab.tracking.records import Tracks


def _tracks(xs, t):
    """Tracks (1, J) on times t: column j holds state xs[j] (a ballistic-ish point) where given over mask."""
    J, K = len(xs), t.size
    x = np.full((1, J, K, 6), np.nan)
    P = np.full((1, J, K, 6, 6), np.nan)
    for j, (state, held) in enumerate(xs):
        x[0, j, held] = state
        P[0, j, held] = np.diag([100.0**2] * 3 + [10.0**2] * 3)
    return Tracks(system="s", t=t, x=x, P=P, n_hits=np.zeros((1, J, K), np.int32),
                  confirmed=np.isfinite(x).all(axis=-1), confirm_time=np.zeros((1, J)),
                  q=np.where(np.isfinite(x).all(axis=-1), 1e-2, np.nan).astype(np.float32))


def test_guidance_finds_the_radars_track_of_the_target_by_position():
    t = np.arange(0.0, 11.0)
    r = np.array([6.4e6, 0.0, 5.0e5, 0.0, 0.0, 0.0])  # (zero velocity: dt is 0 here anyway)
    far = r + np.array([5e4, 0, 0, 0, 0, 0])
    every, early = np.ones(t.size, bool), t < 3
    plan = _tracks([(r, every)], t)
    # the radar: its column 0 (the planning track's number) ended early; column 1 holds the
    # target under another number, column 2 something far away
    own = _tracks([(r, early), (r + np.array([50.0, 50.0, 50.0, 0, 0, 0]), every), (far, every)], t)
    view = TrackView({("system", "s"): plan, ("radar", "r"): own}, (1, 3))
    s = Salvo(0, 0, 0, 2, 0.0, 1.0, 10.0, r[:3], 0, ("radar", "r"), 0.0, 0.0, 0.8, 10.0, False, ("system", "s"))
    assert guidance_columns(view, [s], np.array([3.0])).tolist() == [1]
    assert guidance_columns(view, [s], np.array([3.0]), correlate=False).tolist() == [0]  # labels: columns are threats
    lost = _tracks([(r, early), (far, every)], t)
    view = TrackView({("system", "s"): plan, ("radar", "r"): lost}, (1, 2))
    assert guidance_columns(view, [s], np.array([3.0])).tolist() == [-1]  # nothing in the gate: no guidance


def patriot_on_its_radar(tmp_path, cue: str):
    """patriot-turkey-2013 under gnn with its battery nl-1 cued ``cue`` on its radar nl-1-mpq65."""
    text = (resources.files("shieldlab.scenario") / "presets" / "patriot-turkey-2013.yaml").read_text()
    old = "{name: nl-1, interceptor: pac-3-mse, site: adana-airport, rounds: 16, system: nato-patriot}"
    text = text.replace(old, old[:-1] + f", cue: {cue}, radar: nl-1-mpq65}}")
    p = tmp_path / f"{cue}.yaml"
    p.write_text(text + "\ntracking: {association: gnn}\n")
    return load_world(str(p))


def test_launch_on_remote_salvos_are_guided_under_gnn(tmp_path):
    w = patriot_on_its_radar(tmp_path, "launch-on-remote")
    ch = chain.run_chunk(w, chain.fly_threats(w), 0, 8, np.random.SeedSequence(1))
    e = ch.engagements
    nl1 = e.battery == [b.name for b in w.batteries].index("nl-1")
    assert nl1.sum() >= 4
    # it homes on its radar's track of the warhead: no salvo at a booster, all but a few guided
    assert (e.threat[nl1] >= 0).all()
    assert np.isfinite(e.prediction_error[nl1]).mean() >= 0.8
