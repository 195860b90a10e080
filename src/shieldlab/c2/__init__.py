"""Command and control: what a C2 node does with tracks, reports and interceptors.

``firecontrol`` — fire control on tracks (threat evaluation, windows, shoot–look–shoot, holds).
``threat_eval`` — impact prediction, boost test and corridor on a track (its row loops compiled in
``evaluation_kernel``).
``doctrine`` — the scenario's fire doctrine, compiled (SI).
``assignment`` — weapon–target assignment: which battery fires how many rounds at which threat.
``network`` — what each node sees and hears under each architecture (pictures, status, launch reports).
``links`` — a data link's send schedule, latency, capacity and losses.
``picture`` and ``fusion`` — a node's picture: its tracks and received ones fused (covariance intersection).
``track_numbers`` — network track numbers for tracks of reports without labels.
``alerts`` — which unlabelled tracks an early-warning launch report is about.
``trackview`` and ``records`` — fire control's read-only view of the tracks and its records.
"""
