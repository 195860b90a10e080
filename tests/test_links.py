"""Tests of data links (shieldlab.c2.links) and of a node's fused picture (shieldlab.c2.picture).

The target is a ballistic body 300 km above 30°N 40°E moving east at 3 km/s;
its true path is :func:`shieldlab.flyout.integrate.propagate` (RK4, J2 and the
rotating-frame terms).  Source tracks are built by hand on that path: states
with small per-(run, threat) offsets and fixed covariances, so what the link
or the fusion does to them can be checked against closed forms.  All seeds
are fixed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from shieldlab import earth
from shieldlab.c2 import picture
from shieldlab.c2.fusion import covariance_intersection
from shieldlab.c2.links import Link, arrival_time, receive, transmit
from shieldlab.c2.picture import NodePicture, fuse_picture
from shieldlab.flyout.integrate import propagate
from shieldlab.tracking.records import Tracks
from shieldlab.tracking.tracker import coast

LAT, LON = np.radians(30.0), np.radians(40.0)
X0 = np.concatenate([earth.geodetic_to_ecef(LAT, LON, 300e3), earth.enu_matrix(LAT, LON).T @ [3000.0, 0.0, 0.0]])
#: Track covariance: 100 m per position axis, 10 m/s per velocity axis, with some correlation.
P0 = np.diag([100.0**2] * 3 + [10.0**2] * 3)
P0[0, 3] = P0[3, 0] = 0.5 * 100.0 * 10.0


def truth(t) -> np.ndarray:
    """True state (K, 6) at times ``t`` [s] (X0 at t = 0)."""
    t = np.atleast_1d(np.asarray(t, float))
    return propagate(np.tile(X0, (t.size, 1)), t)


def make_tracks(system, t, x, P, n_hits, init_hits=3, q=0.0) -> Tracks:
    """A Tracks record from arrays: ``x (C, N, K, 6)``, ``P`` broadcast to (C, N, K, 6, 6), ``n_hits (C, N, K)``,
    the filter's noise level ``q`` [m²/s³] wherever a track is held."""
    x = np.asarray(x, float)
    P = np.broadcast_to(np.asarray(P, float), x.shape + (6,)).copy()
    n_hits = np.asarray(n_hits, np.int32)
    x = np.where((n_hits > 0)[..., None], x, np.nan)  # nan before the first detection
    P = np.where((n_hits > 0)[..., None, None], P, np.nan)
    confirmed = n_hits >= init_hits
    t = np.asarray(t, float)
    confirm_time = np.where(confirmed.any(axis=-1), t[np.argmax(confirmed, axis=-1)], np.inf)
    q = np.where(n_hits > 0, q, np.nan).astype(np.float32)
    return Tracks(system=system, t=t, x=x, P=P, n_hits=n_hits, confirmed=confirmed, confirm_time=confirm_time, q=q)


def source_tracks(C, N, t, seed=0, first=None, system="radar") -> Tracks:
    """Tracks on the true path with a fixed random offset per (run, threat); threat n first seen at ``first[n]``."""
    rng = np.random.default_rng(seed)
    offset = rng.normal(size=(C, N, 1, 6)) * np.array([100.0] * 3 + [10.0] * 3)
    x = truth(t)[None, None] + offset
    first = np.zeros(N, int) if first is None else np.asarray(first)
    n_hits = np.clip(np.arange(t.size)[None, :] - first[:, None] + 1, 0, None)
    return make_tracks(system, t, x, P0, np.broadcast_to(n_hits, (C, N, t.size)))


# --------------------------------------------------------------------------------------
# Link record
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("field, kwargs", [
    ("latency", dict(latency=-1.0)),
    ("latency", dict(latency=math.nan)),
    ("period", dict(period=0.0)),
    ("period", dict(period=math.inf)),
    ("capacity", dict(capacity=-1.0)),
    ("capacity", dict(capacity=math.nan)),
    ("loss", dict(loss=1.0)),
    ("loss", dict(loss=-0.1)),
])
def test_link_rejects_bad_fields(field, kwargs):
    args = dict(source="a", target="b", latency=1.0, period=1.0, capacity=math.inf, loss=0.0) | kwargs
    with pytest.raises(ValueError, match=field):
        Link(**args)


