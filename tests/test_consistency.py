"""Filter consistency (shieldlab.outcome.consistency): NEES against its definition and its
chi-square law, and the run's NEES columns pairing each track's error with its own covariance."""

import dataclasses

import numpy as np
import pytest
from scipy import stats

from shieldlab.outcome import consistency
from shieldlab.outcome import file_quality as FQ
from shieldlab.outcome import track_quality as TQ


def _covariances(rng, M):
    A = rng.standard_normal((M, 6, 6)) * np.array([300.0] * 3 + [20.0] * 3)[:, None]
    return A @ np.swapaxes(A, 1, 2) + np.diag([1.0] * 3 + [0.01] * 3)


def test_nees_is_the_quadratic_form_of_the_inverse():
    rng = np.random.default_rng(1)
    P = _covariances(rng, 50)
    e = rng.standard_normal((50, 6)) * 100.0
    want = np.einsum("mi,mi->m", e, np.linalg.solve(P, e[..., None])[..., 0])
    np.testing.assert_allclose(consistency.nees(e, P), want, rtol=1e-9)
    bad = P.copy()
    bad[0, 0, 0] = np.nan  # no covariance held
    bad[1] = -np.eye(6)  # not positive definite
    got = consistency.nees(e, bad)
    assert np.isnan(got[:2]).all() and np.isfinite(got[2:]).all()


