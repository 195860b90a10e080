"""What each column of the kill chain's result tables holds, with its unit: written into the
Parquet files of a results folder (each Arrow field's ``description``), given by
``Results.to_arrow``, the sweeps' chunks and ``shieldlab tracks --out``; the user guide
describes the same columns at more length (a test holds that it names every one).  Every time
is in seconds after the scenario's epoch."""

from __future__ import annotations

from collections.abc import Mapping

OUTCOMES = {
    "run": "Monte Carlo run (0-based)",
    "threat": "the threat's name (a salvo's 'NAME#k')",
    "missile": "its catalogue missile",
    "launch_time_s": "launch [s after the epoch]",
    "outcome": "intercepted, leaked (landed) or airborne (in flight at the end)",
    "intercepted_by": "the battery whose round destroyed it (null where none did)",
    "intercept_time_s": "when it was destroyed [s after the epoch]",
    "intercept_lat_deg": "where the threat truly was when it was destroyed: geodetic latitude [deg]",
    "intercept_lon_deg": "its longitude [deg]",
    "intercept_alt_km": "its height above the WGS84 ellipsoid [km]",
    "engagements": "salvos fired at it",
    "interceptors_fired": "interceptors fired at it (at its spent booster too)",
    "interceptors_at_booster": "of them, those fired at its spent booster",
    "impact_time_s": "when it landed [s after the epoch]",
    "impact_lat_deg": "where it landed: geodetic latitude [deg]",
    "impact_lon_deg": "its longitude [deg]",
    "asset_hit": "the defended asset it landed on (null where none)",
    "aim_miss_km": "distance from its aim point at which its warhead would land unopposed [km]",
    "first_detection_s": "its first detection by any sensor [s after the epoch]",
    "track_confirmed_s": "the first confirmed track of it that fire control read [s after the epoch]",
}

EVENTS = {
    "run": "Monte Carlo run (0-based)",
    "t_s": "when [s after the epoch]",
    "threat": "the threat (or flier, or fire mission) the event is of",
    "kind": "launch, burnout, launch-report, detect, track, hold, fire, intercept, miss, no-fire, impact "
            "(and the air picture's and the shelling's kinds)",
    "actor": "who: the sensor, battery, C2 node, satellite, link or missile",
    "detail": "the event in words",
    "closing_speed_kms": "fire, intercept, miss: the planned end game's closing speed [km/s]",
    "crossing_angle_deg": "fire, intercept, miss: the planned end game's crossing angle [deg]",
    "pk": "fire, intercept, miss: one interceptor's kill probability at the planned end game",
    "pip_sigma_m": "fire: 1-sigma position uncertainty of the predicted intercept point when the salvo was "
                   "committed [m]",
    "reason": "hold, no-fire: fire control's reason code (empty on the other rows)",
    "rounds": "fire: the interceptors of the salvo (0 on the other rows)",
    "track": "under tracking.association gnn: the number of the track a salvo was planned on, or a hold or "
             "no-fire row is of (-1 where none)",
    "picture": "under gnn: that track's file, a C2 node's picture or 'radar NAME' (empty where none)",
}

TRACK_QUALITY = {
    "run": "Monte Carlo run (0-based)",
    "system": "the picture scored: a C2 node's name, or 'radar NAME' (a battery's own radar's file)",
    "gospa_m": "GOSPA distance between the objects in the air and the confirmed tracks, mean over a 4 s clock "
               "(c = 5 km, p = 2) [m]",
    "localisation_m": "RMS position error of the tracks GOSPA paired with an object [m]",
    "missed_targets": "objects without a track, mean per instant",
    "false_tracks": "tracks without an object (false or surplus), mean per instant",
    "position_rmse_m": "each threat's own track against the truth, on the 4 s clock [m]",
    "velocity_rmse_ms": "the same for the velocity [m/s]",
    "mean_nees": "mean normalised estimation error squared over the 6 state numbers (6 if consistent)",
    "nees_over_99": "share of those updates above chi-square's 99 % point, 16.81 (0.01 if consistent)",
    "nees_updates": "updates the NEES was scored over",
    "threats_tracked": "threats of the run that got a confirmed track",
    "median_time_to_firm_track_s": "median time from launch to the first confirmed track [s]",
    "instants": "evaluation instants counted (labels only)",
    "track_breaks": "gnn only: the track file's breaks",
    "false_tracks_per_hour": "gnn only: tracks on false alarms, per hour of the run",
    "booster_tracks": "gnn only: tracks on spent boosters",
    "purity": "gnn only: of the reports the threat-labelled tracks took, the share their own threat made",
    "own_booster_share": "gnn only: the share its spent booster made",
}

#: The multi-target tracker's track table (``tracks.parquet``, ``shieldlab tracks --out``): one row per
#: confirmed track.
TRACKS = {
    "run": "Monte Carlo run (0-based)",
    "picture": "the track file: a C2 node's picture, or 'radar NAME' (a battery's own radar)",
    "track": "track number within its run and picture",
    "object": "the object behind most of its reports (a threat, 'booster of THREAT' or 'false alarm'; "
              "on a tie, the first in that order: a false alarm, the threats, their boosters)",
    "started_s": "first update [s after the epoch]",
    "confirmed_s": "confirmation [s after the epoch] (the files hold confirmed tracks only)",
    "last_report_s": "last update with a report [s after the epoch]",
    "ended_s": "last update the track held its slot [s after the epoch]",
    "reports": "reports it took",
    "purity": "share of its reports its object made (0 to 1)",
    "sensors": "the radars whose reports it took, comma-separated",
    "judged_warhead": "whether the radars' discrimination calls judged it a warhead when it ended (the call may "
                      "change over its life; fire control reads it at each decision)",
    "position_rmse_m": "position RMSE against its object over its confirmed updates with a report [m]",
    "mean_nees": "mean NEES (6 degrees of freedom, unitless; 6 for an honest covariance) over the same updates "
                 "while it was judged a warhead (where the covariance is kept)",
}

#: Each result table's columns (:data:`shieldlab.engine.montecarlo.TABLES`) and what they hold.
TABLES: Mapping[str, Mapping[str, str]] = {"outcomes": OUTCOMES, "events": EVENTS, "track_quality": TRACK_QUALITY,
                                           "tracks": TRACKS}


def described(table, descriptions: Mapping[str, str]):
    """``table`` (a ``pyarrow.Table``) with each field that ``descriptions`` names carrying its
    meaning and unit in the field's metadata (``description``, as :mod:`shieldlab.io.history`
    gives them)."""
    import pyarrow as pa

    fields = [f.with_metadata({**(f.metadata or {}), b"description": descriptions[f.name].encode()})
              if f.name in descriptions else f for f in table.schema]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))
