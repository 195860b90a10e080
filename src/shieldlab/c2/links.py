"""Data links between C2 nodes: what the target node knows of the source node's tracks, and when.

A link sends a message at every whole multiple of its ``period`` from the epoch
(t = 0); the message arrives ``latency`` seconds later.  A track message holds,
for each threat whose source track is confirmed at the send time, the source's
latest state (valid at the source's last update at or before the send time),
its covariance and its detection count.  Each (run, threat, message) is lost
independently with probability ``loss``; a message holds at most
``floor(capacity · period)`` tracks per run, chosen round robin (least recently
sent first, never-sent ones first by threat index).  The sender gets no
acknowledgements, so it ranks tracks by when it last *sent* them, not by when
they last arrived.

The target node holds the last state it received for each threat and
extrapolates it ballistically to each arrival time, with the process noise the
source's filter held (``Tracks.q``, sent with the state;
:func:`shieldlab.tracking.tracker.coast`), so that the received picture is a
:class:`~shieldlab.tracking.records.Tracks` whose state at ``t[k]`` is valid at
``t[k]`` — what fire control assumes of a track — and whose covariance grows
while the threat is not refreshed, as fast as the source's own would have.

A track the source has ended (deleted, or ended where the threat came down) is
dropped at the target too, as a data link's drop-track message does: each message
after the source's track ended, while the target may still hold it (it was sent
since it was last dropped), carries a drop; the first that gets through (lost
with the same draw as that message's report of the threat would be) ends the
held state at its arrival.  Without it a received track outlived its source by
minutes, extrapolated from its last report (a boost-phase state flown on
ballistically to the ground) for the target's fire control to engage.

All times in seconds from the scenario epoch; states WGS84 ECEF [m, m/s].
Randomness: one :class:`numpy.random.Generator` per Monte Carlo run; a lossless
link draws nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from shieldlab.tracking.records import Tracks, compact_history
from shieldlab.tracking.tracker import came_down, coast

#: Two times closer than this [s] are the same instant (send times m·period against update grids).
TIME_TOL_S = 1e-9


@dataclass(frozen=True)
class Link:
    """A one-way data link from node ``source`` to node ``target``.

    Attributes
    ----------
    source, target : str
        Node names.
    latency : float
        Delay from sending to arrival [s], ≥ 0.
    period : float
        Message interval [s], > 0; messages leave at m · period, m = 0, 1, ….
    capacity : float
        Track reports per second the link carries (``math.inf``: unlimited), ≥ 0.
    loss : float
        Probability in [0, 1) that one track report (or one status message) is lost.
    launch_reports : bool
        Whether the link also passes the source's early-warning launch reports on
        (:func:`shieldlab.c2.network.warning_times`).
    tracks : bool
        Whether the link carries the source's tracks and engagement status (false: launch
        reports only).
    """

    source: str
    target: str
    latency: float
    period: float
    capacity: float = math.inf
    loss: float = 0.0
    launch_reports: bool = True
    tracks: bool = True

    def __post_init__(self):
        if not (math.isfinite(self.latency) and self.latency >= 0.0):
            raise ValueError(f"Link {self.name}: latency must be finite and >= 0 s; got {self.latency}")
        if not (math.isfinite(self.period) and self.period > 0.0):
            raise ValueError(f"Link {self.name}: period must be finite and > 0 s; got {self.period}")
        if not (self.capacity >= 0.0):  # also rejects nan
            raise ValueError(f"Link {self.name}: capacity must be >= 0 tracks/s (inf: unlimited); got {self.capacity}")
        if not (0.0 <= self.loss < 1.0):
            raise ValueError(f"Link {self.name}: loss must be a probability in [0, 1); got {self.loss}")

    @property
    def name(self) -> str:
        return f"{self.source}->{self.target}"

    def message_capacity(self, m: int) -> int | None:
        """Most tracks message ``m`` carries per run; ``None`` when unlimited.  The link
        carries ``capacity`` tracks a second over time: message ``m`` the whole tracks the
        capacity adds up to by its end less those of the messages before, so a capacity
        under one track a message sends one every few messages (it was raised to one a
        message: 1e-6 tracks/s carried a track every 4 s) and 2.5 a message sends 2 and 3 in
        turn.  The 1e-9 keeps products like 20 × 0.1 = 1.9999… from losing a track to rounding."""
        if math.isinf(self.capacity):
            return None
        r = self.capacity * self.period
        return math.floor((m + 1) * r + 1e-9) - math.floor(m * r + 1e-9)


@dataclass(frozen=True)
class Reception:
    """The target node's picture of the source's tracks, with the bookkeeping of the link.

    Attributes
    ----------
    tracks : Tracks
        System ``"source->target"``; time grid ``t (K,)`` = the arrival times;
        ``x``/``P`` at ``t[k]`` are the last received state extrapolated to ``t[k]``.
    send_time : (K,) float64
        Send time of each message [s]; ``t = send_time + latency``.
    state_time : (C, N, K) float64
        Time [s] at which the held state was the source's estimate (its update
        time); ``nan`` before the first receipt.
    sent : (C, N, K) bool
        A report on the threat went out in message k.
    delivered : (C, N, K) bool
        ... and arrived.
    """

    tracks: Tracks
    send_time: np.ndarray
    state_time: np.ndarray
    sent: np.ndarray
    delivered: np.ndarray

    @property
    def age(self) -> np.ndarray:
        """(C, N, K) [s]: how old the held state is at each arrival time; ``nan`` before the first receipt."""
        return self.tracks.t - self.state_time


def message_count(t_end: float, period: float) -> int:
    """Number of messages sent at 0, period, 2·period, … up to ``t_end`` [s] inclusive."""
    if not np.isfinite(t_end) or t_end < -TIME_TOL_S:
        return 0
    return int(math.floor((t_end + TIME_TOL_S) / period)) + 1


def _loss_draws(rngs, loss: float, C: int, N: int, M: int) -> np.ndarray:
    """(C, N, M) bool: which reports are lost; one (N, M) block per run from that run's generator."""
    lost = np.zeros((C, N, M), bool)
    if loss == 0.0:
        return lost
    if rngs is None or len(rngs) != C:
        raise ValueError(f"receive: need one generator per run ({C}); got {None if rngs is None else len(rngs)}")
    for c in range(C):
        # drawn whatever is sent, so a run's losses depend only on its own generator
        lost[c] = rngs[c].random((N, M)) < loss
    return lost


