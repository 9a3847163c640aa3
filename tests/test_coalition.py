"""The coalition game (DESIGN §9, issue 9)."""

from __future__ import annotations

import json
import math

import pytest

from optimizer.coalition import (
    all_subsets,
    in_core,
    least_core,
    nucleolus,
    restrict,
    shapley_exact,
    shapley_sampled,
)
from optimizer.data_io import parse, read_raw
from tests.test_cli import run

GAS = 8760 * 100 / 1e6  # 1 MW for a year of grid power at $100/MWh, $M


def write_three_player_case(folder):
    """A and B each need 1000 H100e (1 MW of IT, pue 1); C needs nothing.

    Data centers come in 2 MW modules at 1 $M/MW with a one-year life and a zero wacc, so a module
    costs CRF(0, 1)·2 = 2 $M in the single model year (DF = 1). Chips are free. A and B buy grid power
    at $100/MWh, C at $200/MWh. Compute may be served across borders.
    """
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "Settings": "key,value\nbase_year,2030\ndiscount_rate,0\nlast_period_length,1\nmip_gap,1e-9\n",
        "Years": "year\n2030\n",
        "Regions": "region,coalition,wacc,pue,grid_max_mw,grid_price_usd\n"
        "A,TRUE,0,1.0,10,100\nB,TRUE,0,1.0,10,100\nC,TRUE,0,1.0,10,200\n",
        "TimeSlices": "slice,day,hours\nh1,d1,8760\n",
        "Technologies": "tech,class,life,module_size\ndc,datacenter,1,2\n",
        "TechCosts": "tech,region,year,capex_musd\ndc,,,1\n",
        "Accelerators": "year,h100e_per_chip,kw_per_chip,system_capex_usd,life\n2030,1,1,0,5\n",
        "Commodities": "commodity,year,external_price_usd\naccelerator,,0\n",
        "Demand": "region,segment,year,h100e\nA,inference,2030,1000\nB,inference,2030,1000\n",
    }
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


def test_three_players_by_hand(tmp_path):
    """c(A) = c(B) = one module + 1 MW of grid = 2 + 0.876 = 2.876; c(C) = 0 (no demand);
    c(A+B) = one shared module + 2 MW of grid in A or B = 2 + 1.752 = 3.752; C's dear grid is never
    used, so c(S+C) = c(S). Shapley: A and B are symmetric and C is a dummy, so φ_C = 0 and
    φ_A = φ_B = 3.752 / 2 = 1.876. Written out for A, its marginal cost joining ∅, {B}, {C}, {B,C} is
    2.876, 0.876, 2.876, 0.876 with weights 1/3, 1/6, 1/6, 1/3: 2.876/3 + 0.876/6 + 2.876/6 + 0.876/3
    = 1.876.
    Value of the alliance: 2.876·2 + 0 − 3.752 = 2.0. Each saves 1.0, and no group pays more under
    Shapley than alone (A+B pays 3.752 = c(A+B); each single pays 1.876 < 2.876): in the core.
    """
    case = write_three_player_case(tmp_path / "case")
    p = run("coalition", str(case), "--json", "-o", str(tmp_path / "game.xlsx"))
    assert p.returncode == 0, p.stderr
    g = json.loads(p.stdout)
    assert g["players"] == ["A", "B", "C"]
    single = 2 + GAS
    pair = 2 + 2 * GAS
    expected = {
        "A": single,
        "B": single,
        "C": 0.0,
        "A+B": pair,
        "A+C": single,
        "B+C": single,
        "A+B+C": pair,
    }
    assert set(g["cost"]) == set(expected)
    for k, v in expected.items():
        assert g["cost"][k] == pytest.approx(v, rel=1e-6, abs=1e-9), k
    phi = g["shapley"]
    assert phi["A"] == pytest.approx(single / 3 + GAS / 6 + single / 6 + GAS / 3, rel=1e-6)
    assert phi["A"] == pytest.approx(pair / 2, rel=1e-6)
    assert phi["B"] == pytest.approx(phi["A"], rel=1e-9)  # symmetry
    assert phi["C"] == pytest.approx(0.0, abs=1e-9)  # dummy player
    assert sum(phi.values()) == pytest.approx(g["cost"]["A+B+C"], rel=1e-9)  # efficiency
    assert g["value_of_alliance"] == pytest.approx(2 * single - pair, rel=1e-6)
    assert g["in_core"] is True
    assert g["least_core_epsilon"] <= 1e-9
    assert (tmp_path / "game.xlsx").exists()
    # a rerun resumes from the store: nothing left to solve, the same answer
    p2 = run("coalition", str(case), "--json", "-o", str(tmp_path / "game.xlsx"))
    assert "already solved" in p2.stderr and json.loads(p2.stdout)["shapley"] == g["shapley"]


