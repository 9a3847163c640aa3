"""The resolved input the model reads: :class:`InputData` (DESIGN §2, §4).

Pyomo-free, and treated as immutable after :func:`optimizer.data_io.parse` made it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from optimizer.io.reading import RawBook
from optimizer.io.settings import Settings


@dataclass(frozen=True)
class InputData:
    """The resolved input: every default applied, every wildcard expanded, every year interpolated.

    Pyomo-free and treated as immutable after loading. Dicts are keyed by the index tuples of DESIGN §5
    (r region, y year, h slice, k tech, m commodity, g segment, j partner, b bet).
    """

    source: str
    settings: Settings
    years: tuple[int, ...]
    period_length: dict[int, int]
    carbon_price: dict[int, float]
    co2_cap: dict[int, float]
    regions: pd.DataFrame  # index region
    slices: tuple[str, ...]
    slice_day: dict[str, str]
    slice_hours: dict[str, float]
    slice_prev: dict[str, str]
    techs: pd.DataFrame  # index tech
    fab_inputs: dict[tuple[str, str, int], float]  # (f, m, y): q_{f,m} of the year (v2)
    commodities: tuple[str, ...]
    capex: dict[tuple[str, str, int], float]
    fixed_om: dict[tuple[str, str, int], float]
    max_build: dict[tuple[str, str, int], float]
    max_capacity: dict[tuple[str, str, int], float]
    cf: dict[tuple[str, str, str], float]  # only where a Profiles row overrides availability
    existing: dict[tuple[str, str, int], float]
    fleet_h100e: dict[tuple[str, int], float]
    fleet_kw: dict[tuple[str, int], float]
    accelerators: (
        pd.DataFrame
    )  # index model year: h100e_per_chip, kw_per_chip, system_capex_usd, life
    price: dict[tuple[str, int], float]
    external_max: dict[tuple[str, int], float]
    chip_routes: dict[tuple[str, str, str], float]  # (m, from, to) allowed → cost $/unit
    compute_routes: frozenset[tuple[str, str, str]]  # (g, host, consumer) allowed
    demand: dict[tuple[str, str, int], float]  # (g, c, y) > 0
    partners: pd.DataFrame  # index partner: wacc, home_region
    budget: dict[tuple[str, int], float]
    partner_allowed: dict[tuple[str, str, str], bool]  # (j, r, class)
    bets: pd.DataFrame  # index bet
    scenarios: pd.DataFrame
    sweep: pd.DataFrame
    warnings: tuple[str, ...] = ()
    # how the input is read when nothing is wrong (e.g. an Outcomes sheet a plain run leaves unused)
    notes: tuple[str, ...] = ()
    alternatives: pd.DataFrame | None = None  # the Alternatives sheet (§10), defaults applied
    # v2 (DESIGN §4.1, §5): every (r, y) resolved from GridAccess, else the Regions column
    grid_max: dict[tuple[str, int], float] = field(default_factory=dict)  # MW
    grid_price: dict[tuple[str, int], float] = field(default_factory=dict)  # $/MWh
    grid_co2: dict[tuple[str, int], float] = field(default_factory=dict)  # tCO2/MWh
    import_max: dict[tuple[str, str, int], float] = field(
        default_factory=dict
    )  # (m, r, y) units/yr
    unserved_value: dict[tuple[str, str, int], float] = field(
        default_factory=dict
    )  # (g, c, y) $ per H100e-year, for every demand key
    # §8.1 Outcomes rows (outcome, probability, scenario or None), and the raw book their scenario
    # changes apply to (kept only when there are outcomes)
    outcomes: tuple[tuple[str, float, str | None], ...] = ()
    raw: RawBook | None = field(default=None, repr=False, compare=False)

    @cached_property
    def outcome_data(self) -> tuple[tuple[str, float, InputData], ...]:
        """Each Outcomes row's future as resolved input: (outcome, probability, data) (§8.1).

        Resolved on first use (or by :func:`parse` when Settings ``bet_mode`` is stochastic);
        raises :class:`InputError` naming the outcome when a future's changed data is invalid.
        """
        from optimizer.outcomes import resolve_leaves

        return resolve_leaves(self)

    @property
    def regions_list(self) -> list[str]:
        """Region ids in sheet order."""
        return list(self.regions.index)

    def techs_of(self, cls: str) -> list[str]:
        """Tech ids of one class, in sheet order."""
        return list(self.techs.index[self.techs["class"] == cls])

    @cached_property
    def tech(self) -> dict[str, dict[str, Any]]:
        """Technologies as plain dicts (``tech[k]["life"]``): per-element pandas lookups are slow."""
        return self.techs.to_dict("index")

    @cached_property
    def region(self) -> dict[str, dict[str, Any]]:
        """Regions as plain dicts (``region[r]["pue"]``)."""
        return self.regions.to_dict("index")

    def cf_of(self, p: str, r: str, h: str) -> float:
        """Availability of power tech p in region r and slice h (a Profiles row, else ``availability``)."""
        v = self.cf.get((p, r, h))
        return float(self.tech[p]["availability"]) if v is None else v
