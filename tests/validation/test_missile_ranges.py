"""Maximum ranges of the catalogue missiles against their published figures.

Each catalogue entry cites its published maximum range (``max_range_km`` with
``range_source``; e.g. Scud-B 300 km, CNS; Shahab-3 1,000 km and Ghadr-1
1,600 km, IISS 2010; Sejjil-2 2,200 km, IISS 2010; Minuteman III 9,660 km,
USAF fact sheet).  Flown by the full model (rotating WGS84 Earth, J2, US-1976
drag) with its nominal payload on the range-optimal pitch-over, due north from
35° N (so Earth rotation neither adds nor takes much), each must land within
10 % of that figure.  Eastward launches must fly farther than westward ones:
the Earth's rotation adds about ω R cos(lat) ≈ 380 m/s to an eastward launch.
"""

import numpy as np
import pytest

from shieldlab import catalog, earth
from shieldlab.flyout.aim import _Evaluator, _max_range_kick
from shieldlab.flyout.integrate import FULL
from shieldlab.flyout.vehicle import vehicle_from_missiles

IDS = sorted(catalog.missiles())


def max_range(ids, azimuth_deg, lat_deg=35.0, lon_deg=52.0):
    ms = [catalog.get_missile(i) for i in ids]
    n = len(ms)
    lat, lon = np.full(n, np.radians(lat_deg)), np.full(n, np.radians(lon_deg))
    ev = _Evaluator(vehicle_from_missiles(ms), earth.geodetic_to_ecef(lat, lon, 0.0), lat, lon, FULL, 1.0, 6000.0)
    return _max_range_kick(ev, np.full(n, np.radians(azimuth_deg)))[1]


@pytest.fixture(scope="module")
def ranges():
    return {az: dict(zip(IDS, max_range(IDS, az))) for az in (0.0, 90.0, 270.0)}


@pytest.mark.parametrize("mid", IDS)
def test_max_range_within_10_percent_of_published(ranges, mid):
    published = catalog.get_missile(mid).max_range_km * 1e3
    flown = ranges[0.0][mid]
    assert abs(flown / published - 1) < 0.10, f"{mid}: {flown / 1e3:.0f} km vs published {published / 1e3:.0f} km"


@pytest.mark.parametrize("mid", IDS)
def test_east_flies_farther_than_west(ranges, mid):
    assert ranges[90.0][mid] > ranges[0.0][mid] * 0.99 and ranges[90.0][mid] > ranges[270.0][mid]
