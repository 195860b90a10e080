"""Command and control: what a C2 node does with tracks and interceptors.

``assignment`` — weapon–target assignment: which battery fires how many rounds at which threat.
``fusion`` — track-to-track fusion at a node: correlation, covariance intersection, lineage.

Both are libraries over arrays; fire control (``shieldlab.engage.planner``) does not use
them yet.
"""
