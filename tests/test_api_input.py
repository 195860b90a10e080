"""The Python API's answers to bad input: an InputError naming the argument, never another
exception, and a type's completion listing what the API offers."""

import numpy as np
import pytest

import shieldlab


def _refused(field, call, *args, **kwargs):
    with pytest.raises(shieldlab.InputError) as e:
        call(*args, **kwargs)
    assert e.value.field == field, (e.value.field, str(e.value))
    return str(e.value)


def test_a_scenario_that_is_no_file_is_named_as_the_argument():
    """load_world("nope") and a folder named no field (None)."""
    assert "no such file or preset" in _refused("scenario", shieldlab.load_world, "nope")
    assert "is a folder" in _refused("scenario", shieldlab.load_world, "/")


def test_a_client_that_is_not_one_is_refused_before_anything_runs():
    """client="x" was an AttributeError ('str' object has no attribute 'scatter')."""
    w = shieldlab.load_world("patriot-turkey-2013")
    assert "a distributed.Client" in _refused("client", shieldlab.simulate, w, runs=1, seed=1, client="x")


def test_text_is_not_a_number_of_degrees_or_metres():
    """('35', '38') flew as 35, 38 and minimum_energy('1e6') as a million metres, where a
    scenario refuses the same text."""
    _refused("launch", shieldlab.fly, "scud-b", ("35", "38"), (37.4, 38.3))
    _refused("site", shieldlab.reach, "pac-3-mse", ("36.2", "27.6"), "scud-b", (35.0, 38.0), (37.4, 38.3))
    for bad in ("1e6", True, [1e6, "x"], None):
        _refused("range_m", shieldlab.flyout.minimum_energy, bad)
    _refused("burnout_alt_m", shieldlab.flyout.minimum_energy, 1e6, "100")
    shot = shieldlab.flyout.minimum_energy(np.array([1e6, 2e6]))
    assert shot.apogee.shape == (2,) and (np.diff(shot.apogee) > 0).all()
    assert "a batch of shape (2,)" in repr(shot)


def test_a_kepler_shot_shows_its_units():
    """A notebook showed KeplerShot(burnout_speed=np.float64(7198.07...), ...) with no unit."""
    one = shieldlab.flyout.minimum_energy(10_000e3)
    said = repr(one)
    assert "np.float64" not in said and f"burnout_speed={float(one.burnout_speed):.1f} m/s" in said
    assert f"({np.degrees(float(one.flight_path_angle)):.2f} deg)" in said and " s, apogee=" in said
    assert said.endswith(f"apogee={float(one.apogee):.0f} m)")
    speed, gamma, tof, apogee = one  # still the named tuple it was
    assert speed == one.burnout_speed and apogee == one.apogee


def test_a_bad_field_of_the_sensors_scenario_is_named_under_the_argument():
    """reach(sensors={...}) without an epoch named the field 'epoch', as if reach had one."""
    msg = _refused("sensors.epoch", shieldlab.reach, "sm-3-block-ia", (36.2, 27.6), "sejjil-2", (38.08, 46.29),
                   (37.98, 23.73), sensors={"name": "x"})
    assert "scenario 'x'" in msg


def test_a_shape_given_to_a_minimum_energy_threat_is_refused_on_loading():
    """apogee_km on a min-energy threat loaded and validated (no note either) and was refused
    by the run alone."""
    scn = {"name": "shaped", "epoch": "2013-03-01T00:00:00Z", "sites": {"pad": {"lat": 35.13, "lon": 36.75}},
           "threats": [{"name": "s", "missile": "shahab-3", "launch": "pad", "aim": {"lat": 40.0, "lon": 30.0},
                        "apogee_km": 300}]}
    assert "not min-energy" in _refused("threats[0].apogee_km", shieldlab.load_world, scn)
    scn["threats"][0].update(profile="lofted", flight_time_s=600)
    with pytest.raises(shieldlab.InputError) as e:
        shieldlab.load_world(scn)
    assert [f for f, _ in e.value.problems] == ["threats[0].apogee_km", "threats[0].flight_time_s"]
    del scn["threats"][0]["flight_time_s"]
    assert shieldlab.load_world(scn).threats[0].name == "s"