def test_message_capacity():
    """A link carries its capacity over time: 2.5 tracks a message sends 2 and 3 in turn, 0.1
    a message one track every tenth (it was raised to one a message: 1e-6 tracks/s carried a
    track every 4 s), and never more than capacity x elapsed time."""
    assert Link("a", "b", 0.0, 1.0).message_capacity(0) is None
    assert [Link("a", "b", 0.0, 1.0, capacity=2.5).message_capacity(m) for m in range(4)] == [2, 3, 2, 3]
    assert [Link("a", "b", 0.0, 0.1, capacity=20.0).message_capacity(m) for m in range(3)] == [2, 2, 2]
    tenth = [Link("a", "b", 0.0, 1.0, capacity=0.1).message_capacity(m) for m in range(30)]
    assert sum(tenth) == 3 and set(tenth) == {0, 1}
    assert all(Link("a", "b", 0.0, 4.0, capacity=1e-6).message_capacity(m) == 0 for m in range(1000))
    assert Link("a", "b", 0.0, 1.0, capacity=0.0).message_capacity(5) == 0
    for cap, period in ((0.37, 3.0), (7.3, 0.25)):
        link = Link("a", "b", 0.0, period, capacity=cap)
        for m in range(1, 200):
            assert sum(link.message_capacity(i) for i in range(m)) <= cap * period * m + 1e-6


# --------------------------------------------------------------------------------------
# transmit
# --------------------------------------------------------------------------------------


def test_zero_latency_at_the_source_rate_reproduces_the_source():
    t = np.arange(60.0)
    src = source_tracks(3, 4, t, first=[0, 5, 12, 70])  # threat 3 never seen
    rec = transmit(src, Link("radar", "c2", latency=0.0, period=1.0), rngs=None)
    assert rec.system == "radar->c2"
    np.testing.assert_array_equal(rec.t, t)
    held = src.confirmed
    np.testing.assert_allclose(rec.x[held], src.x[held], rtol=1e-12)
    np.testing.assert_allclose(rec.P[held], src.P[held], rtol=1e-9)
    assert np.isnan(rec.x[~held]).all()
    np.testing.assert_array_equal(rec.n_hits, np.where(held, src.n_hits, 0))
    np.testing.assert_array_equal(rec.confirmed, held)
    np.testing.assert_array_equal(rec.confirm_time, src.confirm_time)
    assert np.isinf(rec.confirm_time[:, 3]).all()


def test_latency_shifts_arrivals_and_propagates_the_state():
    L, period = 3.7, 2.0
    t = np.arange(60.0)
    src = source_tracks(2, 3, t, seed=1)
    r = receive(src, Link("radar", "c2", latency=L, period=period))
    M = 30  # sends at 0, 2, …, 58
    np.testing.assert_allclose(r.send_time, period * np.arange(M))
    np.testing.assert_allclose(r.tracks.t, period * np.arange(M) + L)
    k_src = 2 * np.arange(M)  # source index of each send time
    ok = src.confirmed[..., k_src]  # confirmed from the third update (t = 2)
    assert ok.sum() == 2 * 3 * (M - 1)
    np.testing.assert_allclose(r.age[ok], L, atol=1e-12)
    assert np.isnan(r.age[~ok]).all()

    # the state received at arrival = the source state at the send time carried L seconds on
    xs = src.x[..., k_src, :][ok]
    want = propagate(xs, np.full(len(xs), L))
    got = r.tracks.x[ok]
    assert np.abs(got[:, :3] - want[:, :3]).max() < 1e-6  # m
    assert np.abs(got[:, 3:] - want[:, 3:]).max() < 1e-9  # m/s
    assert np.linalg.norm(got[:, :3] - xs[:, :3], axis=1).min() > 3000.0 * L * 0.99  # it did move

    # covariance: Φ P Φᵀ with Φ the state-transition matrix of the same flight (central differences)
    x1 = xs[0]
    steps = np.array([1.0] * 3 + [1e-3] * 3)
    E = np.diag(steps)
    Phi = (propagate(x1 + E, np.full(6, L)) - propagate(x1 - E, np.full(6, L))).T / (2.0 * steps)
    P_want = Phi @ P0 @ Phi.T
    np.testing.assert_allclose(r.tracks.P[ok][0], P_want, rtol=1e-5, atol=1e-6 * np.abs(P_want).max())
    assert np.trace(r.tracks.P[ok][0][:3, :3]) > np.trace(P0[:3, :3]) + 3 * (10.0 * L) ** 2 * 0.9


