"""One scenario under several C2 architectures: the same raids, the same seeds, side by side.

For each architecture (:mod:`shieldlab.c2.network`) the scenario is recompiled with that
``architecture:`` and run for the same runs and seed: the threats fly the same dispersed
paths and the sensors draw the same noise in every architecture (each run's streams are
its own), so the differences are the C2's.  Per architecture, per raid (run):

* ``leakers``: threats that landed; ``interceptors``: interceptors fired, every one (means,
  95 % Student t intervals), as ``run`` counts them; of those, where fire control engaged
  tracks of reports without labels (``tracking.association: gnn``), ``at_boosters`` (at a
  spent booster taken for a warhead) and ``at_false_tracks`` (at a track of false alarms);
* ``wasted``: interceptors at a warhead that another salvo had already destroyed by their
  planned intercept time (a double shot that nobody called off, or a shot on a stale track);
* ``first_engagement_s``: from a threat's launch to the launch of the first interceptor at
  its warhead (mean over the threats engaged, pooled over the raids; its 95 % interval takes
  the raids, not the threats, as independent: :func:`shieldlab.stats.ratio_interval`);
* ``between_sectors``: threats nobody engaged because every battery left them to another
  node's sector (``outside-sector`` for every battery);
* ``p_leak``: per threat, the share of raids in which it leaked (``p_leak_ci95``, as
  ``p_no_leaker_ci95``: its 95 % Wilson score interval);
* ``track_share``: for each pair of sides (``A sees B``), of the threats that side B's own
  sensors detected, the share that side A's fire control held a track of;
* against the first architecture (``against``), raid by raid: the paired differences of the
  leakers and of the interceptors fired (``leakers_difference``, ``interceptors_difference``:
  mean and 95 % Student t interval of the per-raid differences, which is much narrower than
  the two columns' own intervals when most raids come out the same; where every raid came out
  alike, the exact bound of a bounded mean, :func:`shieldlab.stats.mean_interval`'s, the
  difference bounded by the raid's threats and the batteries' rounds), and how many raids had
  fewer or more leakers (``raids_fewer_leakers``, ``raids_more_leakers``).  The raids are the
  same in every column, so a difference is the C2's, and its interval says whether the runs
  can tell it from none.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from shieldlab.c2.network import INTEGRATED
from shieldlab.c2.records import REASONS
from shieldlab.engine.chain import Flights, preflight
from shieldlab.engine.montecarlo import simulate
from shieldlab.io.results import before_destroyed, earliest_by_object, first_detection
from shieldlab.outcome.caps import cap_of, interceptor_caps
from shieldlab.scenario.compile import compile_world
from shieldlab.scenario.schema import with_architecture
from shieldlab.stats import MeanCI, mean_interval, ratio_interval, wilson_interval

_OUTSIDE = REASONS.index("outside-sector")


@dataclass(frozen=True)
class ArchitectureResult:
    """What one architecture achieved over ``runs`` raids (means per raid, 95 % intervals)."""

    architecture: str
    runs: int
    leakers: MeanCI  # mean, lo, hi
    interceptors: MeanCI
    wasted: MeanCI
    at_boosters: MeanCI
    at_false_tracks: MeanCI
    between_sectors: MeanCI | None  # None but under the sectoral architecture (no sector to leave a threat between)
    # mean over the threats engaged, pooled over the raids, and its interval (raids as clusters:
    # stats.ratio_interval); nan if none
    first_engagement_s: MeanCI
    p_no_leaker: float
    track_share: dict = field(default_factory=dict)  # "A sees B" -> share
    p_leak: dict = field(default_factory=dict)  # threat name -> fraction of raids it leaked in
    # warheads landed on a defended asset, and the assets' value lost (a leaker that misses
    # every asset costs nothing): what a defence that lets harmless threats go is judged by
    assets_hit: MeanCI = MeanCI(*(float("nan"),) * 3)
    value_lost: MeanCI = MeanCI(*(float("nan"),) * 3)
    # the 95 % Wilson score intervals of p_no_leaker and of each threat's p_leak
    p_no_leaker_ci95: tuple[float, float] = (float("nan"),) * 2
    p_leak_ci95: dict = field(default_factory=dict)  # threat name -> (lo, hi)
    # paired with the first architecture compared, raid by raid (None for the first: nothing
    # to pair it with)
    against: str | None = None
    leakers_difference: MeanCI | None = None  # this minus the first
    interceptors_difference: MeanCI | None = None
    raids_fewer_leakers: int | None = None
    raids_more_leakers: int | None = None
    # every raid alike (a difference of 0 in each): the interval is then the wide exact bound
    leakers_alike: bool | None = None
    interceptors_alike: bool | None = None
    # the most interceptors a raid can fire under this architecture (outcome.caps: the rounds
    # above reserve, or each fire control's engagements of each threat): the upper bound of
    # the interceptor counts' intervals where every raid came out alike
    interceptors_cap: float = float("nan")

    def as_dict(self) -> dict:
        def r4(x):  # JSON has no NaN: one run has no interval, and a figure that does not apply is null
            return round(float(x), 4) if np.isfinite(x) else None

        def m(v):
            return {"mean": r4(v[0]), "ci95": [r4(v[1]), r4(v[2])]}
        paired = None if self.against is None else {
            "against": self.against, "leakers_difference": m(self.leakers_difference),
            "interceptors_difference": m(self.interceptors_difference),
            "raids_fewer_leakers": self.raids_fewer_leakers, "raids_more_leakers": self.raids_more_leakers,
            "leakers_alike_in_every_raid": self.leakers_alike,
            "interceptors_alike_in_every_raid": self.interceptors_alike}
        return {"architecture": self.architecture, "runs": self.runs, "leakers_per_raid": m(self.leakers),
                "interceptors_per_raid": m(self.interceptors), "wasted_interceptors_per_raid": m(self.wasted),
                "interceptors_at_boosters_per_raid": m(self.at_boosters),
                "interceptors_at_false_tracks_per_raid": m(self.at_false_tracks),
                # null where no node has a sector to leave a threat between: not a zero
                "between_sectors_per_raid": None if self.between_sectors is None else m(self.between_sectors),
                "first_engagement_s": m(self.first_engagement_s),
                "p_no_leaker": round(self.p_no_leaker, 4),
                "p_no_leaker_ci95": [r4(v) for v in self.p_no_leaker_ci95],
                "assets_hit_per_raid": m(self.assets_hit), "value_lost_per_raid": m(self.value_lost),
                "track_share": {k: r4(v) for k, v in self.track_share.items()},
                "p_leak": {k: round(v, 4) for k, v in self.p_leak.items()},
                "p_leak_ci95": {k: [round(v, 4) for v in iv] for k, iv in self.p_leak_ci95.items()},
                "interceptors_cap_per_raid": r4(self.interceptors_cap),
                "paired": paired}


class _Tally:
    """Per-chunk accumulation of the comparison's numbers."""

    def __init__(self, world, runs: int):
        self.world = world
        self.leak = np.zeros(runs)
        self.hit = np.zeros(runs)
        self.lost = np.zeros(runs)
        self.worth = np.array([float(a.value) for a in world.assets] + [0.0])  # [-1]: no asset
        self.leak_by_threat = np.zeros(len(world.threats))
        self.fired = np.zeros(runs)
        self.at_boosters = np.zeros(runs)
        self.at_false = np.zeros(runs)
        self.wasted = np.zeros(runs)
        self.between = np.zeros(runs)
        # from each engaged threat's launch to its first interceptor's [s]: each raid's sum and count
        self.delay_sum = np.zeros(runs)
        self.delay_n = np.zeros(runs)
        sides: dict[str, list[str]] = {}
        for nd in world.nodes:
            sides.setdefault(nd.side, []).append(nd.name)
        self.sides = sides
        self.seen: dict[str, list[int]] = {}  # "A sees B" -> [held by A's fire control, detected by B]

    def __call__(self, chunk) -> None:
        w = self.world
        r0 = chunk.first_run
        o, e, d = chunk.outcomes, chunk.engagements, chunk.decisions
        C, N = o.leaked.shape
        runs = slice(r0, r0 + C)
        self.leak[runs] = o.leaked.sum(axis=1)
        self.hit[runs] = (o.asset_hit >= 0).sum(axis=1)
        self.lost[runs] = self.worth[o.asset_hit].sum(axis=1)
        self.leak_by_threat += o.leaked.sum(axis=0)
        # every interceptor: the threats' (their boosters' among them) and the false tracks'
        false = e.owner(N) < 0
        self.at_false[runs] = np.bincount(e.run[false], e.rounds[false], minlength=C)
        self.fired[runs] = o.interceptors.sum(axis=1) + self.at_false[runs]
        self.at_boosters[runs] = o.interceptors_at_booster.sum(axis=1)
        # below, the salvos at a warhead only (threat -1: at a booster or a false track, which
        # read the last threat's column)
        at = e.threat >= 0
        run, threat, t_int, t_launch = e.run[at], e.threat[at], e.intercept_time[at], e.launch_time[at]
        killed, rounds = e.killed[at], e.rounds[at]
        # interceptors that arrived after another salvo had destroyed their threat
        kill_t = np.full((C, N), np.inf)
        np.minimum.at(kill_t, (run[killed], threat[killed]), t_int[killed])
        late = t_int > kill_t[run, threat]
        np.add.at(self.wasted, r0 + run[late], rounds[late])
        # from launch to the first interceptor's launch
        first = np.full((C, N), np.inf)
        np.minimum.at(first, (run, threat), t_launch)
        launch = np.array([t.launch_time for t in w.threats])
        ok = np.isfinite(first)
        self.delay_sum[runs] = np.where(ok, first - launch[None, :], 0.0).sum(axis=1)
        self.delay_n[runs] = ok.sum(axis=1)
        # nobody engaged it: every battery said it lay in another's sector
        nf = d.kind == 1
        rows = np.zeros((C, N), int)
        outside = np.zeros((C, N), int)
        np.add.at(rows, (d.run[nf], d.threat[nf]), 1)
        np.add.at(outside, (d.run[nf], d.threat[nf]), d.reason[nf] == _OUTSIDE)
        gap = (rows > 0) & (outside == rows) & (o.engagements == 0)
        self.between[runs] = gap.sum(axis=1)
        # what each side's fire control held of the threats the other side's sensors saw
        # (no detection and no track after a threat's destruction: the sensors and trackers ran
        # on whole flights before the fight)
        detected: dict[str, np.ndarray] = {}
        for s_i, s in enumerate(w.sensors):
            hit = np.isfinite(before_destroyed(chunk, first_detection(chunk.detections[s_i])))
            detected[s.system] = detected.get(s.system, np.zeros((C, N), bool)) | hit
        held = {name: np.isfinite(before_destroyed(chunk, _first_track_by_threat(chunk, name, tr, C, N)))
                for name, tr in chunk.pictures.items()}
        for a, a_nodes in self.sides.items():
            ha = held.get(INTEGRATED, np.zeros((C, N), bool)).copy()
            for nm in a_nodes:
                ha |= held.get(nm, False)
            for b, b_nodes in self.sides.items():
                if a == b:
                    continue
                db = np.zeros((C, N), bool)
                for nm in b_nodes:
                    db |= detected.get(nm, False)
                acc = self.seen.setdefault(f"{a} sees {b}", [0, 0])
                acc[0] += int((ha & db).sum())
                acc[1] += int(db.sum())


