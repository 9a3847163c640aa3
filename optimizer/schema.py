"""The single source of truth for every input sheet and column (DESIGN §4.1).

The reader, the validator, the template writer and the About sheet all read these declarations, so adding
a column is one line here plus its use in a component.

Types
-----
``id``    text identifier (trimmed; numbers are read as their text, e.g. ``2030`` → ``"2030"``)
``text``  free text
``int``   whole number (years)
``float`` real number (plain numeric text such as ``"12000"`` is accepted)
``bool``  TRUE/FALSE, true/false, yes/no, 1/0
``enum``  one of ``choices``
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TECH_CLASSES = ("power", "storage", "fab", "datacenter")
SEGMENTS = ("training", "inference")
BET_MODES = ("stochastic", "succeed", "fail")
OPS = ("set", "scale", "add")
MGA_MEASURES = ("capacity", "build", "capital", "generation", "deployed", "hosted")
MGA_SENSES = ("min", "max", "both")
ACCELERATOR = "accelerator"


@dataclass(frozen=True)
class Column:
    """One column of an input sheet.

    Attributes
    ----------
    name : snake_case header as it appears in row 1 of the sheet.
    dtype : one of ``id``, ``text``, ``int``, ``float``, ``bool``, ``enum``.
    unit : unit of the values (DESIGN §3), shown in the template's header comments.
    default : value a blank cell takes; ``None`` means blank stays "not given" (NaN).
    required : a blank cell is an error.
    description : one line shown in the template and in error hints.
    min, max : inclusive bounds of the value (numbers only).
    choices : allowed values of an ``enum`` column.
    ref : ``Sheet.column`` whose values this id must be one of (checked after reading).
    wildcard : a blank cell means "all" (§4.2).
    key : part of the row's identity; duplicate keys are an error.
    required_unless : for a ``required`` column, another column of the sheet whose value in the same
        row excuses a blank here (the header itself stays required). Used where one row may give only
        some value columns of a resolved sheet (§5.2: a blank cell is "not given here").
    """

    name: str
    dtype: str
    unit: str = ""
    default: Any = None
    required: bool = False
    description: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    ref: str | None = None
    wildcard: bool = False
    key: bool = False
    required_unless: str | None = None


@dataclass(frozen=True)
class Sheet:
    """One input sheet: its columns, whether it must exist, and what it is for."""

    name: str
    columns: tuple[Column, ...]
    required: bool = False
    description: str = ""
    kind: str = "table"  # "table" or "settings" (key/value rows)
    # Two rows with the same ``keys`` are an error the validation reports (optimizer.io.validation).
    # False where a repeat has a meaning (rule sheets: the most specific rows win, on a tie FALSE,
    # §5.2) or where the sheet's own check names it better (Years must increase; Outcomes).
    unique: bool = True

    @property
    def column_names(self) -> tuple[str, ...]:
        """Header names in declaration order."""
        return tuple(c.name for c in self.columns)

    @property
    def keys(self) -> tuple[str, ...]:
        """Columns that identify a row (repeats are an error where ``unique``)."""
        return tuple(c.name for c in self.columns if c.key)

    def column(self, name: str) -> Column:
        """The declaration of column ``name`` (KeyError if unknown)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass(frozen=True)
class Setting:
    """One key of the Settings sheet."""

    key: str
    dtype: str
    default: Any
    description: str
    unit: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()


C = Column

MAX_THREADS = 256
"""Most solver threads accepted (Settings ``threads``, ``--threads``): HiGHS starts them all at once,
and 100,000 of them hang or abort the process."""