def test_loss_drops_about_half_reproducibly_and_per_run():
    C, N = 16, 6
    t = np.arange(200.0)
    src = source_tracks(C, N, t, seed=2)
    link = Link("radar", "c2", latency=0.0, period=1.0, loss=0.5)

    def rngs(seeds):
        return [np.random.default_rng([7, s]) for s in seeds]

    r = receive(src, link, rngs(range(C)))
    n_sent, n_got = int(r.sent.sum()), int(r.delivered.sum())
    assert n_sent == C * N * (200 - 2)  # every confirmed track in every message (no capacity limit)
    lo, hi = stats.binom.interval(0.999, n_sent, 0.5)
    assert lo <= n_got <= hi
    assert not (r.delivered & ~r.sent).any()

    # a delivered report is the source's state (latency 0); a lost one leaves the old state, one period older each time
    got = r.delivered
    np.testing.assert_allclose(r.tracks.x[got], src.x[got], rtol=1e-12)
    age = r.age
    held_lost = r.sent & ~r.delivered & np.isfinite(age)
    assert held_lost.any()
    prev = np.concatenate([np.full((C, N, 1), np.nan), age[..., :-1]], axis=-1)
    np.testing.assert_allclose(age[held_lost], prev[held_lost] + 1.0, atol=1e-9)
    trP = np.trace(r.tracks.P[..., :3, :3], axis1=-2, axis2=-1)
    prev_trP = np.concatenate([np.full((C, N, 1), np.nan), trP[..., :-1]], axis=-1)
    assert (trP[held_lost] > prev_trP[held_lost]).all()  # an old track grows uncertain

    # same seeds: the same picture; a run alone with its generator: its row of the batch
    r2 = receive(src, link, rngs(range(C)))
    np.testing.assert_array_equal(r2.tracks.x, r.tracks.x)
    np.testing.assert_array_equal(r2.delivered, r.delivered)
    for j in (0, 5, C - 1):
        alone = Tracks(src.system, src.t, src.x[j:j + 1], src.P[j:j + 1], src.n_hits[j:j + 1],
                       src.confirmed[j:j + 1], src.confirm_time[j:j + 1], src.q[j:j + 1])
        rj = receive(alone, link, rngs([j]))
        np.testing.assert_array_equal(rj.delivered[0], r.delivered[j])
        np.testing.assert_array_equal(rj.tracks.x[0], r.tracks.x[j])
        np.testing.assert_array_equal(rj.tracks.n_hits[0], r.tracks.n_hits[j])
        np.testing.assert_array_equal(rj.tracks.confirm_time[0], r.tracks.confirm_time[j])


def test_capacity_round_robin():
    C, N = 2, 5
    t = np.arange(40.0)
    src = source_tracks(C, N, t, seed=3, first=[-5] * N)  # all confirmed from t = 0
    assert src.confirmed.all()
    link = Link("radar", "c2", latency=0.0, period=1.0, capacity=2.0)
    r = receive(src, link)
    sent = r.sent
    assert (sent.sum(axis=1) == 2).all()  # two tracks per message per run
    first5 = [sorted(np.flatnonzero(sent[0, :, m]).tolist()) for m in range(5)]
    assert first5 == [[0, 1], [2, 3], [0, 4], [1, 2], [3, 4]]
    # a true round robin: the cycle repeats every 5 messages, each threat twice in it, 2 or 3 messages apart
    np.testing.assert_array_equal(sent[..., 5:], sent[..., :-5])
    for c in range(C):
        for n in range(N):
            ms = np.flatnonzero(sent[c, n])
            assert ms[0] <= 2 and np.diff(ms).max() == 3 and set(np.diff(ms)) <= {2, 3}  # every 3 messages at worst
    assert np.nanmax(r.age) == 2.0
    # between refreshes the held track ages and its covariance grows
    trP = np.trace(r.tracks.P[..., :3, :3], axis1=-2, axis2=-1)
    stale = ~sent[..., 1:] & np.isfinite(trP[..., :-1])
    assert (trP[..., 1:][stale] > trP[..., :-1][stale]).all()
    # the sender cannot see losses: a lossy link sends in the same order
    rl = receive(src, Link("radar", "c2", 0.0, 1.0, capacity=2.0, loss=0.3),
                 [np.random.default_rng(c) for c in range(C)])
    np.testing.assert_array_equal(rl.sent, sent)