def _first_track_by_threat(chunk, name: str, tr, C: int, N: int) -> np.ndarray:
    """(C, N): when picture ``name`` (its tracks ``tr``) first held a confirmed track of each
    threat [s] (inf: never).  Tracks by label are the threats; tracks of reports without labels
    are columns of their own, each told by the object behind it as the node reads it, received
    tracks included (``ChunkResult.picture_targets``: lineage, scoring only, as this table is):
    the columns' shape (C, T) broke the union over a side's nodes."""
    if tr.confirm_time.shape == (C, N):
        return tr.confirm_time
    obj = chunk.picture_targets.get(name)
    return np.full((C, N), np.inf) if obj is None else earliest_by_object(tr.confirm_time, obj, N)


def _pair(iv) -> tuple[float, float]:
    lo, hi = iv
    return float(lo), float(hi)


def compare(world, architectures, runs: int, seed: int,
            progress: Callable[[str, int], None] | None = None,
            flights: Flights | None = None) -> list[ArchitectureResult]:
    """Run ``world`` under each of ``architectures`` for the same ``runs`` and ``seed``; each
    after the first is paired with the first, raid by raid (module docstring).  ``flights``:
    ``world``'s nominal flights where the caller has flown them
    (:func:`~shieldlab.engine.chain.preflight`); the architectures share one set either way,
    since C2 changes nothing the threats fly."""
    out = []
    first: _Tally | None = None
    first_fired_cap = 0.0  # the most the first architecture's raid can fire
    for arch in architectures:
        w = compile_world(with_architecture(world.scenario, arch, source=world.source), source=world.source)
        flights = preflight(w, runs, can_store=False, flights=flights)
        tally = _Tally(w, runs)
        simulate(w, runs=runs, seed=seed, flights=flights, on_chunk=tally,
                 progress=None if progress is None else functools.partial(progress, arch))
        def mi(x, upper=None):  # counts: an interval below zero (or above the most possible) means nothing
            return mean_interval(x, lower=0.0, upper=upper)
        # the most a raid can fire (outcome.caps): the bounds of the interceptor counts, so that
        # where every raid came out alike their interval is the exact bound, not the point
        # ("interceptors fired 8.00 (8.00-8.00)" after two runs)
        caps = interceptor_caps(w)
        most = caps.per_run
        fired_cap = cap_of(tally.fired, caps.fired, most)
        share = {k: (v[0] / v[1] if v[1] else float("nan")) for k, v in tally.seen.items()}
        paired: dict = {}
        if first is None:
            first, first_fired_cap = tally, fired_cap
        else:
            # bounded as a raid's difference is (its leakers; its interceptors, each side at most
            # what its fire control can fire, outcome.caps): where every raid came out
            # alike, the exact bound of a bounded mean (stats.mean_interval), not a point that
            # claims a certainty n raids cannot give
            n = float(len(w.threats))
            d_leak = tally.leak - first.leak
            paired = dict(against=architectures[0], leakers_difference=mean_interval(d_leak, lower=-n, upper=n),
                          interceptors_difference=mean_interval(tally.fired - first.fired, lower=-first_fired_cap,
                                                                upper=fired_cap),
                          raids_fewer_leakers=int((d_leak < 0).sum()), raids_more_leakers=int((d_leak > 0).sum()),
                          leakers_alike=bool((d_leak == 0).all()),
                          interceptors_alike=bool((tally.fired == first.fired).all()))
        out.append(ArchitectureResult(**paired,
            architecture=arch, runs=runs, leakers=mi(tally.leak, float(len(w.threats))), interceptors_cap=fired_cap,
            interceptors=mi(tally.fired, fired_cap),
            wasted=mi(tally.wasted, cap_of(tally.wasted, caps.fired, most)),
            at_boosters=mi(tally.at_boosters, cap_of(tally.at_boosters, caps.at_boosters, most)),
            at_false_tracks=mi(tally.at_false, cap_of(tally.at_false, caps.at_false_tracks, most)),
            between_sectors=mi(tally.between, float(len(w.threats))) if arch == "sectoral" else None,
            first_engagement_s=ratio_interval(tally.delay_sum, tally.delay_n),
            p_no_leaker=float(np.mean(tally.leak == 0)), track_share=share,
            p_no_leaker_ci95=_pair(wilson_interval(int(np.sum(tally.leak == 0)), runs)),
            p_leak_ci95={t.name: _pair(wilson_interval(int(k), runs))
                         for t, k in zip(w.threats, tally.leak_by_threat)},
            assets_hit=mi(tally.hit, float(len(w.threats))),
            value_lost=mi(tally.lost, len(w.threats) * float(tally.worth.max(initial=0.0))),
            p_leak={t.name: float(k / runs) for t, k in zip(w.threats, tally.leak_by_threat)}))
    return out
