"""Near-optimal alternatives (DESIGN §10): input checks, hand-derived ranges, the CLI and workbook.

Hand-derived cases start from the worked check of DESIGN §5.1 (``tests/hand_cases.base_case``); each
derivation is written in the test's docstring.
"""

from __future__ import annotations

from pathlib import Path

from hand_cases import _invoke, base_case, write_case

COLUMNS = ("name", "measure", "tech", "class", "region", "year", "sense")


def alt(name: str, measure: str, cls: str | None = None, **kw) -> dict:
    """One Alternatives row with every column (so the CSV's column letters are A..G)."""
    row = dict.fromkeys(COLUMNS)
    row.update(name=name, measure=measure, **kw)
    row["class"] = cls
    return row


def _bad_case(tmp_path: Path) -> Path:
    case = base_case()
    case["Alternatives"] = [
        alt("ok", "capital", region="A", sense="both"),
        alt("m", "volume"),
        alt("t", "capacity", tech="nope"),
        alt("c", "capacity", cls="reactor"),
        alt("r", "hosted", region="Z"),
        alt("y", "deployed", year=2031),
        alt("h", "hosted", tech="dc"),
        alt("ok", "build"),
    ]
    return write_case(tmp_path / "bad", case)


def test_validate_names_every_bad_alternatives_cell(tmp_path):
    """Unknown measure, tech, class, region and year each name their cell (Alternatives!Cell)."""
    res = _invoke(["validate", str(_bad_case(tmp_path))])
    assert res.returncode == 2, res.stderr
    err = res.stderr
    assert "Alternatives!B3: 'volume' is not an allowed value" in err
    assert "Alternatives!C4: unknown capacity tech 'nope'" in err
    assert "Alternatives!D5: 'reactor' is not an allowed value" in err
    assert "Alternatives!E6: unknown region 'Z'" in err
    assert "Alternatives!F7: year 2031 is not a model year" in err
    assert "Alternatives!C8: tech 'dc' does not apply to measure hosted" in err
    assert "Alternatives!A9: duplicate row for name=ok" in err
    assert "Traceback" not in err


def test_template_and_annotate_know_the_sheet(tmp_path):
    """The template has an Alternatives sheet; --annotate marks its bad cells."""
    import openpyxl

    res = _invoke(["template", str(tmp_path / "t.xlsx")])
    assert res.returncode == 0, res.stderr
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert [c.value for c in wb["Alternatives"][1]] == [
        "name",
        "measure",
        "tech",
        "class",
        "region",
        "year",
        "sense",
    ]
    res = _invoke(["validate", str(_bad_case(tmp_path)), "--annotate", str(tmp_path / "a.xlsx")])
    assert res.returncode == 2
    ws = openpyxl.load_workbook(tmp_path / "a.xlsx")["Alternatives"]
    assert ws["B3"].comment is not None and "volume" in ws["B3"].comment.text
    assert ws["F7"].comment is not None