# --------------------------------------------------------------------------------------
# arrival_time
# --------------------------------------------------------------------------------------


def test_arrival_time_lossless_is_next_send_plus_latency():
    link = Link("bat", "c2", latency=1.3, period=0.7)
    t = np.random.default_rng(4).uniform(0.0, 100.0, 1000)
    np.testing.assert_allclose(arrival_time(t, link), np.ceil(t / 0.7) * 0.7 + 1.3, rtol=0, atol=1e-12)
    on_send = 0.7 * np.arange(10)  # an event at a send time makes that message
    np.testing.assert_allclose(arrival_time(on_send, link), on_send + 1.3, atol=1e-12)
    out = arrival_time(np.array([1.0, 50.0, np.inf, np.nan]), link, horizon=10.0)
    assert out[0] == pytest.approx(1.4 + 1.3) and np.isinf(out[1]) and np.isinf(out[2]) and np.isnan(out[3])


def test_arrival_time_retries_lost_messages():
    link = Link("bat", "c2", latency=1.0, period=2.0, loss=0.5)
    t = np.random.default_rng(5).uniform(0.0, 100.0, 20000)
    a = arrival_time(t, link, np.random.default_rng(6))
    first = np.ceil(t / 2.0) * 2.0 + 1.0
    retries = (a - first) / 2.0
    np.testing.assert_allclose(retries, np.round(retries), atol=1e-9)
    assert retries.min() == 0.0
    # geometric: mean loss / (1 − loss) = 1, variance loss / (1 − loss)² = 2
    assert abs(retries.mean() - 1.0) < 4.0 * math.sqrt(2.0 / t.size)
    np.testing.assert_array_equal(a, arrival_time(t, link, np.random.default_rng(6)))


# --------------------------------------------------------------------------------------
# fuse_picture
# --------------------------------------------------------------------------------------


def _random_cov(rng, sig_p, sig_v):
    """An SPD covariance with the given position / velocity scales and random orientation."""
    Q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    d = np.array(sig_p + sig_v) ** 2
    S = np.diag(np.sqrt(d)) @ Q @ np.diag([1.0, 0.6, 0.3, 1.0, 0.6, 0.3]) @ Q.T @ np.diag(np.sqrt(d))
    return 0.5 * (S + S.T)


def _two_sources(P1, P2, rho, C=3000, seed=8):
    """Two one-threat pictures of the true path at t = 0 and 10 s, errors e = Lᵢ(√ρ z_c + √(1−ρ) zᵢ)."""
    rng = np.random.default_rng(seed)
    t = np.array([0.0, 10.0])
    X = truth(t)
    zc = rng.normal(size=(C, 1, 2, 6))
    out = []
    for i, P in enumerate((P1, P2)):
        L = np.linalg.cholesky(P)
        z = math.sqrt(rho) * zc + math.sqrt(1.0 - rho) * rng.normal(size=(C, 1, 2, 6))
        x = X + (L @ z[..., None])[..., 0]
        out.append(make_tracks(f"s{i}", t, x, P, np.full((C, 1, 2), 5)))
    return out


def _nees(pic: NodePicture, k: int, t: float) -> np.ndarray:
    e = pic.tracks.x[:, 0, k] - truth(t)[0]
    return np.einsum("ci,cij,cj->c", e, np.linalg.inv(pic.tracks.P[:, 0, k]), e)