def test_restrict_keeps_only_members(tmp_path):
    case = write_three_player_case(tmp_path / "case")
    data = parse(restrict(read_raw(case), ["A", "C"]))
    assert list(data.regions.index) == ["A", "C"]
    assert {c for (_g, c, _y) in data.demand} == {"A"}


def _game(n, f):
    order = [f"p{i}" for i in range(n)]
    return order, {s: f(s) for s in all_subsets(order)}


def test_shapley_properties_on_a_generated_game():
    """Efficiency, symmetry and the dummy player on a game with a known structure: players p0 and p1
    are interchangeable, p3 adds exactly its own stand-alone cost to every coalition (a dummy)."""
    weights = {"p0": 3.0, "p1": 3.0, "p2": 5.0, "p3": 2.0}

    def c(s):
        core = [p for p in s if p != "p3"]
        base = math.sqrt(sum(weights[p] for p in core)) * 10 if core else 0.0
        return base + (2.0 if "p3" in s else 0.0)

    order, cost = _game(4, c)
    phi = shapley_exact(order, cost.__getitem__)
    assert sum(phi.values()) == pytest.approx(cost[tuple(order)], rel=1e-12)
    assert phi["p0"] == pytest.approx(phi["p1"], rel=1e-12)
    assert phi["p3"] == pytest.approx(2.0, rel=1e-12)
    est, ci = shapley_sampled(order, cost.__getitem__, samples=400, seed=1)
    for p in order:
        assert abs(est[p] - phi[p]) <= max(4 * ci[p], 1e-9)


def test_core_and_least_core():
    """A game with an empty core: every pair alone is cheap (c = 1) but the three together cost 3, so
    some pair always pays ≥ 2 > 1; least-core ε = 1 (each pays 1, pairs pay 2 = 1 + ε)."""
    order = ["a", "b", "c"]
    cost = {s: {1: 1.5, 2: 1.0, 3: 3.0}[len(s)] for s in all_subsets(order)}
    eps, x = least_core(order, cost)
    assert eps == pytest.approx(1.0, rel=1e-9)
    assert not in_core(order, {p: 1.0 for p in order}, cost)
    assert nucleolus(order, cost) == pytest.approx({p: 1.0 for p in order})


def test_coalition_on_dask_workers(tmp_path):
    """The same game solved by two Dask workers gives the same costs."""
    case = write_three_player_case(tmp_path / "case")
    p = run(
        "coalition",
        str(case),
        "--workers",
        "2",
        "--json",
        "-o",
        str(tmp_path / "g.xlsx"),
        real=True,
    )
    assert p.returncode == 0, p.stderr
    g = json.loads(p.stdout)
    assert g["cost"]["A+B+C"] == pytest.approx(2 + 2 * GAS, rel=1e-6)
    assert g["shapley"]["C"] == pytest.approx(0.0, abs=1e-9)


