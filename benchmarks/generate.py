"""Seeded generator of synthetic planning instances (DESIGN §4 CSV folders) for the benchmarks.

The instances have the product's shape — regions × years × slices of power, storage and grid, data
centers and accelerators serving training and inference demand, a small chip chain (logic dies, HBM,
packaging) with shipping between regions, partners with budgets and rules — and size knobs for each
dimension. The operational block (generation, storage, grid, balance) grows as
``regions × years × slices × techs`` and dominates the variable count, as in real studies.

Named sizes (variables of the built model, checked with ``run.py``)::

    XS 181 (tests)   S 11.5k   M 110k   L 541k   XL 1.45M

Usage::

    python benchmarks/generate.py --size M OUT_DIR
    python benchmarks/generate.py --regions 12 --years 10 --days 4 --slices-per-day 24 OUT_DIR
"""

from __future__ import annotations

import argparse
import csv
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Spec:
    """Size knobs of a generated instance.

    Attributes
    ----------
    regions : number of regions (each one a host, a consumer and a possible fab site).
    years : number of model years, one year apart from ``first_year``.
    days : representative days.
    slices_per_day : hourly slices in each representative day.
    power_techs : power technologies (cycling through solar, wind, gas, nuclear, geothermal, ...).
    storage_techs : storage technologies (4 h battery, 12 h long-duration, ...).
    partners : financing partners, each with a budget and a few PartnerRules.
    bets : R&D bets on extra power techs; more than zero makes the model a MIP (``bet_mode`` succeed).
    first_year : the first model year (also the base year).
    seed : seed of every random draw: the same spec gives byte-identical files.
    """

    regions: int = 4
    years: int = 5
    days: int = 2
    slices_per_day: int = 24
    power_techs: int = 4
    storage_techs: int = 1
    partners: int = 2
    bets: int = 0
    first_year: int = 2030
    seed: int = 0


# Named sizes: the variable counts in the comments are those of the built model (run.py prints them).
SIZES: dict[str, Spec] = {
    "XS": Spec(regions=2, years=2, days=1, slices_per_day=6, power_techs=3, partners=1),  # 181
    "S": Spec(regions=4, years=5, days=4, slices_per_day=24, power_techs=4),  # 11,491
    "M": Spec(
        regions=10, years=10, days=6, slices_per_day=24, power_techs=5, partners=3
    ),  # 110,496
    "L": Spec(
        regions=20, years=12, days=12, slices_per_day=24, power_techs=5, partners=4
    ),  # 541,116
    "XL": Spec(
        regions=40, years=15, days=12, slices_per_day=24, power_techs=5, partners=6
    ),  # 1,451,795
}

# (name, kind, life, lead, variable $/MWh, tCO2/MWh, clean, availability, capex $M/MW)
_POWER = [
    ("solar", "solar", 30, 0, 0.0, 0.0, True, 1.0, 0.9),
    ("wind", "wind", 27, 2, 0.0, 0.0, True, 1.0, 1.3),
    ("gas_ccgt", "firm", 30, 3, 30.0, 0.35, False, 0.9, 1.0),
    ("nuclear", "firm", 60, 6, 12.0, 0.0, True, 0.92, 8.0),
    ("geothermal", "firm", 30, 3, 5.0, 0.0, True, 0.9, 4.5),
    ("gas_peaker", "firm", 30, 2, 70.0, 0.5, False, 0.95, 0.7),
    ("offshore_wind", "wind", 25, 4, 0.0, 0.0, True, 1.0, 3.0),
    ("solar_tracking", "solar", 30, 0, 0.0, 0.0, True, 1.0, 1.1),
]
_STORAGE = [("battery", 15, 4.0, 0.87, 0.8), ("long_duration", 25, 12.0, 0.6, 1.8)]


