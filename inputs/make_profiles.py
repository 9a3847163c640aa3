"""Regenerate ``inputs/base/TimeSlices.csv`` and ``inputs/base/Profiles.csv`` deterministically.

Representative days
-------------------
Four representative days (``d1`` mid-January, ``d2`` mid-April, ``d3`` mid-July, ``d4`` mid-October), each of
24 hourly slices ``dNhHH`` in local standard time. Every slice stands for 8760 / 96 = 91.25 hours of the year,
so the ``hours`` column sums to exactly 8760.

Solar
-----
For each region, one representative site (latitude, longitude, elevation below). pvlib's solar-position model
(``Location.get_solarposition``, NREL SPA) and the *simplified Solis* clear-sky model (``Location.get_clearsky``,
which needs no downloaded turbidity data) give GHI/DNI/DHI every 5 minutes on the day; the plane-of-array
irradiance on a south-facing panel tilted at the site latitude (``pvlib.irradiance.get_total_irradiance``,
isotropic sky, albedo 0.2) is averaged over each hour and divided by 1000 W/m2. The clear-sky shape is then
multiplied by one factor per region so that the annual capacity factor, sum(hours * cf) / 8760, equals the
country's solar CF in ``shared/data/default_country_tech.csv`` (the factor stands for clouds, dust, soiling,
temperature and inverter losses; values are clipped to 1 and the factor is re-fitted until the CF matches).

Wind
----
No weather data can be downloaded here, so onshore wind uses a documented synthetic shape: a seasonal level
(winter 1.25, spring 1.05, summer 0.75, autumn 0.95, the usual northern-hemisphere pattern of stronger winter
winds) times a diurnal swing of +/-15 % peaking at 03:00 local time (stable nocturnal low-level jets over land),
scaled per region to the wind CF of ``default_country_tech.csv`` and clipped to 0..1.

Values below 1 % are written as 0 (dawn and dusk slivers: they carry < 0.1 % of the energy and would put
coefficients of 1e-4 into the solver's matrix); the scale factor is re-fitted afterwards, and values are
rounded to 4 decimals, so each annual CF matches its target within 1e-4.

Run ``python inputs/make_profiles.py`` from the repository root (needs ``pip install pvlib``, the ``data`` extra).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "base"

# Representative days: (day id, month, day of month).
DAYS = (("d1", 1, 15), ("d2", 4, 15), ("d3", 7, 15), ("d4", 10, 15))
YEAR = 2030  # any non-leap year; only the sun's geometry on these dates matters
HOURS_PER_SLICE = 8760.0 / (len(DAYS) * 24)

# Representative site per region: latitude, longitude, elevation (m), UTC offset of local standard time (h).
SITES = {
    "USA": (32.45, -99.73, 520, -6),  # Abilene TX (Stargate site)
    "ARE": (24.45, 54.38, 10, 4),  # Abu Dhabi (UAE-US AI campus)
    "SAU": (24.71, 46.68, 610, 3),  # Riyadh
    "TWN": (24.15, 120.67, 80, 8),  # Taichung
    "KOR": (36.35, 127.38, 60, 9),  # Daejeon
    "JPN": (35.68, 139.69, 40, 9),  # Tokyo
    "DEU": (50.11, 8.68, 110, 1),  # Frankfurt
    "FRA": (46.60, 2.40, 200, 1),  # central France
    "SWE": (59.33, 18.07, 30, 1),  # Stockholm
    "IND": (19.08, 72.88, 15, 5.5),  # Mumbai
}

# Annual capacity factors, shared/data/default_country_tech.csv (solar_pv_utility, wind_onshore).
SOLAR_CF = {
    "USA": 0.25,
    "ARE": 0.22,
    "SAU": 0.23,
    "TWN": 0.14,
    "KOR": 0.15,
    "JPN": 0.145,
    "DEU": 0.11,
    "FRA": 0.14,
    "SWE": 0.10,
    "IND": 0.20,
}
WIND_CF = {
    "USA": 0.38,
    "ARE": 0.25,
    "SAU": 0.33,
    "TWN": 0.28,
    "KOR": 0.25,
    "JPN": 0.22,
    "DEU": 0.24,
    "FRA": 0.25,
    "SWE": 0.32,
    "IND": 0.27,
}

WIND_SEASON = {"d1": 1.25, "d2": 1.05, "d3": 0.75, "d4": 0.95}
WIND_DIURNAL_AMPLITUDE = 0.15
WIND_PEAK_HOUR = 3


def slice_ids() -> list[tuple[str, str]]:
    """(slice, day) in chronological order."""
    return [(f"{d}h{h:02d}", d) for d, _, _ in DAYS for h in range(24)]


MIN_CF = 0.01  # dawn/dusk slivers below 1 % are set to 0 (keeps solver coefficients >= 1e-2)


def fit_scale(shape: np.ndarray, target: float) -> np.ndarray:
    """Scale ``shape`` (one value per slice) so its hour-weighted mean is ``target``.

    Values are clipped at 1, values below ``MIN_CF`` become 0, and the factor is re-fitted until the
    mean (all slices have equal hours) matches ``target``.
    """

    def shaped(scale: float) -> np.ndarray:
        cf = np.clip(shape * scale, 0.0, 1.0)
        cf[cf < MIN_CF] = 0.0
        return cf

    scale = target / shape.mean()
    for _ in range(200):
        mean = shaped(scale).mean()
        if abs(mean - target) < 1e-9:
            break
        scale *= target / mean
    return shaped(scale)


def solar_shape(lat: float, lon: float, elev: float, utc_offset: float) -> np.ndarray:
    """Clear-sky plane-of-array irradiance / 1000 W/m2, hourly means, for the four days."""
    import pvlib

    loc = pvlib.location.Location(lat, lon, altitude=elev)
    values = []
    for _, month, dom in DAYS:
        start = pd.Timestamp(YEAR, month, dom) - pd.Timedelta(hours=utc_offset)
        times = pd.date_range(start, periods=24 * 12, freq="5min", tz="UTC")
        sp = loc.get_solarposition(times)
        cs = loc.get_clearsky(times, model="simplified_solis", solar_position=sp)
        poa = (
            pvlib.irradiance.get_total_irradiance(
                surface_tilt=abs(lat),
                surface_azimuth=180.0,
                solar_zenith=sp["apparent_zenith"],
                solar_azimuth=sp["azimuth"],
                dni=cs["dni"],
                ghi=cs["ghi"],
                dhi=cs["dhi"],
                albedo=0.2,
            )["poa_global"]
            .fillna(0.0)
            .clip(lower=0.0)
        )
        hourly = poa.to_numpy().reshape(24, 12).mean(axis=1) / 1000.0
        values.append(hourly)
    return np.concatenate(values)


def wind_shape() -> np.ndarray:
    """Synthetic onshore-wind shape, one value per slice (mean need not be 1)."""
    out = []
    for d, _, _ in DAYS:
        h = np.arange(24)
        out.append(
            WIND_SEASON[d]
            * (1 + WIND_DIURNAL_AMPLITUDE * np.cos(2 * np.pi * (h - WIND_PEAK_HOUR) / 24))
        )
    return np.concatenate(out)


def build() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The TimeSlices and Profiles tables."""
    ids = slice_ids()
    slices = pd.DataFrame(
        {"slice": [s for s, _ in ids], "day": [d for _, d in ids], "hours": HOURS_PER_SLICE}
    )
    rows = []
    wind = wind_shape()
    for region, (lat, lon, elev, off) in SITES.items():
        solar = fit_scale(solar_shape(lat, lon, elev, off), SOLAR_CF[region])
        wcf = fit_scale(wind, WIND_CF[region])
        for tech, cf in (("solar", solar), ("wind", wcf)):
            for (sid, _), v in zip(ids, cf, strict=True):
                rows.append(
                    {"tech": tech, "region": region, "slice": sid, "cf": round(float(v), 4)}
                )
    return slices, pd.DataFrame(rows)


def main() -> None:
    slices, profiles = build()
    OUT.mkdir(parents=True, exist_ok=True)
    slices.to_csv(OUT / "TimeSlices.csv", index=False)
    profiles.to_csv(OUT / "Profiles.csv", index=False)
    check = profiles.groupby(["tech", "region"])["cf"].mean()
    print(f"wrote {len(slices)} slices and {len(profiles)} profile rows; annual CF by tech/region:")
    print(check.round(3).to_string())


if __name__ == "__main__":
    main()