def test_ci_of_independent_sources_is_smaller_and_consistent():
    rng = np.random.default_rng(9)
    for P1, P2 in [(P0, P0),
                   (_random_cov(rng, [30, 800, 800], [5, 40, 40]), _random_cov(rng, [800, 30, 800], [40, 5, 40]))]:
        a, b = _two_sources(P1, P2, rho=0.0)
        times = np.array([10.0, 12.5])  # at a source time, then predicted 2.5 s on
        pic = fuse_picture(a, [b], times, method="ci", node="c2")
        assert pic.tracks.system == "c2" and pic.source_names == ("s0", "s1")
        assert (pic.lineage == 3).all()
        tr = np.trace(pic.tracks.P[:, 0, 0], axis1=-2, axis2=-1)
        assert (tr <= min(np.trace(P1), np.trace(P2)) * (1 + 1e-9)).all()
        for k, tk in enumerate(times):
            nees = _nees(pic, k, tk)
            assert nees.mean() <= 6.0 + 3.0 * nees.std() / math.sqrt(nees.size)
    # equal independent covariances: CI averages (ω = ½), keeping P; the true error is P/2, NEES 3
    a, b = _two_sources(P0, P0, rho=0.0)
    nees = _nees(fuse_picture(a, [b], [10.0]), 0, 10.0)
    assert abs(nees.mean() - 3.0) < 4.0 * nees.std() / math.sqrt(nees.size)


def test_naive_fusion_of_correlated_sources_is_overconfident_and_ci_is_not():
    rho = 0.8
    a, b = _two_sources(P0, P0, rho=rho)
    times = np.array([10.0, 12.5])
    for k, tk in enumerate(times):
        naive = _nees(fuse_picture(a, [b], times, method="naive"), k, tk)
        ci = _nees(fuse_picture(a, [b], times, method="ci"), k, tk)
        se = naive.std() / math.sqrt(naive.size)
        assert naive.mean() > 6.0 * (1 + rho) - 5 * se  # expected 6 (1 + ρ) = 10.8
        assert naive.mean() > 9.0
        assert ci.mean() <= 6.0 + 3.0 * ci.std() / math.sqrt(ci.size)  # expected 6 (1 + ρ)/2 = 5.4


def test_ci_pair_weights_match_the_fusion_library():
    rng = np.random.default_rng(10)
    P1 = np.stack([_random_cov(rng, [30, 800, 300], [5, 40, 20]) for _ in range(50)])
    P2 = np.stack([_random_cov(rng, [500, 30, 800], [40, 5, 40]) for _ in range(50)])
    P2[:5] = 1e6 * P1[:5]  # an end point: ω = 1
    xs = np.zeros((50, 2, 6))
    w = picture._ci_trace_weights_pair(P1, P2)
    _, P_lib, w_lib = covariance_intersection(xs, np.stack([P1, P2], axis=1))
    _, P_ours, _ = covariance_intersection(xs, np.stack([P1, P2], axis=1), weights=w)
    np.testing.assert_allclose(w, w_lib, atol=1e-6)
    np.testing.assert_array_equal(w[:5, 0], 1.0)
    np.testing.assert_allclose(np.trace(P_ours, axis1=-2, axis2=-1), np.trace(P_lib, axis1=-2, axis2=-1), rtol=1e-10)