MAX_MGA_SLACK = 10.0
"""Largest cost slack ε of the alternatives (Settings ``mga_slack``, ``--slack``): plans up to eleven
times the least cost. Far beyond any near-optimal question, and it keeps the cost bound a finite
number for HiGHS (which reads 1e20 and above as no bound: ``--slack 1e300`` solved unbounded plans)."""

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "base_year", "int", None, "year to which money is discounted (default: first model year)"
    ),
    Setting("discount_rate", "float", 0.05, "social discount rate d", "fraction", 0.0, 1.0),
    Setting(
        "last_period_length",
        "int",
        None,
        "years the last model year stands for (default: the last step between model years, or 1)",
        "years",
        1,
    ),
    Setting(
        "unserved_penalty_usd",
        "float",
        200000.0,
        "penalty per H100e-year of unserved demand where Demand gives no value_usd",
        "$/H100e-yr",
        0.0,
    ),
    Setting(
        "it_load_factor",
        "float",
        1.0,
        "average share of nameplate IT power that running accelerators draw (0 < λ ≤ 1; "
        "the data-center capacity and the firm-capacity peak stay at nameplate)",
        "fraction",
        0.0,
        1.0,
    ),
    Setting(
        "market_finance",
        "bool",
        True,
        "capital not covered by partners may come from the market at the region's wacc",
    ),
    Setting(
        "integer_modules", "bool", True, "build techs with a module_size in whole modules (MIP)"
    ),
    Setting("bet_mode", "enum", "stochastic", "how R&D bets are treated (§8)", choices=BET_MODES),
    Setting("time_limit_s", "float", None, "solver time limit", "s", 0.0),
    Setting(
        "mip_gap", "float", 1e-4, "relative MIP gap at which the solver stops", "fraction", 0.0, 1.0
    ),
    Setting(
        "threads", "int", None, "solver threads (default: the solver's choice)", "", 1, MAX_THREADS
    ),
    Setting(
        "mga_slack",
        "float",
        0.05,
        "near-optimal alternatives: plans may cost up to (1 + mga_slack) times the least cost (§10)",
        "fraction",
        0.0,
        MAX_MGA_SLACK,
    ),
    Setting(
        "stage_year",
        "int",
        None,
        "hedging plans: decisions of model years before it are taken before the outcome is known "
        "(default: the earliest bet available_year, else the second model year) (§8.1)",
        "year",
    ),
    Setting(
        "cvar_weight",
        "float",
        0.0,
        "hedging plans: weight beta of CVaR in the objective E[cost] + beta * CVaR_alpha[cost] (§8.1)",
        "",
        0.0,
    ),
    Setting(
        "cvar_alpha",
        "float",
        0.9,
        "hedging plans: CVaR confidence level alpha; the worst 1 - alpha of probability is averaged (§8.1)",
        "fraction",
        0.0,
    ),
)
SETTINGS_BY_KEY = {s.key: s for s in SETTINGS}

_BOOL_DOC = "TRUE/FALSE"