def test_completion_offers_the_public_names():
    """dir(shieldlab) left out the names imported on first use (Results, World, Shot, catalog,
    ...) and listed helpers that are not the API."""
    names = dir(shieldlab)
    assert set(shieldlab.__all__) <= set(names)
    assert not {"checked_latlon", "errors", "kernel_cache"} & set(names)


def test_the_air_picture_and_the_shelling_give_their_tables_as_arrow():
    """Results had to_arrow and to_pandas; AirResult and ShellingResult had neither."""
    import pyarrow as pa

    shelling = shieldlab.simulate_shelling(shieldlab.load_world("akcakale-2012"), runs=2, seed=1)
    for name in ("rounds", "events"):
        t = shelling.to_arrow(name)
        cols = getattr(shelling, name)
        assert isinstance(t, pa.Table) and t.column_names == list(cols)
        assert t.num_rows == len(next(iter(cols.values())))
    assert "one of rounds, events" in _refused("name", shelling.to_arrow, "outcomes")
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="ShellingResult.to_pandas needs pandas"):
            shelling.to_pandas("rounds")
    assert isinstance(shieldlab.AirResult.to_arrow, type(shieldlab.ShellingResult.to_arrow))
    assert shieldlab.AirResult.TABLES == ("outcomes", "events")


def test_doctrine_fields_the_scenario_never_reads_get_a_note():
    """engage: all with a threat_probability, or a launch_report_alert with no satellite to
    report a launch, loaded without a word; validate and shieldlab.notes say so now."""
    scn = {"name": "doc", "epoch": "2013-03-01T00:00:00Z",
           "sites": {"pad": {"lat": 35.13, "lon": 36.75}, "bat": {"lat": 37.05, "lon": 37.35}},
           "sensors": [{"name": "r", "type": "an-mpq-65", "site": "bat", "boresight_az_deg": 190}],
           "batteries": [{"name": "b", "interceptor": "pac-3-mse", "site": "bat", "rounds": 4}],
           "assets": [{"name": "city", "site": {"lat": 37.07, "lon": 37.38}, "radius_km": 10}],
           "threats": [{"name": "s", "missile": "scud-b", "launch": "pad", "aim": "city"}]}
    assert shieldlab.notes(shieldlab.load_world(scn)) == []
    scn["doctrine"] = {"engage": "all", "threat_probability": 0.5, "launch_report_alert": False}
    notes = shieldlab.notes(shieldlab.load_world(scn))
    assert any("doctrine.threat_probability 0.5 is read under engage: threatening only" in n for n in notes), notes
    assert any("doctrine.launch_report_alert false has nothing to act on" in n for n in notes), notes
    scn["doctrine"] = {"engage": "threatening", "threat_probability": 0.5}
    assert shieldlab.notes(shieldlab.load_world(scn)) == []


def test_scenario_load_of_a_mapping_points_at_load_world():
    """scenario.load({'x': 1}) said "{'x': 1}: no such file or preset"."""
    from shieldlab.scenario import load

    assert "load_world takes a mapping" in _refused("scenario", load, {"x": 1})


@pytest.mark.parametrize("preset", shieldlab.presets())
def test_a_scenario_object_loads_as_its_preset_does(preset):
    """load_world of a preset's Scenario dumped every field, the defaults too, so the notes said
    tracking settings had been given that no file gave (patriot-turkey-2013: two notes against
    none by its name). The same fields, the same world and the same notes."""
    from shieldlab.scenario import load

    by_object, by_name = shieldlab.load_world(load(preset)), shieldlab.load_world(preset)
    assert shieldlab.notes(by_object) == shieldlab.notes(by_name)
    assert by_object.scenario.model_dump() == by_name.scenario.model_dump()
