"""The calibration check of the base (issue 16, optimizer/calibration.py) on synthetic figures: the
verdicts and the known-deviation rules can fail. The check against the solved base is in
tests/test_base_dataset.py."""

from __future__ import annotations

import pytest


def test_calibration_verdicts_can_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """The calibration check is not a rubber stamp: a figure outside its anchor is a problem unless it
    is a listed deviation, and a listed deviation that fits again is a problem too (synthetic figures)."""
    from optimizer import calibration as cal

    a = cal.Anchor(10.0, 20.0, "test")
    inside = cal.Figure("x", "x", 15.0, "u", a)
    outside = cal.Figure("y", "y", 25.0, "u", a)
    for f in (inside, outside):
        cal._judge(f)
    assert (inside.verdict, outside.verdict) == ("inside", "above")
    monkeypatch.setattr(cal, "KNOWN_DEVIATIONS", {})
    assert cal.problems([inside, outside]) == ["y: 25 u outside [10.0, 20.0]"]
    monkeypatch.setattr(cal, "KNOWN_DEVIATIONS", {"y": "a reason", "x": "stale"})
    cal._judge(outside)
    assert outside.verdict == "above (known deviation)"
    assert cal.problems([inside, outside]) == [
        "x: listed as a known deviation but inside its anchor now"
    ]
    one_sided = cal.Figure("z", "z", 1e9, "u", cal.Anchor(0.0, None, "test"))
    assert one_sided.inside is True
