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

#: The air picture's table (``air_outcomes.parquet``): one row per run and flier.
AIR_OUTCOMES = {
    "run": "Monte Carlo run (0-based)",
    "flight": "the flier (a salvo's 'NAME#k')",
    "type": "its catalogue aircraft or cruise missile",
    "side": "its side",
    "start_s": "start, with its drawn error [s after the epoch]",
    "end_s": "end: its last waypoint, its failure or the kill [s after the epoch]",
    "failed": "came down on the way (not shot down)",
    "failure_country": "the Natural Earth country under where it came down (empty at sea, or where it did not)",
    "arrived": "a cruise missile that reached its last waypoint",
    "flight_time_s": "time in the air [s]",
    "ground_km": "distance flown over the ground [km]",
    "seen": "reported at least once",
    "first_detect_s": "the first report [s after the epoch]",
    "first_detect_by": "the radar of the first report",
    "firm_track_s": "when the first track went firm [s after the epoch]",
    "tracked_share": "share of its time in the air with a firm track (0 to 1)",
    "track_breaks": "firm tracks dropped after 60 s without a report",
    "entered": "its true path entered the policed airspace",
    "entry_s": "its first entry [s after the epoch]",
    "exit_s": "its last exit [s after the epoch] (none if inside at its end or killed inside)",
    "time_inside_s": "true time inside [s] (0 if it never entered)",
    "max_depth_km": "greatest distance from the border while inside [km]",
    "distance_inside_km": "distance flown inside [km]",
    "alt_inside_lo_m": "lowest height of the true path inside [m]",
    "alt_inside_hi_m": "highest height of the true path inside [m]",
    "declared_entry_s": "when the air-policing cell saw the track inside [s after the epoch]",
    "est_time_inside_s": "time inside from the track [s]",
    "est_time_inside_lo_s": "its 95 % interval's lower end, from the track's covariance [s]",
    "est_time_inside_hi_s": "its upper end [s]",
    "est_max_depth_km": "deepest point from the track [km]",
    "est_max_depth_lo_km": "its 95 % interval's lower end [km]",
    "est_max_depth_hi_km": "its upper end [km]",
    "warnings": "warnings called in all",
    "warnings_before_entry": "warnings called before the true entry",
    "scramble_s": "the scramble order [s after the epoch]",
    "in_range_s": "when the first fighter vectored would be in weapon range [s after the epoch]",
    "in_range_by": "which fighter",
    "closure_ms": "the closing speed then [m/s]",
    "fired": "a shot was fired at it",
    "fire_s": "the first shot's release [s after the epoch]",
    "shots": "weapons fired at it (shoot-look-shoot, up to max_shots)",
    "killed": "shot down",
    "hit_s": "the kill [s after the epoch]",
    "hit_depth_km": "the flier's signed distance from the border at the kill [km] (+ inside)",
    "no_shot": "why no shot was fired, where none was",
}

#: The shelling's table (``shelling_rounds.parquet``): one row per run, round and
#: weapon-locating radar.
SHELLING_ROUNDS = {
    "run": "Monte Carlo run (0-based)",
    "mission": "the fire mission",
    "round_name": "the round ('MISSION#k')",
    "round": "its catalogue round",
    "radar": "the weapon-locating radar this row is of",
    "fire_s": "when it was fired [s after the epoch]",
    "impact_s": "when it landed [s after the epoch]",
    "true_lat_deg": "the weapon's true place: geodetic latitude [deg]",
    "true_lon_deg": "its longitude [deg]",
    "true_alt_m": "its height above the WGS84 ellipsoid [m]",
    "true_country": "the Natural Earth country there ('sea' at sea)",
    "true_in_country": "whether it stood inside the defended country (land and territorial sea)",
    "true_border_km": "its distance from that country's border, either side [km]",
    "impact_lat_deg": "where the round landed: geodetic latitude [deg]",
    "impact_lon_deg": "its longitude [deg]",
    "impact_country": "the Natural Earth country there",
    "radar_range_km": "range from the radar to the weapon [km]",
    "detected": "the radar saw the round rise through its fence",
    "fence_s": "when the round crossed the fence [s after the epoch]",
    "fence_alt_m": "its height then [m]",
    "reports": "the radar's reports of the round",
    "located": "the radar located its origin (a fit of the backward flight)",
    "why": "why not, where it did not",
    "est_lat_deg": "the estimated origin: geodetic latitude [deg]",
    "est_lon_deg": "its longitude [deg]",
    "est_launch_s": "the estimated firing time [s after the epoch]",
    "est_elevation_deg": "the estimated elevation at firing [deg]",
    "est_drag_factor": "the fit's drag factor (1: the catalogue round's drag)",
    "fit_chi2_dof": "the fit's chi-square per degree of freedom",
    "error_m": "distance from the estimate to the true origin on the ground [m]",
    "error_east_m": "its east part [m]",
    "error_north_m": "its north part [m]",
    "error_pct_of_range": "the error as a share of the radar's range to the weapon [%]",
    "nees": "the error normalised by the estimate's covariance, e' P^-1 e (chi-square with 2 degrees of "
            "freedom if the covariance is right)",
    "sigma_east_m": "the estimate's 1-sigma east error [m]",
    "sigma_north_m": "its 1-sigma north error [m]",
    "corr_en": "the east-north correlation of its error",
    "ellipse_major_m": "the 95 % error ellipse's semi-major axis [m]",
    "ellipse_minor_m": "its semi-minor axis [m]",
    "ellipse_azimuth_deg": "its major axis's azimuth [deg from north]",
    "est_country": "the Natural Earth country at the estimate",
    "est_in_country": "whether the estimate lies inside the defended country",
    "side_correct": "whether the estimate is on the weapon's true side of the border",
    "ellipse_side": "where the 95 % ellipse lies: inside, outside or across the border",
    "p_true_side": "the share of the estimate's error distribution (its covariance about it) on the weapon's "
                   "true side of the border (0 to 1)",
}

#: Each result table's columns (:data:`shieldlab.engine.montecarlo.TABLES`) and what they hold.
TABLES: Mapping[str, Mapping[str, str]] = {"outcomes": OUTCOMES, "events": EVENTS, "track_quality": TRACK_QUALITY,
                                           "tracks": TRACKS}
#: The air picture's and the shelling's tables beside them in a results folder.
OTHER_TABLES: Mapping[str, Mapping[str, str]] = {"air_outcomes": AIR_OUTCOMES, "shelling_rounds": SHELLING_ROUNDS}


def described(table, descriptions: Mapping[str, str]):
    """``table`` (a ``pyarrow.Table``) with each field that ``descriptions`` names carrying its
    meaning and unit in the field's metadata (``description``, as :mod:`shieldlab.io.history`
    gives them)."""
    import pyarrow as pa

    fields = [f.with_metadata({**(f.metadata or {}), b"description": descriptions[f.name].encode()})
              if f.name in descriptions else f for f in table.schema]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))