def test_lineage_skipping_and_pass_through():
    t = np.arange(0.0, 8.0)
    C = 2

    def tracks(system, first, nan_threats=(), p_scale=1.0):
        trk = source_tracks(C, 3, t, seed=len(system), first=first, system=system)
        x = trk.x.copy()
        x[:, list(nan_threats)] = np.nan  # a confirmed track with no state: must be skipped
        return Tracks(system, t, x, p_scale * trk.P, trk.n_hits, trk.confirmed, trk.confirm_time, trk.q)

    # threat n is confirmed at source time first[n] + 2 (init_hits = 3)
    local = tracks("own", first=[-2, 99, 2])
    r1 = tracks("r1", first=[0, 4, 99], p_scale=4.0)
    r2 = tracks("r2", first=[-2, -2, 99], nan_threats=[0])
    times = np.array([1.5, 3.5, 5.5, 7.5])
    pic = fuse_picture(local, [r1, r2], times)
    want = np.array([[1, 3, 3, 3], [4, 4, 4, 6], [0, 0, 1, 1]], np.uint32)
    np.testing.assert_array_equal(pic.lineage, np.broadcast_to(want, (C, 3, 4)))
    assert pic.lineage.dtype == np.uint32 and pic.source_names == ("own", "r1", "r2")
    np.testing.assert_array_equal(pic.tracks.confirm_time, np.broadcast_to([1.5, 1.5, 5.5], (C, 3)))
    np.testing.assert_array_equal(pic.tracks.confirmed, np.broadcast_to(want != 0, (C, 3, 4)))
    # before any source holds threat 2, the local tentative track (from t = 2) is its history,
    # unconfirmed: none at 1.5, its state at 3 carried to 3.5
    assert np.isnan(pic.tracks.x[:, 2, 0]).all() and (pic.tracks.n_hits[:, 2, 0] == 0).all()
    x_t, P_t = coast(local.x[:, 2, 3], local.P[:, 2, 3], local.q[:, 2, 3], 0.5)
    np.testing.assert_array_equal(pic.tracks.x[:, 2, 1], x_t)
    np.testing.assert_array_equal(pic.tracks.P[:, 2, 1], P_t)
    # n_hits: the sum over the sources holding the threat, at their latest update (and the
    # tentative track's where none does)
    k = np.searchsorted(t, times, side="right") - 1
    hits = sum(s.n_hits[..., k] * ((want >> b) & 1) for b, s in enumerate((local, r1, r2)))
    hits[:, 2, 1] = local.n_hits[:, 2, 3]
    assert (hits[:, 2, 1] > 0).all()
    np.testing.assert_array_equal(pic.tracks.n_hits, hits)
    # one source passes through, carried from its update at t = 5 to 5.5 and from 7 to 7.5
    for j, ts in [(2, 5), (3, 7)]:
        x_w, P_w = coast(local.x[:, 2, ts], local.P[:, 2, ts], local.q[:, 2, ts], times[j] - ts)
        np.testing.assert_array_equal(pic.tracks.x[:, 2, j], x_w)
        np.testing.assert_array_equal(pic.tracks.P[:, 2, j], P_w)
        np.testing.assert_allclose(pic.tracks.x[:, 2, j], propagate(local.x[:, 2, ts], np.full(C, times[j] - ts)),
                                   rtol=0, atol=1e-6)

    # no local picture: bit 0 never set
    pic0 = fuse_picture(None, [r1, r2], times, node="relay")
    assert pic0.tracks.system == "relay" and pic0.source_names == ("", "r1", "r2")
    np.testing.assert_array_equal(pic0.lineage, np.broadcast_to(want & ~np.uint32(1), (C, 3, 4)))
    # "best": only the chosen (smallest-trace) source's bit, its state passed through
    best = fuse_picture(local, [r1, r2], times, method="best")
    np.testing.assert_array_equal(best.lineage, np.broadcast_to([[1, 1, 1, 1], [4, 4, 4, 4], [0, 0, 1, 1]], (C, 3, 4)))
    x_w, P_w = coast(r2.x[:, 1, 7], r2.P[:, 1, 7], r2.q[:, 1, 7], 0.5)
    np.testing.assert_array_equal(best.tracks.x[:, 1, 3], x_w)
    np.testing.assert_array_equal(best.tracks.n_hits, pic.tracks.n_hits)


def test_fuse_a_received_picture():
    """Local tracks plus the same tracks received late: the fused picture is valid on the grid and monotone."""
    t = np.arange(0.0, 100.0)
    C, N = 4, 3
    local = source_tracks(C, N, t, seed=11, first=[0, 10, 30])
    remote = transmit(source_tracks(C, N, t, seed=12, first=[5, 0, 20], system="far"),
                      Link("far", "c2", latency=2.5, period=2.0, loss=0.2),
                      [np.random.default_rng(c) for c in range(C)])
    times = 4.0 * np.arange(25)
    pic = fuse_picture(local, [remote], times)
    assert (np.diff(pic.tracks.n_hits, axis=-1) >= 0).all()
    np.testing.assert_array_equal(pic.tracks.confirm_time,
                                  times[np.searchsorted(times, np.minimum(local.confirm_time, remote.confirm_time))])
    ok = pic.tracks.confirmed
    err = np.linalg.norm(pic.tracks.x[..., :3] - truth(times)[None, None, :, :3], axis=-1)
    assert np.all(err[ok] < 5 * 100.0 * math.sqrt(3))  # the fused state is at the grid time, not before it