def test_errors_drawn_from_the_covariance_follow_chi_square_6():
    """Bar-Shalom, Li & Kirubarajan (2001) §5.4.2: an honest covariance gives NEES ~ chi2(6):
    mean 6, 1 % above its 99 % point (16.81)."""
    rng = np.random.default_rng(2)
    M = 20000
    P = _covariances(rng, M)
    e = np.einsum("mij,mj->mi", np.linalg.cholesky(P), rng.standard_normal((M, 6)))
    v = consistency.nees(e, P)
    assert consistency.NEES_99 == pytest.approx(stats.chi2.ppf(0.99, 6), rel=1e-12)
    assert v.mean() == pytest.approx(6.0, abs=4 * np.sqrt(12.0 / M))  # chi2(6): variance 12
    assert np.mean(v > consistency.NEES_99) == pytest.approx(0.01, abs=0.003)
    run = np.arange(M) % 4
    mean, over, n = consistency.per_run(run, np.where(run == 3, np.nan, v), 5)  # run 3: nothing held; 4: none
    assert list(n) == [M // 4] * 3 + [0, 0]
    np.testing.assert_allclose(mean[:3], [v[run == r].mean() for r in range(3)])
    np.testing.assert_allclose(over[:3], [np.mean(v[run == r] > consistency.NEES_99) for r in range(3)])
    assert np.isnan(mean[3:]).all() and np.isnan(over[3:]).all()


def _drawn(rng, truth_x, P, scale):
    """``truth_x`` (M, 6) plus errors drawn from ``scale`` times the covariances (M, 6, 6)."""
    return truth_x + np.sqrt(scale) * np.einsum("mij,mj->mi", np.linalg.cholesky(P), rng.standard_normal(truth_x.shape))


@pytest.fixture(scope="module")
def labelled_chunk():
    from shieldlab import load_world
    from shieldlab.engine.montecarlo import simulate

    chunks = []
    simulate(load_world("epaa-phase-1"), runs=4, seed=1, on_chunk=chunks.append)
    return chunks[0]


@pytest.mark.parametrize("scale, mean", [(1.0, 6.0), (4.0, 24.0)])
def test_run_nees_reads_each_track_against_its_own_covariance(labelled_chunk, scale, mean):
    """Tracks whose states are the truth plus errors drawn from their own covariance (times
    ``scale``) score a mean NEES of 6 (24: a covariance four times too small), per run."""
    from shieldlab.flyout.interp import state_at

    ch = labelled_chunk
    tr = ch.tracks["nato-bmd"]
    pos, vel = state_at(ch.truth, tr.t)
    P = np.asarray(tr.P)
    held = np.isfinite(P).all(axis=(-2, -1))
    x = np.full(tr.x.shape, np.nan)
    x[held] = _drawn(np.random.default_rng(3), np.concatenate([pos, vel], axis=-1)[held], P[held], scale)
    q = TQ.evaluate(dataclasses.replace(tr, x=x), ch.truth, np.full(ch.truth.batch_shape, np.inf))
    n = q.nees_updates
    assert n.min() > 1000  # every update of six threats' tracks that took a detection while they flew
    assert np.all(np.abs(q.mean_nees - mean) < 5 * scale * np.sqrt(12.0 / n))
    assert np.all(q.nees_over_99 < (0.04 if scale == 1.0 else 1.0))
    if scale > 1.0:
        assert np.all(q.nees_over_99 > 0.2)  # chi2(6) times 4 exceeds 16.81 with probability 0.40


def test_track_file_nees_reads_each_track_against_its_own_covariance(monkeypatch):
    """The same for a track file of reports without labels: each confirmed warhead track's
    covariance against the error from the threat behind most of its reports."""
    from shieldlab import load_world
    from shieldlab.engine import chain
    from shieldlab.engine.tracks import track_chunk
    from shieldlab.flyout.interp import state_at
    from shieldlab.scenario import compile_world

    world = load_world("epaa-phase-1")
    scn = world.scenario
    world = compile_world(scn.model_copy(update={"tracking": scn.tracking.model_copy(update={"association": "gnn"})}))
    flights = chain.preflight(world, 3)
    captured = {}

    def keep(tf, reps, truth, destroyed=None, **kw):
        captured.update(tf=tf, reps=reps, truth=truth)
        return real(tf, reps, truth, destroyed, **kw)

    real = FQ.evaluate
    monkeypatch.setattr(FQ, "evaluate", keep)
    ch = track_chunk(world, flights, 0, 3, np.random.SeedSequence(4))
    monkeypatch.undo()
    tf, reps, truth = captured["tf"], captured["reps"], captured["truth"]
    assert np.isfinite(ch.quality["nato-bmd"].mean_nees).all()
    C, N = truth.batch_shape
    lab = FQ.labels(tf, reps)
    P = np.asarray(tf.confirmed_P)
    held = np.isfinite(P).all(axis=(-2, -1)) & (lab >= 0) & (lab < N)
    cc, ss, kk = np.nonzero(held)
    pos, vel = state_at(truth, tf.t)
    true_x = np.concatenate([pos, vel], axis=-1)[cc, lab[cc, ss, kk], kk]
    x = tf.x.copy()
    x[cc, ss, kk] = _drawn(np.random.default_rng(5), true_x, P[cc, ss, kk], 1.0)
    q = FQ.evaluate(dataclasses.replace(tf, x=x), reps, truth)
    per_run = q.nees_updates
    assert np.all((per_run > 300) & (per_run <= np.bincount(cc, minlength=C)))  # those that took a report
    assert np.all(np.abs(q.mean_nees - 6.0) < 5 * np.sqrt(12.0 / per_run))
    assert np.all(q.nees_over_99 < 0.04)


def test_the_run_table_names_its_tracks_and_shows_their_consistency(tmp_path):
    """The run's track-quality table says which filter and association made the tracks, and
    shows the consistency columns; a track file's GOSPA column is headed as the tracks command
    heads it (false or surplus tracks)."""
    from pathlib import Path

    from test_cli import cli

    import shieldlab

    preset = Path(shieldlab.__file__).parent / "scenario" / "presets" / "epaa-phase-1.yaml"
    gnn = tmp_path / "gnn.yaml"
    gnn.write_text(preset.read_text() + "\ntracking:\n  association: gnn\n  filter: ukf\n")
    r = cli("run", "epaa-phase-1", "--runs", "2")
    assert r.returncode == 0, r.stderr
    assert "track quality (EKF tracks, association labels; means over runs" in r.stdout
    assert "NEES" in r.stdout and "false tracks" in r.stdout
    r = cli("run", gnn, "--runs", "2")
    assert r.returncode == 0, r.stderr
    assert "track quality (UKF tracks, association gnn; means over runs" in r.stdout
    assert "false/surplus" in r.stdout