SHEETS: tuple[Sheet, ...] = (
    Sheet(
        "Settings",
        (
            C("key", "id", required=True, key=True, description="setting name"),
            C("value", "text", description="setting value"),
        ),
        required=True,
        description="Model-wide settings as key/value rows.",
        kind="settings",
    ),
    Sheet(
        "Years",
        (
            C(
                "year",
                "int",
                "year",
                required=True,
                key=True,
                description="model year (strictly increasing)",
            ),
            C("carbon_price_usd", "float", "$/tCO2", 0.0, min=0.0, description="carbon price"),
            C(
                "co2_cap_t",
                "float",
                "tCO2/yr",
                None,
                min=0.0,
                description="coalition emission cap (blank = none)",
            ),
        ),
        required=True,
        description="The model years; each stands for the years up to the next one.",
        unique=False,
    ),
    Sheet(
        "Regions",
        (
            C("region", "id", required=True, key=True, description="region id"),
            C("name", "text", description="display name"),
            C(
                "coalition",
                "bool",
                _BOOL_DOC,
                True,
                description="member of the coalition (a player in §9)",
            ),
            C(
                "wacc",
                "float",
                "fraction",
                0.08,
                min=0.0,
                max=1.0,
                description="market cost of capital in this region",
            ),
            C(
                "pue",
                "float",
                "ratio",
                1.2,
                min=1.0,
                description="data-center power usage effectiveness",
            ),
            C("grid_max_mw", "float", "MW", 0.0, min=0.0, description="grid import limit"),
            C(
                "grid_price_usd",
                "float",
                "$/MWh",
                0.0,
                min=0.0,
                description="grid electricity price",
            ),
            C("grid_co2_t", "float", "tCO2/MWh", 0.0, min=0.0, description="grid emission factor"),
            C(
                "chips_external_allowed",
                "bool",
                _BOOL_DOC,
                True,
                description="may buy commodities from outside the coalition",
            ),
            C(
                "reexport",
                "bool",
                _BOOL_DOC,
                True,
                description="FALSE = ships out only what it makes or buys (nothing received passes "
                "through, constraint 9a)",
            ),
            C(
                "min_domestic_training",
                "float",
                "share",
                0.0,
                min=0.0,
                max=1.0,
                description="share of served training demand hosted at home",
            ),
            C(
                "min_domestic_inference",
                "float",
                "share",
                0.0,
                min=0.0,
                max=1.0,
                description="share of served inference demand hosted at home",
            ),
            C(
                "min_clean_share",
                "float",
                "share",
                0.0,
                min=0.0,
                max=1.0,
                description="share of load met by clean generation",
            ),
            C(
                "reserve_margin",
                "float",
                "fraction",
                None,
                min=0.0,
                description="firm capacity + grid_max must cover (1 + margin) x peak load "
                "(constraint 15; blank = no requirement, 0 = cover the peak)",
            ),
        ),
        required=True,
        description="Countries or regions: where things can be built and whose demand is served.",
    ),
    Sheet(
        "TimeSlices",
        (
            C(
                "slice",
                "id",
                required=True,
                key=True,
                description="slice id (one hour), in chronological order",
            ),
            C("day", "id", required=True, description="representative day the slice belongs to"),
            C(
                "hours",
                "float",
                "h/yr",
                required=True,
                min=0.0,
                description="hours of the year the slice stands for (sum 8760)",
            ),
        ),
        required=True,
        description="Hourly slices grouped in representative days.",
    ),
    Sheet(
        "Technologies",
        (
            C("tech", "id", required=True, key=True, description="technology id"),
            C(
                "class",
                "enum",
                required=True,
                choices=TECH_CLASSES,
                description="power|storage|fab|datacenter",
            ),
            C(
                "life",
                "float",
                "years",
                required=True,
                min=1.0,
                description="economic and technical life",
            ),
            C("lead", "float", "years", 0.0, min=0.0, description="years from build to operation"),
            C(
                "module_size",
                "float",
                "capacity",
                None,
                min=0.0,
                description="whole-module size (blank = continuous)",
            ),
            C(
                "variable_cost_usd",
                "float",
                "$/MWh or $/unit",
                0.0,
                min=0.0,
                description="variable cost per MWh (power) or per unit of output (fab)",
            ),
            C(
                "co2_t",
                "float",
                "tCO2/MWh",
                0.0,
                min=0.0,
                description="emissions per MWh generated",
            ),
            C("clean", "bool", _BOOL_DOC, False, description="counts toward min_clean_share"),
            C(
                "availability",
                "float",
                "0..1",
                1.0,
                min=0.0,
                max=1.0,
                description="availability of a power tech without profile",
            ),
            C(
                "duration_h",
                "float",
                "h",
                None,
                min=0.0,
                description="storage energy / power (required for storage)",
            ),
            C(
                "efficiency",
                "float",
                "0..1",
                1.0,
                min=0.0,
                max=1.0,
                description="storage round-trip efficiency (applied on charge)",
            ),
            C("output", "id", description="fab: commodity made"),
            C(
                "electricity_mwh",
                "float",
                "MWh/unit",
                0.0,
                min=0.0,
                description="fab: electricity per unit of output",
            ),
            C(
                "max_region_share",
                "float",
                "share",
                None,
                min=0.0,
                max=1.0,
                description="fab: max share of coalition production in one region",
            ),
            C(
                "capacity_credit",
                "float",
                "0..1",
                None,
                min=0.0,
                max=1.0,
                description="power and storage: share of capacity counted as firm in constraint 15 "
                "(blank = availability)",
            ),
        ),
        required=True,
        description="Every buildable asset: power plants, storage, fabs and data centers.",
    ),
    Sheet(
        "FabInputs",
        (
            C(
                "tech",
                "id",
                required=True,
                key=True,
                ref="Technologies.tech",
                description="fab tech",
            ),
            C("commodity", "id", required=True, key=True, description="input commodity"),
            C(
                "year",
                "int",
                "year",
                key=True,
                wildcard=True,
                description="year the bill of materials applies to (blank = all; interpolated)",
            ),
            C(
                "quantity",
                "float",
                "units/unit",
                required=True,
                min=0.0,
                description="input per unit of output made in that year",
            ),
        ),
        description="Bill of materials of each fab, by year (resolved by §4.2 with key tech, "
        "commodity).",
    ),
    Sheet(
        "TechCosts",
        (
            C(
                "tech",
                "id",
                required=True,
                key=True,
                ref="Technologies.tech",
                description="technology",
            ),
            C(
                "region",
                "id",
                key=True,
                wildcard=True,
                ref="Regions.region",
                description="region (blank = all)",
            ),
            C(
                "year",
                "int",
                "year",
                key=True,
                wildcard=True,
                description="year (blank = all; interpolated)",
            ),
            C(
                "capex_musd",
                "float",
                "$M per unit of capacity",
                min=0.0,
                description="capital cost (blank everywhere = cannot be built)",
            ),
            C(
                "fixed_om_musd",
                "float",
                "$M per unit per yr",
                min=0.0,
                description="fixed O&M (default 0)",
            ),
            C("max_build", "float", "capacity/yr", min=0.0, description="build limit per year"),
            C(
                "max_capacity",
                "float",
                "capacity",
                min=0.0,
                description="limit on total capacity incl. existing",
            ),
        ),
        required=True,
        description="Costs and limits by tech, region and year (resolved by §4.2).",
    ),
    Sheet(
        "Profiles",
        (
            C(
                "tech",
                "id",
                required=True,
                key=True,
                ref="Technologies.tech",
                description="power tech",
            ),
            C(
                "region",
                "id",
                key=True,
                wildcard=True,
                ref="Regions.region",
                description="region (blank = all)",
            ),
            C("slice", "id", required=True, key=True, ref="TimeSlices.slice", description="slice"),
            C(
                "cf",
                "float",
                "0..1",
                required=True,
                min=0.0,
                max=1.0,
                description="availability in that hour",
            ),
        ),
        description="Hourly availability of power techs.",
    ),
    Sheet(
        "ExistingCapacity",
        (
            C("tech", "id", required=True, ref="Technologies.tech", description="technology"),
            C("region", "id", required=True, ref="Regions.region", description="region"),
            C(
                "capacity",
                "float",
                "capacity",
                required=True,
                min=0.0,
                description="installed capacity",
            ),
            C(
                "start_year",
                "int",
                "year",
                description="available from this model year on (blank = always; a committed "
                "project under construction)",
            ),
            C(
                "retire_year",
                "int",
                "year",
                description="available in model years before this (blank = never)",
            ),
        ),
        description="Capacity already installed.",
    ),
    Sheet(
        "ExistingFleet",
        (
            C("region", "id", required=True, ref="Regions.region", description="region"),
            C("h100e", "float", "H100e", required=True, min=0.0, description="installed compute"),
            C("kw_it", "float", "kW", required=True, min=0.0, description="IT power of that fleet"),
            C(
                "start_year",
                "int",
                "year",
                description="available from this model year on (blank = always; a committed "
                "project under construction)",
            ),
            C(
                "retire_year",
                "int",
                "year",
                description="available in model years before this (blank = never)",
            ),
        ),
        description="Accelerators already installed.",
    ),
    Sheet(
        "Accelerators",
        (
            C(
                "year",
                "int",
                "year",
                key=True,
                wildcard=True,
                description="vintage (blank = every vintage; interpolated)",
            ),
            C(
                "h100e_per_chip",
                "float",
                "H100e/chip",
                required=True,
                min=0.0,
                description="compute per chip",
            ),
            C(
                "kw_per_chip",
                "float",
                "kW/chip",
                required=True,
                min=0.0,
                description="IT power per chip incl. server and network",
            ),
            C(
                "system_capex_usd",
                "float",
                "$/chip",
                0.0,
                min=0.0,
                description="system capex per chip excluding the accelerator",
            ),
            C("life", "float", "years", 5.0, min=1.0, description="accelerator life"),
        ),
        required=True,
        description="Accelerator vintages (resolved for every model year by §4.2).",
    ),
    Sheet(
        "Commodities",
        (
            C("commodity", "id", required=True, key=True, description="commodity id"),
            C(
                "year",
                "int",
                "year",
                key=True,
                wildcard=True,
                description="year (blank = all; interpolated)",
            ),
            C(
                "external_price_usd",
                "float",
                "$/unit",
                min=0.0,
                description="price outside the coalition (blank = cannot buy)",
            ),
            C(
                "external_max",
                "float",
                "units/yr",
                min=0.0,
                description="limit on external purchases (blank = none)",
            ),
        ),
        required=True,
        description="What can be bought from outside the coalition.",
    ),
    Sheet(
        "ChipRoutes",
        (
            C(
                "from",
                "id",
                key=True,
                wildcard=True,
                ref="Regions.region",
                description="origin (blank = all)",
            ),
            C(
                "to",
                "id",
                key=True,
                wildcard=True,
                ref="Regions.region",
                description="destination (blank = all)",
            ),
            C("commodity", "id", key=True, wildcard=True, description="commodity (blank = all)"),
            C("allowed", "bool", _BOOL_DOC, True, description="FALSE = export control"),
            C("cost_usd", "float", "$/unit", 0.0, min=0.0, description="shipping cost"),
        ),
        description="Shipping rules between regions.",
        unique=False,
    ),
    Sheet(
        "ComputeRoutes",
        (
            C(
                "host",
                "id",
                key=True,
                wildcard=True,
                ref="Regions.region",
                description="host region (blank = all)",
            ),
            C(
                "consumer",
                "id",
                key=True,
                wildcard=True,
                ref="Regions.region",
                description="consumer region (blank = all)",
            ),
            C(
                "segment",
                "enum",
                key=True,
                wildcard=True,
                choices=SEGMENTS,
                description="training|inference (blank = both)",
            ),
            C("allowed", "bool", _BOOL_DOC, True, description="FALSE = may not serve"),
        ),
        description="Which hosts may serve which consumers.",
        unique=False,
    ),
    Sheet(
        "Demand",
        (
            C(
                "region",
                "id",
                key=True,
                wildcard=True,
                ref="Regions.region",
                description="consumer region",
            ),
            C(
                "segment",
                "enum",
                key=True,
                wildcard=True,
                choices=SEGMENTS,
                description="training|inference",
            ),
            C("year", "int", "year", key=True, wildcard=True, description="year (interpolated)"),
            C(
                "h100e",
                "float",
                "H100e",
                required=True,
                required_unless="value_usd",
                min=0.0,
                description="compute capacity needed through the year (may be blank in a row that "
                "gives value_usd)",
            ),
            C(
                "value_usd",
                "float",
                "$/H100e-yr",
                None,
                min=0.0,
                description="what this demand is worth: the cost of leaving an H100e-year unserved "
                "(blank everywhere = Settings unserved_penalty_usd)",
            ),
        ),
        required=True,
        description="AI compute demand and what it is worth (no rows = zero demand).",
    ),
    Sheet(
        "GridAccess",
        (
            C(
                "region",
                "id",
                key=True,
                wildcard=True,
                ref="Regions.region",
                description="region (blank = all)",
            ),
            C(
                "year",
                "int",
                "year",
                key=True,
                wildcard=True,
                description="year (blank = all; interpolated)",
            ),
            C(
                "max_mw",
                "float",
                "MW",
                min=0.0,
                description="grid power the region can draw (blank = Regions grid_max_mw)",
            ),
            C(
                "price_usd",
                "float",
                "$/MWh",
                min=0.0,
                description="grid electricity price (blank = Regions grid_price_usd)",
            ),
            C(
                "co2_t",
                "float",
                "tCO2/MWh",
                min=0.0,
                description="grid emission factor (blank = Regions grid_co2_t)",
            ),
        ),
        description="Grid access by region and year (§4.2, key region): the region's rows win over "
        "all-region rows, which win over the Regions columns.",
    ),
    Sheet(
        "ImportLimits",
        (
            C("commodity", "id", required=True, key=True, description="commodity capped"),
            C(
                "region",
                "id",
                key=True,
                wildcard=True,
                ref="Regions.region",
                description="receiving region (blank = each region on its own)",
            ),
            C(
                "year",
                "int",
                "year",
                key=True,
                wildcard=True,
                description="year (blank = all; interpolated)",
            ),
            C(
                "max_units",
                "float",
                "units/yr",
                required=True,
                min=0.0,
                description="most the region may receive per year, shipped in and bought together",
            ),
        ),
        description="Country caps on what a region receives (constraint 9b; §4.2, key commodity, "
        "region; no row = no cap).",
    ),
    Sheet(
        "Partners",
        (
            C("partner", "id", required=True, key=True, description="partner id"),
            C(
                "wacc",
                "float",
                "fraction",
                required=True,
                min=0.0,
                max=1.0,
                description="partner's cost of capital",
            ),
            C("home_region", "id", ref="Regions.region", description="home region (for §9)"),
        ),
        description="Financing partners.",
    ),
    Sheet(
        "PartnerBudgets",
        (
            C(
                "partner",
                "id",
                required=True,
                key=True,
                ref="Partners.partner",
                description="partner",
            ),
            C(
                "year",
                "int",
                "year",
                key=True,
                wildcard=True,
                description="year (blank = all; interpolated)",
            ),
            C(
                "budget_musd",
                "float",
                "$M/yr",
                required=True,
                min=0.0,
                description="capital per year",
            ),
        ),
        description="Partner budgets per year.",
    ),
    Sheet(
        "PartnerRules",
        (
            C(
                "partner",
                "id",
                required=True,
                key=True,
                ref="Partners.partner",
                description="partner",
            ),
            C(
                "region",
                "id",
                key=True,
                wildcard=True,
                ref="Regions.region",
                description="region (blank = all)",
            ),
            C(
                "class",
                "enum",
                key=True,
                wildcard=True,
                choices=(*TECH_CLASSES, ACCELERATOR),
                description="asset class (blank = all)",
            ),
            C("allowed", "bool", _BOOL_DOC, required=True, description="may finance"),
        ),
        description="Where each partner's money may go.",
        unique=False,
    ),
    Sheet(
        "Bets",
        (
            C("bet", "id", required=True, key=True, description="bet id"),
            C(
                "tech",
                "id",
                required=True,
                ref="Technologies.tech",
                description="power tech it unlocks",
            ),
            C("rd_cost_musd", "float", "$M", 0.0, min=0.0, description="R&D cost if funded"),
            C(
                "decide_year",
                "int",
                "year",
                required=True,
                description="model year when funding is decided",
            ),
            C(
                "available_year",
                "int",
                "year",
                required=True,
                description="first year the tech can be built",
            ),
            C(
                "probability",
                "float",
                "0..1",
                required=True,
                min=0.0,
                max=1.0,
                description="probability of success",
            ),
        ),
        description="R&D bets (§8).",
    ),
    Sheet(
        "Scenarios",
        (
            C("scenario", "id", required=True, description="scenario name"),
            C("sheet", "id", required=True, description="sheet to change"),
            C("where", "text", description="key=value;key=value (blank = all rows)"),
            C("column", "id", required=True, description="column to change"),
            C("op", "enum", default="set", choices=OPS, description="set|scale|add"),
            C("value", "text", description="new value, factor or increment"),
        ),
        description="Named what-if changes (§7).",
    ),
    Sheet(
        "Outcomes",
        (
            C("outcome", "id", required=True, key=True, description="outcome id"),
            C(
                "probability",
                "float",
                "0..1",
                required=True,
                min=0.0,
                max=1.0,
                description="probability of this future (the column sums to 1)",
            ),
            C(
                "scenario",
                "id",
                description="the Scenarios entry that describes this future (blank = the base data)",
            ),
        ),
        description="Uncertain futures the hedging plan must hold up in (§8.1); with bet_mode "
        "stochastic the tree is these rows times the bet outcomes.",
        unique=False,
    ),
    Sheet(
        "Sweep",
        (
            C("parameter", "text", required=True, description="Sheet.column"),
            C("where", "text", description="key=value;key=value (blank = all rows)"),
            C("low", "float", required=True, description="low end"),
            C("high", "float", required=True, description="high end"),
            C("op", "enum", default="set", choices=OPS, description="set|scale|add"),
            C("steps", "int", default=3, min=1, description="grid points"),
        ),
        description="Ranges for sensitivity sweeps (§7).",
    ),
    Sheet(
        "Alternatives",
        (
            C(
                "name",
                "id",
                required=True,
                key=True,
                description="measure name (its row in Ranges)",
            ),
            C(
                "measure",
                "enum",
                required=True,
                choices=MGA_MEASURES,
                description="capacity|build (MW; fabs: units/yr), capital ($M), generation (MWh), "
                "deployed (accelerators), hosted (H100e served from the region)",
            ),
            C("tech", "id", wildcard=True, description="technology (blank = all)"),
            C(
                "class",
                "enum",
                wildcard=True,
                choices=(*TECH_CLASSES, ACCELERATOR),
                description="asset class (blank = all)",
            ),
            C(
                "region",
                "id",
                wildcard=True,
                ref="Regions.region",
                description="region (blank = all)",
            ),
            C("year", "int", "year", wildcard=True, description="model year (blank = all)"),
            C(
                "sense",
                "enum",
                default="both",
                choices=MGA_SENSES,
                description="minimise, maximise or both within the cost slack",
            ),
        ),
        description="Measures of near-optimal alternatives: each row's range within the cost slack (§10).",
    ),
)