def test_empty_grids():
    """A source that ends before the epoch sends nothing; an empty output grid is an empty picture."""
    src = source_tracks(2, 3, np.arange(-10.0, -1.0))
    rec = transmit(src, Link("radar", "c2", 1.0, 1.0))
    assert rec.t.size == 0 and rec.x.shape == (2, 3, 0, 6) and np.isinf(rec.confirm_time).all()
    pic = fuse_picture(source_tracks(2, 3, np.arange(5.0)), [], np.array([]))
    assert pic.tracks.x.shape == (2, 3, 0, 6) and np.isinf(pic.tracks.confirm_time).all()
    with pytest.raises(ValueError, match="generator"):
        transmit(source_tracks(2, 3, np.arange(5.0)), Link("radar", "c2", 1.0, 1.0, loss=0.1), rngs=None)


def test_fuse_picture_rejects_bad_input():
    t = np.arange(5.0)
    a = source_tracks(2, 3, t)
    with pytest.raises(ValueError, match="method"):
        fuse_picture(a, [], t, method="mean")
    with pytest.raises(ValueError, match="times"):
        fuse_picture(a, [], t[::-1])
    with pytest.raises(ValueError, match="no source"):
        fuse_picture(None, [], t)
    with pytest.raises(ValueError, match=r"\(C, N\)"):
        fuse_picture(a, [source_tracks(3, 3, t)], t)


def test_a_source_predicted_into_the_ground_no_longer_holds_the_threat():
    # one picture last updated at t = 10 s on a path that comes down within minutes: fused at
    # later times it is predicted ballistically, and once that prediction is more than
    # IMPACTED_DEPTH_M below the ellipsoid the source no longer offers the threat (before, the
    # prediction fell on through the Earth and its covariance stopped being positive definite)
    a, b = _two_sources(P0, P0, rho=0.0, C=4)
    times = np.array([10.0, 100.0, 5000.0])
    pic = fuse_picture(a, [b], times, method="ci")
    assert (pic.lineage[:, 0, :2] == 3).all() and (pic.lineage[:, 0, 2] == 0).all()
    assert np.isfinite(pic.tracks.x[:, 0, :2]).all() and np.isnan(pic.tracks.x[:, 0, 2]).all()
    assert np.isnan(pic.tracks.P[:, 0, 2]).all()
    assert pic.tracks.confirmed[:, 0, :2].all() and not pic.tracks.confirmed[:, 0, 2].any()


def _ended_at(src: Tracks, t_end: float) -> Tracks:
    """``src`` with every track ended after ``t_end`` [s] (no state: deleted)."""
    keep = (src.t <= t_end)[None, None, :]
    return Tracks(system=src.system, t=src.t, x=np.where(keep[..., None], src.x, np.nan),
                  P=np.where(keep[..., None, None], src.P, np.nan), n_hits=src.n_hits, confirmed=src.confirmed,
                  confirm_time=src.confirm_time, q=src.q)


def test_a_track_the_source_ended_is_dropped_when_a_drop_message_gets_through():
    """A source track ended (deleted) at 100 s: the next message (sent at 110 s) carries its
    drop and the target's held state ends at that arrival (111 s); a drop lost with the
    message's draw is sent again in the next, until one gets through."""
    t = np.arange(0.0, 400.0, 10.0)
    src = _ended_at(source_tracks(40, 1, t), 100.0)
    rec = receive(src, Link(source="a", target="b", latency=1.0, period=10.0), rngs=None)
    live = np.isfinite(rec.tracks.x[:, 0]).all(axis=-1)
    assert live[:, 2:11].all() and not live[:, 11:].any()  # confirmed from the third report, dropped at 111 s
    link = Link(source="a", target="b", latency=1.0, period=10.0, loss=0.5)
    rec = receive(src, link, rngs=[np.random.default_rng(s) for s in range(40)])
    lost = np.stack([np.random.default_rng(s).random((1, t.size)) < 0.5 for s in range(40)])[:, 0]
    live = np.isfinite(rec.tracks.x[:, 0]).all(axis=-1)
    first_report = np.argmax(~lost[:, 2:], axis=1) + 2  # a state is held from the first report that arrives
    drop = np.argmax(~lost[:, 11:], axis=1) + 11  # the first drop that gets through
    for c in range(40):
        want = (np.arange(t.size) >= first_report[c]) & (np.arange(t.size) < drop[c])
        np.testing.assert_array_equal(live[c], want & (first_report[c] <= 10))
    assert (drop > 11).any()  # some drops were lost and sent again