def _round_robin(eligible: np.ndarray, last_sent: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """The at most ``cap`` eligible threats per run sent least recently, and their place in the message.

    ``last_sent (C, N)`` orders the threats by their last report: message index · N +
    place in that message, −1 if never sent.  Ordering within a message as well as
    by message makes this a true round robin (a threat waits for all the other
    eligible ones before its turn comes again); never-sent threats go first, lower index first.
    Returns ``(sent (C, N) bool, place (C, N) int)``.
    """
    key = np.where(eligible, last_sent, np.iinfo(np.int64).max)
    order = np.argsort(key, axis=1, kind="stable")  # stable: ties (never sent) keep the lower threat index first
    place = np.empty_like(order)
    np.put_along_axis(place, order, np.broadcast_to(np.arange(eligible.shape[1]), order.shape), axis=1)
    return eligible & (place < cap), place


def receive(tracks: Tracks, link: Link, rngs: list[np.random.Generator] | None = None) -> Reception:
    """The source node's tracks as the target node holds them, with the link's bookkeeping.

    Parameters
    ----------
    tracks : Tracks
        The source node's tracks, ``x (C, N, K_s, 6)`` etc.
    link : Link
        The link; messages are sent at ``m · period`` for ``m · period ≤ tracks.t[-1]``.
    rngs : list of C numpy.random.Generator
        One per run; each draws one (N, M) block of uniforms when ``link.loss > 0``
        (nothing otherwise, and ``rngs`` may then be ``None``).

    Returns
    -------
    Reception
        See the class.  The state received in message m is predicted from its
        source update time to the arrival time; a held state is predicted on
        from one arrival time to the next (with the noise level the source's
        filter held, which the received picture carries on) until it is predicted more than
        :data:`~shieldlab.tracking.tracker.IMPACTED_DEPTH_M` into the ground,
        where it is dropped (``nan``) as the tracker ends its tracks, or until a drop
        message (module docstring) arrives after the source's track ended.  ``n_hits`` is the count carried by the
        last received report (0 before), ``confirmed`` is true from the first
        receipt, ``confirm_time`` is its arrival time (``inf`` if none).
    """
    x_src, P_src, hits_src, conf_src, q_src = tracks.x, tracks.P, tracks.n_hits, tracks.confirmed, tracks.q
    if x_src.ndim != 4 or x_src.shape[-1] != 6:
        raise ValueError(f"receive: tracks.x must have shape (C, N, K, 6); got {x_src.shape}")
    C, N, K_s = x_src.shape[:3]
    t_src = np.asarray(tracks.t, float)
    M = message_count(float(t_src[-1]) if t_src.size else -np.inf, link.period)
    send = link.period * np.arange(M)
    arrive = send + link.latency
    lost = _loss_draws(rngs, link.loss, C, N, M)
    k_src = np.searchsorted(t_src, send + TIME_TOL_S, side="right") - 1  # source update each message carries

    # time-major while filling (contiguous writes), batch-major views on return, as the tracker does
    x_out = np.full((M, C, N, 6), np.nan)
    P_out = np.full((M, C, N, 6, 6), np.nan)
    hits_out = np.zeros((M, C, N), np.int32)
    q_out = np.full((M, C, N), np.nan, np.float32)
    time_out = np.full((M, C, N), np.nan)
    sent_out = np.zeros((M, C, N), bool)
    got_out = np.zeros((M, C, N), bool)

    held_x = np.full((C, N, 6), np.nan)
    held_P = np.full((C, N, 6, 6), np.nan)
    held_hits = np.zeros((C, N), np.int32)
    held_q = np.full((C, N), np.nan, np.float32)
    held_time = np.full((C, N), np.nan)
    has = np.zeros((C, N), bool)
    last_sent = np.full((C, N), -1, np.int64)  # message index · N + place in the message (round robin)
    live = np.zeros((C, N), bool)  # sent since the source last dropped it: the target may hold it
    for m in range(M):
        k = k_src[m]
        got = np.zeros((C, N), bool)
        if k >= 0:
            xs, Ps = x_src[:, :, k], P_src[:, :, k]
            ok = conf_src[:, :, k] & np.isfinite(xs).all(axis=-1) & np.isfinite(Ps).all(axis=(-2, -1))
            # the source's track has ended: a drop goes out (small, as a status message: no capacity)
            drop = live & ~np.isfinite(xs).all(axis=-1)
            dropped = drop & ~lost[:, :, m]
            if dropped.any():
                held_x[dropped], held_P[dropped], held_q[dropped], has[dropped] = np.nan, np.nan, np.nan, False
                live &= ~dropped
            cap = link.message_capacity(m)
            if cap is not None:
                ok, place = _round_robin(ok, last_sent, cap)
                last_sent[ok] = m * N + place[ok]
            live |= ok
            got = ok & ~lost[:, :, m]
            sent_out[m], got_out[m] = ok, got
        # held states not refreshed now move on from the previous arrival time
        old = np.nonzero(has & ~got)
        if old[0].size:
            held_x[old], held_P[old] = coast(held_x[old], held_P[old], held_q[old], link.period)
            # a held state predicted into the ground has come down: dropped, as the tracker ends its track
            down = came_down(held_x)
            if down.any():
                held_x[down], held_P[down], held_q[down], has[down] = np.nan, np.nan, np.nan, False
        if got.any():
            new = np.nonzero(got)
            held_q[new] = q_src[:, :, k][new]
            held_x[new], held_P[new] = coast(xs[new], Ps[new], held_q[new], arrive[m] - t_src[k])
            held_hits[new] = hits_src[:, :, k][new]
            held_time[new] = t_src[k]
            has |= got
        x_out[m], P_out[m], hits_out[m], time_out[m], q_out[m] = held_x, held_P, held_hits, held_time, held_q

    delivered = np.moveaxis(got_out, 0, -1)
    first = np.argmax(delivered, axis=-1) if M else np.zeros((C, N), int)
    confirm_time = np.where(delivered.any(axis=-1), arrive[first] if M else np.inf, np.inf)
    received = Tracks(
        system=link.name,
        t=arrive,
        x=np.moveaxis(x_out, 0, -2),
        P=compact_history(P_out),
        n_hits=np.moveaxis(hits_out, 0, -1),
        confirmed=np.logical_or.accumulate(delivered, axis=-1),
        confirm_time=confirm_time,
        q=np.moveaxis(q_out, 0, -1),
    )
    return Reception(tracks=received, send_time=send, state_time=np.moveaxis(time_out, 0, -1),
                     sent=np.moveaxis(sent_out, 0, -1), delivered=delivered)


def transmit(tracks: Tracks, link: Link, rngs: list[np.random.Generator] | None = None) -> Tracks:
    """The source node's tracks as the target node holds them (:func:`receive` without the bookkeeping)."""
    return receive(tracks, link, rngs).tracks


def arrival_time(t_event, link: Link, rng: np.random.Generator | None = None, horizon: float = math.inf) -> np.ndarray:
    """When the target learns of an event at the source (e.g. "battery B engaged threat T").

    The status message goes out at the first send time ≥ ``t_event`` and is
    resent at each later send time while lost (each try lost with probability
    ``link.loss``, independently; the number of tries is geometric).  Capacity
    does not apply: status messages are small.

    Parameters
    ----------
    t_event : array (...) [s]
        Event times; ``inf`` (no event) gives ``inf``, ``nan`` gives ``nan``.
    link : Link
    rng : numpy.random.Generator
        Draws one geometric variate per event when ``link.loss > 0`` (may be ``None`` otherwise).
    horizon : float [s]
        Arrivals after it are ``inf`` (never known within the simulated time).

    Returns
    -------
    (...) float64
        Arrival time [s]: (first send index + failed tries) · period + latency.
    """
    t = np.asarray(t_event, dtype=float)
    m0 = np.ceil((t - TIME_TOL_S) / link.period)  # an event at a send time makes that message
    if link.loss > 0.0:
        if rng is None:
            raise ValueError("arrival_time: a lossy link needs a generator (first_try_arrival: none lost)")
        m0 = m0 + (rng.geometric(1.0 - link.loss, size=t.shape) - 1)
    with np.errstate(invalid="ignore"):
        arrive = m0 * link.period + link.latency
        arrive = np.where(arrive > horizon, np.inf, arrive)
    return np.where(np.isnan(t), np.nan, arrive)


def first_try_arrival(t_event, link: Link) -> np.ndarray:
    """When the target learns of an event at the source if the first message gets through
    (:func:`arrival_time` with no try lost, whatever ``link.loss``): the first send time
    at or after ``t_event`` plus the latency [s] (``inf`` gives ``inf``, ``nan`` ``nan``).
    What the expected analyses (``reach``, ``footprint``), which draw nothing, take."""
    return arrival_time(t_event, replace(link, loss=0.0))
