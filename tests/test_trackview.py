"""Fire control's view of the tracks: a destroyed target's reports end, and its track is
dropped when the looks that would have found it had all come back silent."""
import numpy as np

from shieldlab.c2.trackview import TrackView
from shieldlab.tracking.mtt import silent_looks_to_delete
from shieldlab.tracking.records import Tracks


def _tracks(hits_per_update: np.ndarray, t: np.ndarray) -> Tracks:
    """One run, one target, updates at ``t``; ``hits_per_update`` (K,) reports each brought."""
    K = t.size
    x = np.tile(np.array([6.4e6, 0.0, 5e5, 0.0, 0.0, 0.0]), (1, 1, K, 1))
    P = np.tile(np.eye(6), (1, 1, K, 1, 1))
    n_hits = np.cumsum(hits_per_update).astype(np.int32)[None, None]
    return Tracks(system="s", t=t, x=x, P=P, n_hits=n_hits, confirmed=n_hits >= 3,
                  confirm_time=np.zeros((1, 1)), q=np.full((1, 1, K), 1e-2, np.float32))


def test_a_destroyed_targets_track_is_dropped_at_its_mth_would_be_report():
    t = np.arange(0.0, 100.0)
    tr = _tracks(np.ones(t.size, int), t)  # a report every second, the full flight long
    view = TrackView({"s": tr}, (1, 1))
    one, zero = np.array([0]), np.array([0])
    view.end(one, zero, np.array([50.5]))
    m = int(silent_looks_to_delete(51))  # 51 reports up to t = 50
    assert m == 5
    # read at its last report (t = 50) while the silent looks add up ...
    assert view.index("s", one, zero, 50.0 + m - 1).tolist() == [50]
    assert view.hits("s", one, zero, 50.0 + m - 1).tolist() == [51]
    # ... and gone at the look that would have brought the m-th report (t = 55)
    assert view.index("s", one, zero, 50.0 + m).tolist() == [-1]
    assert view.hits("s", one, zero, 99.0).tolist() == [0]
    # before the end nothing changes
    assert view.index("s", one, zero, 20.0).tolist() == [20]


def test_a_track_whose_target_leaves_every_view_coasts_on():
    t = np.arange(0.0, 100.0)
    seen = (t <= 52).astype(int)  # the full flight's reports stop at t = 52: out of view
    view = TrackView({"s": _tracks(seen, t)}, (1, 1))
    one, zero = np.array([0]), np.array([0])
    view.end(one, zero, np.array([50.5]))
    assert view.index("s", one, zero, 99.0).tolist() == [50]


def test_without_a_deletion_rule_the_track_is_frozen_to_the_end():
    t = np.arange(0.0, 100.0)
    view = TrackView({"s": _tracks(np.ones(t.size, int), t)}, (1, 1), delete_probability=None)
    one, zero = np.array([0]), np.array([0])
    view.end(one, zero, np.array([50.5]))
    assert view.index("s", one, zero, 99.0).tolist() == [50]


def test_a_stricter_rule_and_a_sparser_radar_keep_the_track_longer():
    t = np.arange(0.0, 100.0)
    every_other = (np.arange(t.size) % 2 == 0).astype(int)  # a report at each even second
    one, zero = np.array([0]), np.array([0])
    gone_at = {}
    for p in (1e-3, 1e-6):
        view = TrackView({"s": _tracks(every_other, t)}, (1, 1), delete_probability=p)
        view.end(one, zero, np.array([40.5]))
        k = [view.index("s", one, zero, s)[0] for s in t]
        gone_at[p] = t[np.flatnonzero(np.array(k) < 0)[0]]
    m = int(silent_looks_to_delete(21))  # reports at 0, 2, ..., 40
    assert gone_at[1e-3] == 40.0 + 2 * m  # the would-be reports come every 2 s
    assert gone_at[1e-6] > gone_at[1e-3]