def test_a_held_state_predicted_into_the_ground_is_dropped():
    # the source holds its track but stops sending it after 100 s (no longer confirmed: no
    # drop is sent); the receiver's held state is carried on by prediction every period until
    # it has come down, then dropped rather than carried on through the Earth
    t = np.arange(0.0, 3000.0, 10.0)
    src = source_tracks(2, 1, np.minimum(t, 100.0))
    src = Tracks(system=src.system, t=t, x=src.x, P=src.P, n_hits=src.n_hits,
                 confirmed=src.confirmed & (t <= 100.0)[None, None, :], confirm_time=src.confirm_time, q=src.q)
    rec = receive(src, Link(source="a", target="b", latency=1.0, period=10.0), rngs=None)
    x = rec.tracks.x[:, 0]
    live = np.isfinite(x).all(axis=-1)
    alt = earth.ecef_to_geodetic(x[live][:, :3])[2]
    assert live[:, 2:11].all() and not live[:, -1].any()  # confirmed from the third report
    assert live[:, 11:16].all()  # carried on after its last report (no drop)
    assert alt.min() > -2000.0
    assert np.isfinite(rec.tracks.P[:, 0][live]).all() and np.isnan(rec.tracks.P[:, 0][~live]).all()


def test_links_and_pictures_predict_with_the_noise_level_the_source_filter_held():
    """A state carried past its last update grows as its own filter would have grown it: by the
    white-noise acceleration of the level it held (Tracks.q), q·dt³/3 of position variance per
    axis over dt (BLK §6.2.2), on top of the dynamics'; the level rides along with the state."""
    t = np.arange(0.0, 20.0)
    C, N = 2, 1
    q = 1e3  # m²/s³: a boosting track's level (the adaptive filter's runs 1e-2 .. 1e5)
    calm = source_tracks(C, N, t, seed=3)
    busy = make_tracks("radar", t, calm.x, P0, calm.n_hits, q=q)
    link = Link(source="a", target="b", latency=5.0, period=10.0)
    r_calm, r_busy = receive(calm, link).tracks, receive(busy, link).tracks
    # message 1 carries the update at t = 10 to t = 15: 5 s of prediction (300 km up: no drag floor)
    dt = 5.0
    extra = np.trace(r_busy.P[:, 0, 1, :3, :3] - r_calm.P[:, 0, 1, :3, :3], axis1=-2, axis2=-1)
    np.testing.assert_allclose(extra, 3 * q * dt**3 / 3, rtol=1e-3)
    np.testing.assert_array_equal(r_busy.x, r_calm.x)  # the noise moves no state
    np.testing.assert_array_equal(r_busy.q[:, 0, 1], np.float32(q))
    assert np.isnan(r_busy.q[:, 0, 0]).all()  # message 0 left before the track's confirmation: nothing held
    # a fused picture carries the highest level among the sources in the estimate
    pic = fuse_picture(calm, [r_busy], np.array([15.0, 15.5]))
    assert (pic.lineage[:, 0] == 3).all()
    np.testing.assert_array_equal(pic.tracks.q[:, 0], np.float32(q))
    # and predicts each with its own: the busy source's covariance at 15.5 is wider than the calm one's
    alone_calm = fuse_picture(calm, [], np.array([15.5]), method="best").tracks.P[:, 0, 0]
    alone_busy = fuse_picture(busy, [], np.array([15.5]), method="best").tracks.P[:, 0, 0]
    np.testing.assert_allclose(np.trace(alone_busy[:, :3, :3] - alone_calm[:, :3, :3], axis1=-2, axis2=-1),
                               q * 0.5**3, rtol=1e-3)