def test_shapley_split_by_cost_category(tmp_path):
    """Each player's Shapley value split by cost category (issue 16), derived by hand on the
    three-player case. Capital: c_cap(A) = c_cap(B) = 2 (one module each), c_cap(A+B) = 2 (one shared
    module), C adds nothing: the capital game is symmetric in A and B with C a dummy, so
    φ_A^capital = φ_B^capital = 2 / 2 = 1. Energy: c_en(S) = GAS × (number of A, B in S) is additive,
    so φ_A^energy = φ_B^energy = GAS. Every other category is 0. The parts add up to φ_A = 1 + GAS =
    1.876 = (2 + 2·GAS) / 2; the workbook shows them on ShapleyByCategory and the category costs of
    each sub-coalition on Coalitions.
    """
    from openpyxl import load_workbook

    case = write_three_player_case(tmp_path / "case")
    out = tmp_path / "game.xlsx"
    p = run("coalition", str(case), "--json", "-o", str(out))
    assert p.returncode == 0, p.stderr
    g = json.loads(p.stdout)
    split = g["shapley_by_category"]
    for who in ("A", "B"):
        assert split[who]["capital"] == pytest.approx(1.0, rel=1e-6)
        assert split[who]["energy"] == pytest.approx(GAS, rel=1e-6)
        others = {k: v for k, v in split[who].items() if k not in ("capital", "energy")}
        assert all(abs(v) <= 1e-9 for v in others.values()), others
        assert sum(split[who].values()) == pytest.approx(g["shapley"][who], rel=1e-9)
    assert all(abs(v) <= 1e-9 for v in split["C"].values())
    wb = load_workbook(out)
    assert "ShapleyByCategory" in wb.sheetnames
    ws = wb["ShapleyByCategory"]
    head = [c.value for c in ws[1]]
    rows = {
        r[0]: dict(zip(head, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)
    }
    assert rows["A"]["capital_musd"] == pytest.approx(1.0, rel=1e-6)
    assert rows["A"]["largest_category"] == "capital"
    assert ws._charts, "the stacked chart is on the sheet"
    coal = wb["Coalitions"]
    chead = [c.value for c in coal[1]]
    assert "capital_musd" in chead and "energy_musd" in chead


def _generated_four_regions(folder):
    """A generated instance (benchmarks/generate.py): 4 coalition regions, partners homed in them,
    chip routes, existing capacity, a fusion bet (a MIP), 4 slices."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from generate import Spec, generate

    spec = Spec(regions=4, years=2, days=1, slices_per_day=4, power_techs=3, partners=3, bets=1)
    return generate(spec, folder)


@pytest.mark.parametrize("case", ["three_players", "tiny", "generated"])
def test_bounds_cost_equals_removed_rows_cost(tmp_path, case):
    """c(S) by bounds on the grand coalition's model (non-members' columns fixed at 0, their rows
    freed, their objective constants taken out) equals §9's definition — S's input with every other
    region's rows removed, solved on its own — for every S, to 1e-6 relative.

    The cases: the hand-derived three-player game above (integer modules: branch and bound);
    tests/data/tiny (a partner homed in A, existing capacity with fixed O&M — an objective constant
    of A —, an existing fleet, fab chain, routes, bets); a generated four-region game (partners
    homed in three regions, shipping between all, a bet binary)."""
    from optimizer.coalition import players, solve_subset
    from optimizer.coalition_warm import BoundsGame, gray_order
    from optimizer.solve import SolveOptions

    folder = {
        "three_players": lambda: write_three_player_case(tmp_path / "case"),
        "tiny": lambda: "tests/data/tiny",
        "generated": lambda: _generated_four_regions(tmp_path / "gen"),
    }[case]()
    raw = read_raw(folder)
    order = players(parse(raw))
    assert len(order) >= 2
    opts = SolveOptions(threads=1, mip_gap=1e-9, duals=False, explain=False)
    game = BoundsGame(raw, order, opts)
    if case == "tiny":
        assert game.const_by_player[order.index("A")] > 0  # the constant taken out is exercised
    warm = 0
    for s in gray_order(all_subsets(order), order):
        split, want_split = {}, {}
        got, status, info = game.cost(s, split)
        want, want_status, want_gap = solve_subset(raw, s, opts, detail=want_split)
        assert status == want_status == "optimal", s
        assert got == pytest.approx(want, rel=1e-6, abs=1e-9), s
        assert sum(split.values()) == pytest.approx(got, rel=1e-9, abs=1e-9), s
        if case != "generated":  # unique optima: the split is the same too
            assert split == pytest.approx(want_split, rel=1e-6, abs=1e-6), s
        assert info["gap"] == pytest.approx(0.0, abs=1e-9) and want_gap <= 1e-9, s
        warm += bool(info["warm"])
    assert warm >= 1  # at least one c(S) was a re-solve of the persistent model


def test_gray_order_changes_one_member_at_a_time():
    from optimizer.coalition_warm import gray_order

    order = ["a", "b", "c", "d"]
    seq = gray_order(all_subsets(order), order)
    assert sorted(seq) == sorted(all_subsets(order))
    assert all(len(set(x) ^ set(y)) == 1 for x, y in zip(seq, seq[1:], strict=False))


def write_six_player_case(folder):
    """Six regions P1..P6 like A of the three-player case (each needs 1000 H100e, 1 MW of IT), so
    that the game has 2^6 − 1 = 63 sub-coalitions: more than the 31 above which the command warns
    up front."""
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"P{i}" for i in range(1, 7)]
    files = {
        "Settings": "key,value\nbase_year,2030\ndiscount_rate,0\nlast_period_length,1\nmip_gap,1e-9\n",
        "Years": "year\n2030\n",
        "Regions": "region,coalition,wacc,pue,grid_max_mw,grid_price_usd\n"
        + "".join(f"{r},TRUE,0,1.0,10,{100 + 10 * i}\n" for i, r in enumerate(names)),
        "TimeSlices": "slice,day,hours\nh1,d1,8760\n",
        "Technologies": "tech,class,life,module_size\ndc,datacenter,1,2\n",
        "TechCosts": "tech,region,year,capex_musd\ndc,,,1\n",
        "Accelerators": "year,h100e_per_chip,kw_per_chip,system_capex_usd,life\n2030,1,1,0,5\n",
        "Commodities": "commodity,year,external_price_usd\naccelerator,,0\n",
        "Demand": "region,segment,year,h100e\n"
        + "".join(f"{r},inference,2030,1000\n" for r in names),
    }
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


CONTROL = [chr(c) for c in range(32) if chr(c) not in "\n\t"] + ["\x7f"]


@pytest.mark.parametrize("path", ["warm", "cold"])
def test_game_says_its_size_and_estimate_before_the_work(tmp_path, path):
    """Issue 19: a game of 63 sub-coalitions says so up front with a note (more than 31), then, as
    soon as the pace is known, the estimated time of the whole game — after the first c(S) solved
    cold, after the first warm re-solve on the default path — before most of the work is done. In a
    real process with stderr to a pipe: plain lines only (no carriage return or escape), and stdout
    (--json) is one JSON object."""
    case = write_six_player_case(tmp_path / "case")
    args = ["coalition", str(case), "--json", "-o", str(tmp_path / "g.xlsx")]
    p = run(*args, *(["--cold"] if path == "cold" else []), real=True)
    assert p.returncode == 0, p.stderr
    assert not [c for c in CONTROL if c in p.stderr], repr(p.stderr)
    assert p.stdout.count("\n") == 1 and set(json.loads(p.stdout)["shapley"]) == {
        f"P{i}" for i in range(1, 7)
    }
    lines = p.stderr.splitlines()
    heads = [ln.split()[0] for ln in lines if ln.strip()]
    assert "63 sub-coalitions to solve" in lines[heads.index("players")]
    note = lines[heads.index("note")]
    assert "--players" in note and "--samples" in note and "--scheduler" in note
    assert heads.index("players") < heads.index("note") < heads.index("solved")
    assert heads.count("estimate") == 1
    est = lines[heads.index("estimate")]
    assert "63 sub-coalitions" in est and "about" in est
    solved = [ln for ln in lines if ln.startswith("solved")]
    # the cold path knows its pace after one c(S); the warm one after its first re-solve (a c(S)
    # after branch and bound starts afresh, so that need not be the second)
    first = 0 if path == "cold" else next(i for i, ln in enumerate(solved) if "(warm" in ln)
    assert lines[heads.index("estimate") - 1] == solved[first], p.stderr
    assert "h in all" not in est or "--players" in est
    # after 5 % of the game (at least 8 c(S)) the time is said again, weighted by size
    assert heads.count("revised") == 1
    rev = lines[heads.index("revised")]
    assert lines[heads.index("revised") - 1] == solved[7], p.stderr
    assert "63 sub-coalitions: 8 in" in rev and "about" in rev


def test_revised_estimate_arithmetic():
    """revise_at: 5 % of the game and at least 8, none for a game shorter than twice that
    (63 → 8, 15 → none, 1,023 → ⌈51.15⌉ = 52). revised_note: 52 done in 900 s carrying 100 of
    2,000 units of size → 900 · (1 + 1,900/100) = 18,000 s = 5.0 h, 5 % of the work, with advice."""
    from optimizer.coalition import revise_at, revised_note

    assert (revise_at(63), revise_at(15), revise_at(16), revise_at(1023)) == (8, None, 8, 52)
    note = revised_note(1023, 52, 900.0, 100.0, 1900.0)
    assert "about 5.0 h in all" in note and "5% of the" in note and "--players" in note
    short = revised_note(63, 8, 60.0, 10.0, 30.0)  # 60 · 4 = 240 s
    assert "about 4 min in all" in short and "--players" not in short


def test_estimate_note_arithmetic_and_advice():
    """estimate_note: 2 done in 60 s, 1,021 left at 5 s each on 2 workers → 60 + 1021·5/2 =
    2,612.5 s ≈ 44 min (no advice); at 20 s each on one worker → 60 + 20,420 s = 5.7 h, with the
    four ways to shorten it."""
    from optimizer.coalition import estimate_note

    short = estimate_note(1023, 2, 60.0, 5.0, 2, None)
    assert "about 44 min in all" in short and "--players" not in short
    long = estimate_note(1023, 2, 60.0, 20.0, 1, "tcp://x:8786")
    assert "about 5.7 h in all" in long and "of the cluster" in long
    for advice in ("--players", "--samples", "--relax-integers", "--scheduler"):
        assert advice in long
    # the warm path's Gray order starts with the smallest c(S): the line says it is a floor
    assert "at least" not in short and "revised after" not in short
    floor = estimate_note(1023, 2, 60.0, 5.0, 2, None, revise=52)
    assert "about 44 min in all at least" in floor and "revised after 52," in floor


def test_game_ignores_the_outcomes_sheet(tmp_path):
    """An input with hedging futures (an Outcomes sheet naming Scenarios rows, as the shipped base
    has) plays the game on its base data: every c(S) is the three-player hand value (above), on the
    warm and the --cold paths — not an error of every sub-coalition."""
    case = write_three_player_case(tmp_path / "case")
    (case / "Scenarios.csv").write_text(
        "scenario,sheet,where,column,op,value\nlow,Demand,,h100e,scale,0.5\n"
    )
    (case / "Outcomes.csv").write_text("outcome,probability,scenario\nlow,0.5,low\nmid,0.5,\n")
    for extra in ([], ["--cold"]):
        p = run("coalition", str(case), "--json", "-o", str(tmp_path / "g.xlsx"), *extra)
        assert p.returncode == 0, p.stderr
        g = json.loads(p.stdout)
        assert g["cost"]["A+B+C"] == pytest.approx(2 + 2 * GAS, rel=1e-6)
        assert g["cost"]["A"] == pytest.approx(2 + GAS, rel=1e-6)


def test_players_and_the_exact_or_sampled_choice(tiny_path):
    """The CLI's choice, in the coalition module: tiny's coalition regions are A and B; --players
    narrows them and names an unknown one; ≤ 12 players without --samples is exact (all 3 non-empty
    subsets), --samples 5 samples permutations (prefixes plus each player alone); 13 players default
    to 200 samples."""
    from optimizer.coalition import EXACT_LIMIT, PlayerError, choose_players, game_subsets

    data = parse(read_raw(tiny_path))
    assert choose_players(data) == ["A", "B"]
    assert choose_players(data, " B ,") == ["B"]
    with pytest.raises(PlayerError, match="--players: Z are not coalition regions"):
        choose_players(data, "A,Z")
    exact, samples, subsets = game_subsets(["A", "B"], None)
    assert exact and samples is None and sorted(subsets) == [("A",), ("A", "B"), ("B",)]
    exact, samples, subsets = game_subsets(["A", "B"], 5, seed=1)
    assert not exact and samples == 5 and {("A",), ("B",)} <= set(subsets)
    many = [f"P{i}" for i in range(EXACT_LIMIT + 1)]
    exact, samples, _ = game_subsets(many, None)
    assert not exact and samples == 200


def test_warm_re_solve_past_its_budget_is_solved_again_by_ipm(tmp_path, monkeypatch):
    """A warm re-solve stopped by its budget (here: no time at all) is solved again from scratch by
    the interior point method without crossover (whose clean-up can run for hours); the next S
    starts cold under the same budget; c(S) is still §9's removed-rows value for every S (1e-6)."""
    from optimizer import coalition_warm
    from optimizer.coalition import players, solve_subset
    from optimizer.coalition_warm import BoundsGame, gray_order
    from optimizer.solve import SolveOptions

    monkeypatch.setattr(coalition_warm, "WARM_BUDGET_MIN_S", 0.0)
    monkeypatch.setattr(coalition_warm, "WARM_BUDGET", 1e-12)
    raw = read_raw("tests/data/tiny")
    order = players(parse(raw))
    opts = SolveOptions(threads=1, mip_gap=1e-9, duals=False, explain=False)
    game = BoundsGame(raw, order, opts)
    fell_back = solved = 0
    after_fallback = False
    for s in gray_order(all_subsets(order), order):
        got, status, info = game.cost(s)
        want, want_status, _ = solve_subset(raw, s, opts)
        assert status == want_status == "optimal", s
        assert got == pytest.approx(want, rel=1e-6, abs=1e-9), s
        if info["fallback"]:
            fell_back += 1
            assert game.h is None, "a fallback leaves no basis: the next S must start cold"
        if after_fallback:
            assert not info["warm"], s
        after_fallback = bool(info["fallback"])
        solved += info["seconds"] > 0  # a coalition without demand costs 0 without a solve
    # no time at all: every c(S) but the first, warm or cold after a fallback, runs out of budget
    assert game.fallbacks == fell_back == solved - 1


