"""The epaa-phase-1 preset with other early-warning satellites, for the satellite tests
(tests/test_infrared.py and tests/test_heo.py)."""

import yaml

from shieldlab.engine.chain import fly_threats
from shieldlab.scenario import compile_world, locate
from shieldlab.scenario.loader import parse


def phase1(early_warning=None):
    """The preset's world, its ``early_warning`` entries replaced where given."""
    data = yaml.safe_load(locate("epaa-phase-1")[0].read_text())
    if early_warning is not None:
        data["early_warning"] = early_warning
    return compile_world(parse(data, "epaa-phase-1"))


def phase1_flights():
    """The preset's world and its six MRBMs' nominal flights (launched 0-45 s after the epoch)."""
    w = phase1()
    return w, fly_threats(w).truth