SHEETS_BY_NAME: dict[str, Sheet] = {s.name: s for s in SHEETS}
REQUIRED_SHEETS = tuple(s.name for s in SHEETS if s.required)


@dataclass(frozen=True)
class Units:
    """The fixed units of DESIGN §3 (shown in the template's About sheet)."""

    rows: tuple[tuple[str, str], ...] = field(
        default=(
            ("money in capital and budgets", "$M (million US dollars, constant base-year dollars)"),
            ("per-item prices", "$ per unit (_usd columns), $/MWh, $/tCO2"),
            ("power", "MW; energy MWh; storage energy MWh"),
            ("compute", "H100e = one H100-equivalent of dense BF16 throughput"),
            ("chips and components", "units (dies, HBM stacks, accelerators)"),
            ("fab capacity", "units of its output commodity per year"),
            ("emissions", "tCO2"),
        )
    )


UNITS = Units()


RESULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "Summary": ("metric", "value"),
    "Capacity": ("tech", "class", "region", "year", "built", "capacity"),
    "Capital": ("partner", "tech", "region", "year", "musd"),
    "Chips": (
        "commodity",
        "region",
        "year",
        "produced",
        "bought",
        "shipped_in",
        "shipped_out",
        "deployed",
    ),
    "Trade": ("commodity", "from", "to", "year", "units"),
    "Compute": ("segment", "host", "consumer", "year", "served", "unserved"),
    "Fleet": (
        "region",
        "vintage",
        "year",
        "deployed",
        "active",
        "idle",
        "active_h100e",
        "idle_h100e",
    ),
    "Energy": ("region", "year", "tech", "mwh", "curtailed_mwh"),
    "Emissions": ("region", "year", "source", "tco2"),
    "Prices": ("price", "region", "segment", "year", "slice", "partner", "value", "unit"),
    "Bets": (
        "bet",
        "tech",
        "funded",
        "rd_cost_musd",
        "decide_year",
        "available_year",
        "probability",
    ),
    "Run": ("key", "value"),
}
"""Every results table and its columns, in sheet order (DESIGN §6): results.py fills them, report.py
writes them."""

UNSERVED_HOST = "(unserved)"
"""The ``host`` of the Compute rows that carry unserved demand."""