def test_fallback_interior_point_runs_without_crossover(monkeypatch):
    """The fallback's IPM first runs with crossover within the budget, and where that does not
    finish, again without crossover (the next S then starts cold); an analyst's run_crossover is
    used as given, in one run, and crossover's basis starts the next S warm."""
    from optimizer import coalition_warm
    from optimizer.coalition import players
    from optimizer.coalition_warm import BoundsGame, gray_order
    from optimizer.solve import SolveOptions

    monkeypatch.setattr(coalition_warm, "WARM_BUDGET_MIN_S", 0.0)
    monkeypatch.setattr(coalition_warm, "WARM_BUDGET", 1e-12)
    made = []
    cold = BoundsGame._cold

    def keep(self):
        made.append(cold(self))
        return made[-1]

    monkeypatch.setattr(BoundsGame, "_cold", keep)
    raw = read_raw("tests/data/tiny")
    order = players(parse(raw))
    for chosen in (None, "on"):
        opts = SolveOptions(threads=1, duals=False, explain=False, run_crossover=chosen)
        game = BoundsGame(raw, order, opts)
        made.clear()
        subsets = iter(gray_order(all_subsets(order), order))
        for s in subsets:
            before = len(made)
            if game.cost(s)[2]["fallback"]:
                break
        else:
            pytest.fail("no warm re-solve fell back")
        tried = made[before:]  # the fallback's fresh HiGHS objects, in order
        assert all(h.getOptionValue("solver")[1] == "ipm" for h in tried[:-1])
        crossover = [h.getOptionValue("run_crossover")[1] for h in tried]
        if chosen is None:  # no time for crossover under a zero budget: then without it
            assert crossover == ["on", "off"] and game.h is None
            assert tried[-1].getOptionValue("solver")[1] == "ipm"
        else:
            assert crossover == ["on"] and game.h is tried[0]
            assert game.h.getOptionValue("solver")[1] == "choose"  # simplex again for the next S
            nxt = next(s for s in subsets if game._has_demand(set(s)))
            assert game.cost(nxt)[2]["warm"]