def _write(folder: Path, sheet: str, header: list[str], rows: list[list]) -> None:
    with (folder / f"{sheet}.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for row in rows:
            w.writerow(
                ["" if v is None else (f"{v:.6g}" if isinstance(v, float) else v) for v in row]
            )


def generate(spec: Spec, folder: str | Path) -> Path:
    """Write the instance of ``spec`` as a CSV folder (one ``<Sheet>.csv`` per sheet of DESIGN §4).

    Parameters
    ----------
    spec : the size knobs and the seed.
    folder : created if missing; existing sheet files are overwritten.

    Returns
    -------
    Path
        ``folder``.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(spec.seed)
    years = [spec.first_year + i for i in range(spec.years)]
    regions = [f"R{i:03d}" for i in range(spec.regions)]
    n_slices = spec.days * spec.slices_per_day
    slices = [
        (f"d{d}h{h:02d}", f"d{d}") for d in range(spec.days) for h in range(spec.slices_per_day)
    ]
    power = [_POWER[i % len(_POWER)] for i in range(spec.power_techs)]
    power = [
        (f"{p[0]}{'' if i < len(_POWER) else i // len(_POWER)}", *p[1:])
        for i, p in enumerate(power)
    ]
    storage = [_STORAGE[i % len(_STORAGE)] for i in range(spec.storage_techs)]
    storage = [
        (f"{s[0]}{'' if i < len(_STORAGE) else i // len(_STORAGE)}", *s[1:])
        for i, s in enumerate(storage)
    ]
    bet_techs = [f"fusion{i}" for i in range(spec.bets)]

    _write(
        out,
        "Settings",
        ["key", "value"],
        [
            ["base_year", years[0]],
            ["discount_rate", 0.05],
            ["last_period_length", 1],
            ["unserved_penalty_usd", 200000],
            ["market_finance", "TRUE"],
            # Continuous builds keep the generated instances LPs (bets aside): the benchmark measures
            # modelling overhead, not branch and bound.
            ["integer_modules", "FALSE"],
            ["bet_mode", "succeed"],
        ],
    )
    _write(
        out,
        "Years",
        ["year", "carbon_price_usd", "co2_cap_t"],
        [[y, float(20 + 5 * i), None] for i, y in enumerate(years)],
    )
    region_rows = []
    for i, r in enumerate(regions):
        region_rows.append(
            [
                r,
                f"Region {i}",
                "TRUE",
                float(rng.uniform(0.03, 0.09)),
                float(rng.uniform(1.1, 1.4)),
                float(rng.choice([0.0, rng.uniform(200, 5000)], p=[0.1, 0.9])),
                float(rng.uniform(40, 200)),
                float(rng.uniform(0.05, 0.7)),
                "TRUE" if rng.random() < 0.9 else "FALSE",
                float(rng.choice([0.0, 0.5], p=[0.7, 0.3])),
                float(rng.choice([0.0, 0.3], p=[0.5, 0.5])),
                0.0,  # a clean share can be infeasible before the first clean build comes online
            ]
        )
    _write(
        out,
        "Regions",
        [
            "region",
            "name",
            "coalition",
            "wacc",
            "pue",
            "grid_max_mw",
            "grid_price_usd",
            "grid_co2_t",
            "chips_external_allowed",
            "min_domestic_training",
            "min_domestic_inference",
            "min_clean_share",
        ],
        region_rows,
    )
    hours = 8760.0 / n_slices
    _write(out, "TimeSlices", ["slice", "day", "hours"], [[s, d, hours] for s, d in slices])

    tech_header = [
        "tech",
        "class",
        "life",
        "lead",
        "module_size",
        "variable_cost_usd",
        "co2_t",
        "clean",
        "availability",
        "duration_h",
        "efficiency",
        "output",
        "electricity_mwh",
        "max_region_share",
    ]
    techs = []
    for name, _kind, life, lead, vc, co2, clean, avail, _capex in power:
        techs.append(
            [name, "power", life, lead, None, vc, co2, "TRUE" if clean else "FALSE", avail]
            + [None] * 5
        )
    for name, life, dur, eff, _capex in storage:
        techs.append(
            [name, "storage", life, 0, None, 0.0, 0.0, "FALSE", 1.0, dur, eff] + [None] * 3
        )
    for b in bet_techs:
        techs.append([b, "power", 30, 1, None, 5.0, 0.0, "TRUE", 0.9] + [None] * 5)
    techs.append(["datacenter", "datacenter", 15, 1] + [None] * 10)
    techs.append(
        [
            "logic_fab",
            "fab",
            10,
            3,
            None,
            50.0,
            None,
            None,
            None,
            None,
            None,
            "logic_die",
            0.05,
            0.6,
        ]
    )
    techs.append(
        [
            "hbm_fab",
            "fab",
            10,
            2,
            None,
            150.0,
            None,
            None,
            None,
            None,
            None,
            "hbm_stack",
            0.02,
            None,
        ]
    )
    techs.append(
        [
            "packaging",
            "fab",
            10,
            2,
            None,
            3000.0,
            None,
            None,
            None,
            None,
            None,
            "accelerator",
            0.05,
            None,
        ]
    )
    _write(out, "Technologies", tech_header, techs)
    _write(
        out,
        "FabInputs",
        ["tech", "commodity", "quantity"],
        [["packaging", "logic_die", 2.0], ["packaging", "hbm_stack", 8.0]],
    )

    # Costs: one all-years row per (tech, region), a region factor on top of the tech's capex.
    cost_rows = []
    for r in regions:
        f = float(rng.uniform(0.7, 1.4))
        for name, *_rest, capex in power:
            cost_rows.append([name, r, None, capex * f, capex * f * 0.02, 5000.0, None])
        for name, *_rest, capex in storage:
            cost_rows.append([name, r, None, capex * f, capex * f * 0.025, 3000.0, None])
        for b in bet_techs:
            cost_rows.append([b, r, None, 6.0 * f, 0.1, 1000.0, None])
        cost_rows.append(["datacenter", r, None, 12.0 * f, 0.3, 20000.0, None])
        if rng.random() < 0.3:  # fabs only in some regions, as in reality
            cost_rows.append(["logic_fab", r, None, 0.001 * f, 5e-5, 5e6, None])
            cost_rows.append(["hbm_fab", r, None, 0.0005 * f, 2.5e-5, 3e7, None])
            cost_rows.append(["packaging", r, None, 0.001 * f, 5e-5, 5e6, None])
    _write(
        out,
        "TechCosts",
        ["tech", "region", "year", "capex_musd", "fixed_om_musd", "max_build", "max_capacity"],
        cost_rows,
    )

    # Profiles: solar follows the sun within each day, wind is noisy; firm techs use availability.
    profiles = []
    hour_of_day = np.array([int(s[0].split("h")[1]) for s in slices]) * 24.0 / spec.slices_per_day
    solar_shape = np.clip(np.sin((hour_of_day - 6.0) / 12.0 * math.pi), 0.0, None)
    for name, kind, *_rest in power:
        if kind not in ("solar", "wind"):
            continue
        for r in regions:
            if kind == "solar":
                cf = solar_shape * rng.uniform(0.6, 1.0) * rng.uniform(0.8, 1.0, n_slices)
            else:
                cf = np.clip(rng.normal(0.35, 0.2, n_slices), 0.0, 1.0)
            profiles += [
                [name, r, s, round(float(v), 4)] for (s, _d), v in zip(slices, cf, strict=True)
            ]
    _write(out, "Profiles", ["tech", "region", "slice", "cf"], profiles)

    firm = [p[0] for p in power if p[1] == "firm"]
    existing = []
    fleet = []
    for r in regions:
        if firm:
            existing.append([firm[0], r, float(rng.uniform(300, 2000)), years[0] + spec.years // 2])
        existing.append(["datacenter", r, float(rng.uniform(100, 500)), None])
        fleet.append([r, float(rng.uniform(1e4, 5e4)), None, years[0] + 3])
    fleet = [[r, h, h * 1.2, y] for r, h, _none, y in fleet]
    _write(out, "ExistingCapacity", ["tech", "region", "capacity", "retire_year"], existing)
    _write(out, "ExistingFleet", ["region", "h100e", "kw_it", "retire_year"], fleet)
    _write(
        out,
        "Accelerators",
        ["year", "h100e_per_chip", "kw_per_chip", "system_capex_usd", "life"],
        [
            [years[0], 3.0, 2.3, 6800.0, 5],
            [years[-1], 3.0 * 1.3 ** (spec.years - 1), 2.3, 6000.0, 5],
        ],
    )
    _write(
        out,
        "Commodities",
        ["commodity", "year", "external_price_usd", "external_max"],
        [
            ["accelerator", years[0], 35000.0, 2e5 * spec.regions],
            ["accelerator", years[-1], 45000.0, 6e5 * spec.regions],
            ["logic_die", None, 8000.0, None],
            ["hbm_stack", None, 400.0, None],
        ],
    )
    routes = []
    for a in regions:
        for b in regions:
            if a != b and rng.random() < 0.05:
                routes.append([a, b, "logic_die", "FALSE", None])
            elif a != b and rng.random() < 0.1:
                routes.append([a, b, None, "TRUE", float(rng.uniform(10, 200))])
    _write(out, "ChipRoutes", ["from", "to", "commodity", "allowed", "cost_usd"], routes)
    croutes = []
    for a in regions:
        for c in regions:
            if a != c and rng.random() < 0.1:
                croutes.append([a, c, "training", "FALSE"])
    _write(out, "ComputeRoutes", ["host", "consumer", "segment", "allowed"], croutes)
    demand = []
    for r in regions:
        base = float(rng.uniform(5e4, 5e5))
        for g, share in (("training", 0.4), ("inference", 0.6)):
            demand.append([r, g, years[0], base * share])
            demand.append([r, g, years[-1], base * share * float(rng.uniform(2.0, 6.0))])
    _write(out, "Demand", ["region", "segment", "year", "h100e"], demand)

    partners = [f"P{j:02d}" for j in range(spec.partners)]
    _write(
        out,
        "Partners",
        ["partner", "wacc", "home_region"],
        [
            [j, float(rng.uniform(0.02, 0.05)), regions[i % len(regions)]]
            for i, j in enumerate(partners)
        ],
    )
    _write(
        out,
        "PartnerBudgets",
        ["partner", "year", "budget_musd"],
        [[j, None, float(rng.uniform(500, 5000))] for j in partners],
    )
    rules = []
    for j in partners:
        rules.append([j, None, "fab", "FALSE"])
        for r in regions:
            if rng.random() < 0.2:
                rules.append([j, r, None, "FALSE"])
    _write(out, "PartnerRules", ["partner", "region", "class", "allowed"], rules)
    _write(
        out,
        "Bets",
        ["bet", "tech", "rd_cost_musd", "decide_year", "available_year", "probability"],
        [
            [f"bet{i}", b, 500.0, years[0], years[min(len(years) - 1, 2)], 0.5]
            for i, b in enumerate(bet_techs)
        ],
    )
    return out


def spec_for(size: str | None = None, **knobs: int) -> Spec:
    """The named size ``size`` (default: the defaults of :class:`Spec`) with ``knobs`` overriding it."""
    base = SIZES[size] if size else Spec()
    return replace(base, **{k: v for k, v in knobs.items() if v is not None})


def main(argv: list[str] | None = None) -> None:
    """Command line: ``generate.py [--size NAME] [--regions N ...] OUT_DIR``."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("out", type=Path, help="folder to write the <Sheet>.csv files into")
    ap.add_argument("--size", choices=sorted(SIZES), help="a named size (knobs below override it)")
    for name in asdict(Spec()):
        ap.add_argument(f"--{name.replace('_', '-')}", type=int, dest=name, default=None)
    args = vars(ap.parse_args(argv))
    out, size = args.pop("out"), args.pop("size")
    spec = spec_for(size, **args)
    generate(spec, out)
    print(f"wrote {out} ({spec})")


if __name__ == "__main__":
    main()
