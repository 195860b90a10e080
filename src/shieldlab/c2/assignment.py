"""Weapon–target assignment for fire control: which battery fires how many rounds at which threat.

Model (the static weapon–target assignment problem, Manne 1958).  ``T`` threats,
``B`` batteries.  Threat ``t`` puts ``value[t]`` at stake (e.g. the value of the
asset it is aimed at times the probability that it hits it).  One round of
battery ``b`` kills threat ``t`` with probability ``pk[b, t]``, independently of
every other round.  Battery ``b`` has ``rounds[b]`` rounds to spend (above its
reserve), fires at most ``max_salvo[b, t]`` of them at one threat, and may
engage ``t`` only where ``feasible[b, t]`` (its time window is open); at most
``max_shooters[t]`` batteries may fire at threat ``t``.  With ``x[b, t]`` the
rounds battery ``b`` fires at threat ``t``, threat ``t`` survives with
probability

    S_t(x) = Π_b (1 − pk[b, t])^x[b, t]

and the expected value saved, to be maximised, is

    V(x) = Σ_t value[t] (1 − S_t(x))

subject to

    Σ_t x[b, t] ≤ rounds[b],       0 ≤ x[b, t] ≤ max_salvo[b, t],   x integer,
    x[b, t] = 0 where not feasible[b, t],
    #{b : x[b, t] > 0} ≤ max_shooters[t].

The problem is NP-complete (Lloyd & Witsenhausen 1986).  Three solvers:

:func:`solve_exact` — a set-partitioning MILP over *engagement patterns*,
solved by HiGHS through :func:`scipy.optimize.milp`.  A pattern of threat ``t``
is one column ``n = x[:, t]`` of the plan: a number of rounds from each battery
that can reach ``t`` (``0 ≤ n_b ≤ min(max_salvo[b, t], rounds[b])``, at most
``max_shooters[t]`` of them non-zero).  Its value ``g_tn = value[t] (1 − Π_b
(1 − pk[b, t])^n_b)`` is computed exactly in advance.  With a binary ``z_tn``
per pattern:

    max Σ_{t,n} g_tn z_tn
    s.t. Σ_n z_tn ≤ 1                   for every threat t   (no pattern: no fire)
         Σ_{t,n} n_b z_tn ≤ rounds[b]   for every battery b.

This is exact, not an approximation: V is a sum over threats of a function of
that threat's column alone, every feasible plan is one pattern (or none) per
threat and conversely, and the magazine is the only constraint that couples
threats, linear in the patterns chosen.  Branch and bound then proves
optimality (relative gap 0; HiGHS' absolute gap of 1e-6 applies to an objective
scaled so that the largest threat value is 1e6, i.e. 1e-12 of it).  The
log-survival ``Σ_b log(1 − pk) x`` is linear in ``x`` but ``1 − exp(·)`` is
not; a piecewise-linear envelope of it is exact only with a breakpoint at every
reachable log-survival, which is no fewer points than patterns (or needs
repeated solves adding cuts), so the patterns are the simpler exact form.
Limit: threat ``t`` has ``Π_{b ∈ B_t} (c_bt + 1) − 1`` patterns,
``c_bt = min(max_salvo, rounds)`` (1 where ``pk = 1``), i.e. ``(max_salvo +
1)^|B_t|`` growing exponentially in the number ``|B_t|`` of batteries that can
reach it (3^10 − 1 = 59,048 for ten batteries firing up to two rounds).  Beyond
``max_patterns`` in all (default 50,000) it raises :class:`ValueError`; use
:func:`solve_greedy` there.  Measured (bench/c2.py, one core of an AMD EPYC,
sparse raid geometry): 16,642 patterns (96 threats × 24 batteries) in 0.7 s,
39,664 in 12 s, 71,710 in 24 s; the time depends on the patterns far more than
on the numbers of threats and batteries.  HiGHS' presolve is switched off: it
finds almost nothing to remove from these models and, on 70,000 patterns and
more, spent longer than the whole solve takes without it (and overran a time
limit by minutes: HiGHS checks ``time_limit`` only between its phases).

:func:`solve_greedy` — maximum marginal return (den Broeder, Ellison &
Emerling 1959; Hosein & Athans 1990): give one round at a time to the
(battery, threat) pair with the largest gain in expected value,

    Δ_bt = value[t] · S_t · pk[b, t],

where ``S_t`` is the survival of ``t`` under the rounds given so far, among
pairs that still respect magazine, salvo and shooter limits, until no pair
gains anything.  A pair's availability never returns once lost, and for a
given threat the ranking of its batteries by ``pk`` does not change, so each
threat keeps a pointer into its batteries sorted by ``pk`` and a lazy max-heap
holds one entry per threat: ``O(nnz + R log T)`` for ``nnz`` feasible pairs and
``R`` rounds given.  Guarantees: ``V`` is a monotone submodular function of the
set of rounds given (each round multiplies its threat's survival by a factor ≤
1, so its gain can only shrink as other rounds are added), and magazines with
salvo caps are a partition matroid on rounds, so without ``max_shooters`` the
greedy plan saves at least half the optimum (Fisher, Nemhauser & Wolsey 1978);
the bound is tight (a test builds a case at 1/2 + ε).  It is optimal with a
single battery, a separable concave allocation of one budget (Fox 1966), and
when every magazine can cover every feasible salvo.  No bound is claimed with
``max_shooters``, which is not a matroid constraint.

:func:`brute_force` — every feasible plan, for tests on tiny problems.

Sources: A. S. Manne, "A target-assignment problem", Operations Research 6(3),
346–351, 1958.  G. G. den Broeder, R. E. Ellison and L. Emerling, "On optimum
target assignments", Operations Research 7(3), 322–326, 1959.  S. P. Lloyd and
H. S. Witsenhausen, "Weapons allocation is NP-complete", Proc. 1986 Summer
Computer Simulation Conference.  P. A. Hosein and M. Athans, "Preferential
defense strategies. Part I: the static case", MIT LIDS-P-2002, 1990.
B. Fox, "Discrete optimization via marginal analysis", Management Science
13(3), 210–216, 1966.  M. L. Fisher, G. L. Nemhauser and L. A. Wolsey, "An
analysis of approximations for maximizing submodular set functions — II",
Mathematical Programming Study 8, 73–87, 1978.  R. K. Ahuja, A. Kumar,
K. C. Jha and J. B. Orlin, "Exact and heuristic algorithms for the
weapon-target assignment problem", Operations Research 55(6), 1136–1146, 2007.
Q. Huangfu and J. A. J. Hall, "Parallelizing the dual revised simplex method",
Mathematical Programming Computation 10, 119–142, 2018 (HiGHS).
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from shieldlab.errors import InputError

__all__ = [
    "AssignmentProblem",
    "Assignment",
    "solve_exact",
    "solve_greedy",
    "brute_force",
    "value_saved",
    "survival",
    "violations",
    "DEFAULT_MAX_PATTERNS",
]

DEFAULT_MAX_PATTERNS = 50_000
"""Most engagement patterns :func:`solve_exact` builds before it gives up."""

_OBJECTIVE_SCALE = 1e6  # the largest threat value, in solver units (see the module docstring)


def _int_array(name: str, a, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise InputError(f"must be integers (got dtype {arr.dtype})", field=name)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise InputError("must be whole numbers", field=name)
    try:
        arr = np.broadcast_to(arr, shape)
    except ValueError:
        raise InputError(f"shape {np.shape(a)} does not fit {shape}", field=name) from None
    if np.any(arr < 0):
        raise InputError(f"must be ≥ 0 (found {arr.min()})", field=name)
    return np.array(arr, dtype=np.int64)


@dataclass(frozen=True)
class AssignmentProblem:
    """One weapon–target assignment problem; ``T`` threats, ``B`` batteries.

    Fields are normalised on construction (the inputs may be lists or scalars
    where stated) and checked: a bad one raises :class:`ValueError`
    (:class:`shieldlab.errors.InputError`) naming it.
    """

    value: np.ndarray  # (T,) float ≥ 0: expected value at stake per threat
    pk: np.ndarray  # (B, T) float in [0, 1]: single-shot kill probability (0: cannot engage)
    rounds: np.ndarray  # (B,) int ≥ 0: rounds available above reserve
    # int, (B,) or (B, T) int ≥ 0: rounds one battery may fire at one threat; stored (B, T)
    max_salvo: np.ndarray | int = 1
    max_shooters: np.ndarray | int | None = None  # None, int or (T,) int ≥ 0: batteries per threat; stored (T,)
    feasible: np.ndarray | None = None  # (B, T) bool: time window open; None: everywhere; stored (B, T)

    def __post_init__(self):
        value = np.asarray(self.value, dtype=float)
        if value.ndim != 1:
            raise InputError(f"must be one-dimensional (T,), got shape {value.shape}", field="value")
        if not np.all(np.isfinite(value)) or np.any(value < 0):
            raise InputError("must be finite and ≥ 0", field="value")
        T = value.shape[0]
        pk = np.asarray(self.pk, dtype=float)
        if pk.ndim != 2 or pk.shape[1] != T:
            raise InputError(f"must have shape (B, T) with T = {T} threats, got {pk.shape}", field="pk")
        if not np.all(np.isfinite(pk)) or np.any((pk < 0) | (pk > 1)):
            bad = np.argwhere(~((pk >= 0) & (pk <= 1)))[0]
            raise InputError(f"must lie in [0, 1] (found {pk[tuple(bad)]} at {tuple(int(i) for i in bad)})",
                             field="pk")
        B = pk.shape[0]
        if np.ndim(self.rounds) != 1 or np.shape(self.rounds)[0] != B:
            raise InputError(f"must have shape (B,) with B = {B} batteries, got {np.shape(self.rounds)}",
                             field="rounds")
        rounds = _int_array("rounds", self.rounds, (B,))
        salvo = np.asarray(self.max_salvo)
        if salvo.ndim == 1:
            if salvo.shape[0] != B:
                raise InputError(f"must be an int, (B,) or (B, T) with B = {B}, T = {T}; got {salvo.shape}",
                                 field="max_salvo")
            salvo = salvo[:, None]
        max_salvo = _int_array("max_salvo", salvo, (B, T))
        if self.max_shooters is None:
            shooters = np.full(T, B, dtype=np.int64)
        else:
            if np.ndim(self.max_shooters) not in (0, 1):
                raise InputError("must be None, an int or (T,)", field="max_shooters")
            shooters = _int_array("max_shooters", self.max_shooters, (T,))
        if self.feasible is None:
            feasible = np.ones((B, T), dtype=bool)
        else:
            feasible = np.asarray(self.feasible)
            if feasible.dtype != bool:
                raise InputError(f"must be a bool array (got dtype {feasible.dtype})", field="feasible")
            if feasible.shape != (B, T):
                raise InputError(f"must have shape (B, T) = {(B, T)}, got {feasible.shape}", field="feasible")
            feasible = feasible.copy()
        for name, arr in (("value", value), ("pk", pk), ("rounds", rounds), ("max_salvo", max_salvo),
                          ("max_shooters", shooters), ("feasible", feasible)):
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    @property
    def n_threats(self) -> int:
        return self.value.shape[0]

    @property
    def n_batteries(self) -> int:
        return self.pk.shape[0]

    @property
    def cap(self) -> np.ndarray:
        """(B, T) int: the most rounds ``b`` can usefully fire at ``t``: ``min(max_salvo, rounds)``, 1 where
        ``pk = 1`` (a second round gains nothing), 0 where it cannot engage or the threat is worth nothing."""
        # __post_init__ stored these fields as arrays
        assert isinstance(self.feasible, np.ndarray) and isinstance(self.max_shooters, np.ndarray)
        eng = self.feasible & (self.pk > 0) & (self.value > 0)[None, :] & (self.max_shooters > 0)[None, :]
        cap = np.minimum(self.max_salvo, self.rounds[:, None])
        return np.where(eng, np.where(self.pk >= 1.0, np.minimum(cap, 1), cap), 0)


@dataclass(frozen=True)
class Assignment:
    """A fire plan and what it is worth."""

    x: np.ndarray  # (B, T) int: rounds battery b fires at threat t
    p_kill: np.ndarray  # (T,) float: probability each threat is killed under x
    value_saved: float  # Σ_t value[t] p_kill[t]
    solver: str  # "exact" (pattern MILP, HiGHS), "greedy" (maximum marginal return), "brute-force"
    optimal: bool | None = None  # proven optimal (exact, brute force); None for greedy
    bound: float | None = None  # exact: upper bound on the value saved proven by the solver
    gap: float | None = None  # exact: (bound − value_saved) / bound, 0 when proven optimal
    n_patterns: int | None = None  # exact: binary variables (engagement patterns) in the MILP
    nodes: int | None = None  # exact: branch-and-bound nodes
    message: str = ""
    wall_s: float = 0.0  # time to solve, including building the model

    @property
    def rounds_used(self) -> np.ndarray:
        """(B,) int: rounds each battery fires."""
        return self.x.sum(axis=1)


def survival(problem: AssignmentProblem, x) -> np.ndarray:
    """(T,) probability each threat survives the plan ``x`` (B, T): ``Π_b (1 − pk)^x``."""
    x = np.asarray(x)
    return np.prod(np.power(1.0 - problem.pk, x), axis=0)


def value_saved(problem: AssignmentProblem, x) -> float:
    """Expected value saved by the plan ``x`` (B, T): ``Σ_t value[t] (1 − S_t(x))``."""
    return float(problem.value @ (1.0 - survival(problem, x)))


def violations(problem: AssignmentProblem, x) -> list[str]:
    """Every constraint the plan ``x`` breaks, one line each (empty: feasible)."""
    x = np.asarray(x)
    out = []
    # __post_init__ stored these fields as arrays
    assert (isinstance(problem.max_salvo, np.ndarray) and isinstance(problem.max_shooters, np.ndarray)
            and isinstance(problem.feasible, np.ndarray))
    if x.shape != problem.pk.shape:
        return [f"x has shape {x.shape}, the problem {problem.pk.shape}"]
    if np.any(x != np.round(x)) or np.any(x < 0):
        out.append("x must be whole numbers ≥ 0")
    for b in np.flatnonzero(x.sum(axis=1) > problem.rounds):
        out.append(f"battery {b} fires {x[b].sum()} rounds, has {problem.rounds[b]}")
    for b, t in np.argwhere(x > problem.max_salvo):
        out.append(f"battery {b} fires {x[b, t]} rounds at threat {t}, max_salvo {problem.max_salvo[b, t]}")
    for b, t in np.argwhere((x > 0) & ~problem.feasible):
        out.append(f"battery {b} fires at threat {t} outside its window")
    for t in np.flatnonzero((x > 0).sum(axis=0) > problem.max_shooters):
        out.append(f"threat {t} has {(x[:, t] > 0).sum()} shooters, max_shooters {problem.max_shooters[t]}")
    return out


def _result(problem: AssignmentProblem, x: np.ndarray, solver: str, t0: float, **kw) -> Assignment:
    x = np.asarray(x, dtype=np.int64)
    p_kill = 1.0 - survival(problem, x)
    x.flags.writeable = False
    p_kill.flags.writeable = False
    return Assignment(x=x, p_kill=p_kill, value_saved=float(problem.value @ p_kill), solver=solver,
                      wall_s=time.perf_counter() - t0, **kw)


# ---------------------------------------------------------------------------------------- exact


def _patterns(problem: AssignmentProblem, max_patterns: int):
    """Every engagement pattern of every threat: (threat (P,), battery rows (nnz,), rounds (nnz,), column
    of each nonzero (nnz,), gain (P,))."""
    # __post_init__ stored these fields as arrays
    assert isinstance(problem.max_shooters, np.ndarray)
    cap = problem.cap
    reach = [np.flatnonzero(cap[:, t]) for t in range(problem.n_threats)]
    counts = [int(np.prod(cap[bs, t] + 1, dtype=float)) - 1 for t, bs in enumerate(reach)]
    total = sum(counts)
    if total > max_patterns:
        worst = int(np.argmax(counts))
        raise ValueError(
            f"the exact solver would need {total:,} engagement patterns (more than max_patterns = "
            f"{max_patterns:,}); threat {worst} alone has {counts[worst]:,} ({len(reach[worst])} batteries "
            f"reach it, up to {int(cap[reach[worst], worst].max())} rounds each). The pattern count grows as "
            "(max_salvo + 1)^(batteries reaching a threat); use solve_greedy, or raise max_patterns")
    threat, rows, nrounds, cols, gains = [], [], [], [], []
    col0 = 0
    for t, bs in enumerate(reach):
        if bs.size == 0:
            continue
        grid = np.indices(tuple(cap[bs, t] + 1)).reshape(bs.size, -1).T[1:]  # (P, k), no all-zero row
        grid = grid[(grid > 0).sum(axis=1) <= problem.max_shooters[t]]
        g = problem.value[t] * (1.0 - np.prod(np.power(1.0 - problem.pk[bs, t], grid), axis=1))
        P = grid.shape[0]
        r, c = np.nonzero(grid.T)  # battery slot, pattern
        threat.append(np.full(P, t))
        rows.append(bs[r])
        nrounds.append(grid.T[r, c])
        cols.append(col0 + c)
        gains.append(g)
        col0 += P
    if not threat:
        e = np.zeros(0, dtype=np.int64)
        return e, e, e, e, np.zeros(0)
    return (np.concatenate(threat), np.concatenate(rows), np.concatenate(nrounds), np.concatenate(cols),
            np.concatenate(gains))


def solve_exact(problem: AssignmentProblem, *, max_patterns: int = DEFAULT_MAX_PATTERNS,
                time_limit_s: float | None = None) -> Assignment:
    """The optimal plan: the pattern MILP of the module docstring, solved by HiGHS (``scipy.optimize.milp``).

    Raises :class:`ValueError` when the problem needs more than ``max_patterns``
    patterns.  With ``time_limit_s`` it may stop early: then ``optimal`` is
    False and ``bound``/``gap`` say how far from optimal the plan may be (a
    zero plan when the solver found none).
    """
    from scipy import sparse  # (here: scipy.optimize costs an import ~0.3 s)
    from scipy.optimize import Bounds, LinearConstraint, milp

    t0 = time.perf_counter()
    B, T = problem.pk.shape
    threat, rows, nrounds, cols, gains = _patterns(problem, max_patterns)
    P = gains.size
    if P == 0:
        return _result(problem, np.zeros((B, T)), "exact", t0, optimal=True, bound=0.0, gap=0.0, n_patterns=0,
                       nodes=0, message="nothing to engage")
    scale = _OBJECTIVE_SCALE / problem.value.max()
    a_threat = sparse.csr_array((np.ones(P), (threat, np.arange(P))), shape=(T, P))
    a_mag = sparse.csr_array((nrounds.astype(float), (rows, cols)), shape=(B, P))
    cons = [LinearConstraint(a_threat, -np.inf, 1.0), LinearConstraint(a_mag, -np.inf, problem.rounds)]
    options = {"mip_rel_gap": 0.0, "presolve": False}
    if time_limit_s is not None:
        options["time_limit"] = float(time_limit_s)
    res = milp(-gains * scale, integrality=np.ones(P), bounds=Bounds(0, 1), constraints=cons, options=options)
    x = np.zeros((B, T), dtype=np.int64)
    if res.x is not None:
        chosen = np.round(res.x) > 0.5
        take = chosen[cols]
        np.add.at(x, (rows[take], threat[cols[take]]), nrounds[take])
    bound = None
    if getattr(res, "mip_dual_bound", None) is not None and np.isfinite(res.mip_dual_bound):
        bound = float(-res.mip_dual_bound / scale)
    optimal = bool(res.status == 0)
    out = _result(problem, x, "exact", t0, optimal=optimal, n_patterns=int(P),
                  nodes=getattr(res, "mip_node_count", None), message=str(res.message))
    if optimal:
        bound = out.value_saved if bound is None else max(bound, out.value_saved)
    gap = None if bound is None else (0.0 if optimal or bound <= 0 else max(0.0, 1.0 - out.value_saved / bound))
    return Assignment(**{**out.__dict__, "bound": bound, "gap": gap})


def solve_exact_or_greedy(problem: AssignmentProblem) -> Assignment:
    """:func:`solve_exact`, or :func:`solve_greedy` where the problem needs more patterns than
    the exact solver enumerates (``doctrine.assignment: exact`` in fire control)."""
    try:
        return solve_exact(problem)
    except ValueError:
        return solve_greedy(problem)


# --------------------------------------------------------------------------------------- greedy


def solve_greedy(problem: AssignmentProblem) -> Assignment:
    """Maximum marginal return: one round at a time to the pair that gains most (module docstring).

    Ties go to the lower threat index, then to the battery listed first among
    equal ``pk``.  Deterministic.
    """
    t0 = time.perf_counter()
    # __post_init__ stored these fields as arrays
    assert isinstance(problem.max_salvo, np.ndarray) and isinstance(problem.max_shooters, np.ndarray)
    B, T = problem.pk.shape
    cap = problem.cap
    b_idx, t_idx = np.nonzero(cap)
    pk_nz = problem.pk[b_idx, t_idx]
    order = np.lexsort((b_idx, -pk_nz, t_idx))  # by threat, then pk descending, then battery
    bat = b_idx[order].tolist()
    pks = pk_nz[order].tolist()
    start = np.searchsorted(t_idx[order], np.arange(T + 1)).tolist()
    ptr = start[:-1]
    end = start[1:]
    left = problem.rounds.tolist()
    salvo = problem.max_salvo
    value = problem.value.tolist()
    surv = [1.0] * T
    shooters = [0] * T
    max_shooters = problem.max_shooters.tolist()
    x = np.zeros((B, T), dtype=np.int64)

    def available(b: int, t: int) -> bool:
        n = x[b, t]
        return left[b] > 0 and n < salvo[b, t] and (n > 0 or shooters[t] < max_shooters[t])

    heap = [(-value[t] * pks[ptr[t]], t) for t in range(T) if ptr[t] < end[t]]
    heapq.heapify(heap)
    while heap:
        neg, t = heap[0]
        if neg >= 0.0:
            break
        i = ptr[t]
        b = bat[i]
        if not available(b, t):  # lost since pushed: move to the next battery still available
            i += 1
            while i < end[t] and not available(bat[i], t):
                i += 1
            ptr[t] = i
            if i < end[t]:
                heapq.heapreplace(heap, (-value[t] * surv[t] * pks[i], t))
            else:
                heapq.heappop(heap)
            continue
        if x[b, t] == 0:
            shooters[t] += 1
        x[b, t] += 1
        left[b] -= 1
        surv[t] *= 1.0 - pks[i]
        while i < end[t] and not available(bat[i], t):
            i += 1
        ptr[t] = i
        if i < end[t]:
            heapq.heapreplace(heap, (-value[t] * surv[t] * pks[i], t))
        else:
            heapq.heappop(heap)
    return _result(problem, x, "greedy", t0, message="maximum marginal return")


# ---------------------------------------------------------------------------------- brute force


def brute_force(problem: AssignmentProblem, *, max_plans: int = 2_000_000) -> Assignment:
    """The optimal plan by enumerating every feasible one (tiny problems; raises ValueError past ``max_plans``).

    Enumerates each battery's feasible rows (rounds per threat within salvo
    caps and magazine), then every combination of rows, and keeps the best
    plan that respects ``max_shooters``; ties go to the first enumerated.
    Independent of the pattern enumeration of :func:`solve_exact`.
    """
    t0 = time.perf_counter()
    # __post_init__ stored these fields as arrays
    assert isinstance(problem.feasible, np.ndarray) and isinstance(problem.max_shooters, np.ndarray)
    B, T = problem.pk.shape
    cap = np.where(problem.feasible, problem.max_salvo, 0)  # not problem.cap: keep it independent
    if B == 0:
        return _result(problem, np.zeros((0, T)), "brute-force", t0, optimal=True, message="no batteries")
    row_sets = []
    for b in range(B):
        g = np.indices(tuple(cap[b] + 1)).reshape(T, -1).T
        row_sets.append(g[g.sum(axis=1) <= problem.rounds[b]])
    n_plans = int(np.prod([len(r) for r in row_sets], dtype=float))
    if n_plans > max_plans:
        raise ValueError(f"brute force would enumerate {n_plans:,} plans (more than max_plans = {max_plans:,})")
    idx = np.indices(tuple(len(r) for r in row_sets)).reshape(B, -1).T  # (N, B)
    surv = np.ones((idx.shape[0], T))
    shooters = np.zeros((idx.shape[0], T), dtype=np.int64)
    for b, r in enumerate(row_sets):
        rows = r[idx[:, b]]  # (N, T)
        surv *= np.power(1.0 - problem.pk[b], rows)
        shooters += rows > 0
    v = (1.0 - surv) @ problem.value
    v[(shooters > problem.max_shooters).any(axis=1)] = -np.inf
    best = int(np.argmax(v))
    x = np.stack([row_sets[b][idx[best, b]] for b in range(B)])
    return _result(problem, x, "brute-force", t0, optimal=True, message=f"{n_plans:,} plans enumerated")


#: The weapon-target assignment solvers fire control calls by ``doctrine.assignment``'s name
#: (:meth:`shieldlab.c2.firecontrol.FireControl._assign`): a function of an
#: :class:`AssignmentProblem` returning an :class:`Assignment`.  A new solver is one entry
#: here, its name in :data:`shieldlab.c2.doctrine.ASSIGNMENTS` and a ``Literal`` value of the
#: scenario's ``doctrine.assignment``.
SOLVERS: dict[str, Callable[[AssignmentProblem], Assignment]] = {
    "greedy": solve_greedy,
    "exact": solve_exact_or_greedy,
}