def test_progress_line_says_when_a_re_solve_fell_back_to_interior_point(tmp_path, monkeypatch):
    """The game's progress line names the interior-point fallback (it costs the budget plus a cold
    solve: the analyst reading a slow line should see why), and the game's values are unchanged."""
    from optimizer import coalition_warm
    from optimizer.coalition import key_of, players, run_game, solve_subset
    from optimizer.solve import SolveOptions

    monkeypatch.setattr(coalition_warm, "WARM_BUDGET_MIN_S", 0.0)
    monkeypatch.setattr(coalition_warm, "WARM_BUDGET", 1e-12)
    raw = read_raw("tests/data/tiny")
    order = players(parse(raw))
    opts = SolveOptions(threads=1, mip_gap=1e-9)
    lines: list[str] = []
    res = run_game(
        "tests/data/tiny",
        raw,
        order,
        all_subsets(order),
        exact=True,
        samples=None,
        seed=0,
        options=opts,
        bet_mode=None,
        store=tmp_path / "game.sqlite",
        progress=lines.append,
    )
    solved = [ln for ln in lines if ln.startswith("solved")]
    assert len(solved) == len(all_subsets(order))
    assert any("(warm, then interior point " in ln for ln in solved), solved
    assert any("(cold " in ln for ln in solved), solved  # the worker's first S builds the model
    want, _status, _ = solve_subset(raw, tuple(order), SolveOptions(threads=1, mip_gap=1e-9))
    assert res.cost[key_of(tuple(order), order)] == pytest.approx(want, rel=1e-6)
