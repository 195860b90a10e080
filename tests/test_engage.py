"""Interceptor kinematics and the engagement planner on constructed cases."""

import numpy as np
import pytest

from shieldlab.engage.interceptor import time_of_flight


def test_time_of_flight_closed_form():
    v, tb = 3000.0, 20.0  # burnout distance v tb / 2 = 30 km
    assert time_of_flight(30e3, v, tb) == pytest.approx(20.0)
    assert time_of_flight(7.5e3, v, tb) == pytest.approx(10.0)  # s = v t^2 / (2 tb)
    assert time_of_flight(330e3, v, tb) == pytest.approx(120.0)  # 20 s + 300 km / 3 km/s
    d = np.linspace(0, 1e6, 101)
    t = time_of_flight(d, v, tb)
    assert np.all(np.diff(t) > 0), "farther takes longer"
    # continuous at burnout, and the inverse of distance(t)
    tt = np.linspace(0.1, 300, 50)
    dist = np.where(tt <= tb, v * tt**2 / (2 * tb), v * tb / 2 + v * (tt - tb))
    np.testing.assert_allclose(time_of_flight(dist, v, tb), tt, rtol=1e-12)


def test_zero_speed_never_arrives():
    assert np.isinf(time_of_flight(1e3, 0.0, 10.0))
