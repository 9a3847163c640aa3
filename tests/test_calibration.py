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


def test_scenario_table_flags_an_unexplained_share(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-scenario check of CALIBRATION.md can fail (synthetic comparison Summary): a scenario
    whose objective is 30/100 = 30 % unserved value needs its reason, a reason beside 5 % is stale;
    the difference columns (``a − b``) and the last column of metric labels are not runs, and
    ``vs_base`` is objective − base's (100 − 80)."""
    import pandas as pd

    from optimizer import calibration as cal

    summary = pd.DataFrame(
        {
            "metric": ["status", "objective_musd", "unserved_value_share"],
            "in__base": ["optimal", 80.0, 0.0],
            "in__short": ["optimal", 100.0, 0.30],
            "in__mild": ["optimal", 90.0, 0.05],
            "in__short − in__base": [None, 20.0, 0.30],
            "label": ["Solver status", "Net present cost", "Share of the cost that is unserved"],
        }
    )
    monkeypatch.setattr(cal, "SCENARIO_NOTES", {"mild": "a stale reason"})
    rows = cal.scenario_rows(summary)
    assert [r["scenario"] for r in rows] == ["base", "short", "mild"]
    assert rows[0]["vs_base_musd"] is None and rows[1]["vs_base_musd"] == pytest.approx(20.0)
    assert cal.scenario_problems(rows) == [
        "short: 30.0% of the objective is unserved value, not explained",
        "mild: SCENARIO_NOTES explains a share of 5.0%, not above 10 %",
    ]
    assert "**above 10 % and not explained**" in cal.scenario_markdown(summary)
    monkeypatch.setattr(cal, "SCENARIO_NOTES", {"short": "a reason"})
    assert cal.scenario_problems(cal.scenario_rows(summary)) == []
