"""Kinematic analyses that need no full simulation (reach of an interceptor against a
trajectory, ...): they reuse the flyout, engagement and catalogue code."""
