"""The compiled kernels' cache is emptied where the code that compiled it changed
(shieldlab.kernel_cache): Numba checks only the file that defines a kernel, so a tracker
kernel that inlines sensors/visibility.py kept its old machine code when only that changed."""

from shieldlab import kernel_cache as K


def test_every_file_with_cached_kernels_counts_in_the_digest():
    mods = K.kernel_modules()
    # the tracker kernels and the field-of-regard test they inline, the Earth they all call
    for name in ("shieldlab.tracking.mtt_kernel", "shieldlab.sensors.visibility", "shieldlab.earth_kernel",
                 "shieldlab.flyout.kernel"):
        assert name in mods
    assert "shieldlab.cli" not in mods and len(K.digest()) == 64


def test_a_changed_digest_empties_the_cache_once(tmp_path, monkeypatch):
    flushed = []
    monkeypatch.setattr(K, "_stamp_path", lambda: tmp_path / "cache" / K.STAMP)
    monkeypatch.setattr(K, "flush", lambda: flushed.append(1) or 0)
    monkeypatch.setattr(K, "digest", lambda: "a" * 64)
    assert K.check() is True and flushed == [1]  # no stamp yet: emptied, stamped
    assert (tmp_path / "cache" / K.STAMP).read_text().strip() == "a" * 64
    assert K.check() is False and flushed == [1]  # the same code: left alone
    monkeypatch.setattr(K, "digest", lambda: "b" * 64)  # a kernel's file changed
    assert K.check() is True and flushed == [1, 1]
    assert K.check() is False
