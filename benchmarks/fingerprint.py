"""Fingerprints of the built model: proof that a refactoring left the mathematics bit-identical.

Usage::

    python benchmarks/fingerprint.py --out fp.json [--only tiny,S] [--solve tiny,S,M]
    python benchmarks/fingerprint.py --compare fp.json [--only ...]      # exit 1 on any difference

For each instance (``tiny``: tests/data/tiny; ``tiny_stochastic``: the same with ``bet_mode``
stochastic; ``tiny_v2``: tests/data/tiny_v2, every v2 sheet and column; ``S``, ``M``, ``L``: generated as ``benchmarks/run.py`` generates them; ``base``:
inputs/base.xlsx) it builds the model, compiles the standard form that ``solve`` hands to HiGHS and
records the number of rows, columns and nonzeros and a SHA-256 of each array (matrix data, indices
and pointers, column bounds, costs and offset, row bounds, integrality) and of the column and row
names. ``--solve`` adds the objective (one thread) of the named instances. Two fingerprints are equal
only if every bit of those arrays is.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

INSTANCES = ("tiny", "tiny_stochastic", "tiny_v2", "S", "M", "L", "base")


def _sha(a: Any) -> str:
    return hashlib.sha256(np.ascontiguousarray(np.asarray(a)).tobytes()).hexdigest()[:16]


def _names_sha(items: Any) -> str:
    h = hashlib.sha256()
    for x in items:
        h.update(x.encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def _data(name: str, workdir: Path) -> Any:
    from dataclasses import replace

    from generate import generate, spec_for

    from optimizer.data_io import load_inputs

    if name == "tiny_v2":
        return load_inputs(ROOT / "tests" / "data" / "tiny_v2")
    if name in ("tiny", "tiny_stochastic"):
        data = load_inputs(ROOT / "tests" / "data" / "tiny")
        if name == "tiny_stochastic":
            data = replace(data, settings=replace(data.settings, bet_mode="stochastic"))
        return data
    if name == "base":
        return load_inputs(ROOT / "inputs" / "base.xlsx")
    folder = workdir / name
    generate(spec_for(name), folder)
    return load_inputs(folder)


def fingerprint(name: str, workdir: Path, solve_it: bool) -> dict[str, Any]:
    """Build ``name``, compile its standard form and hash it (and solve it if ``solve_it``)."""
    from optimizer.model import build_model
    from optimizer.solve import SolveOptions, compile_model, solve

    data = _data(name, workdir)
    t0 = time.perf_counter()
    model = build_model(data)
    t1 = time.perf_counter()
    sf = compile_model(model)
    t2 = time.perf_counter()
    lp = sf.lp
    a = lp.a_matrix_
    out: dict[str, Any] = {
        "rows": int(lp.num_row_),
        "cols": int(lp.num_col_),
        "nnz": len(a.value_),
        "a_value": _sha(np.asarray(a.value_, dtype=np.float64)),
        "a_index": _sha(np.asarray(a.index_, dtype=np.int64)),
        "a_start": _sha(np.asarray(a.start_, dtype=np.int64)),
        "col_cost": _sha(np.asarray(lp.col_cost_, dtype=np.float64)),
        "offset": float(lp.offset_).hex(),
        "col_lower": _sha(np.asarray(lp.col_lower_, dtype=np.float64)),
        "col_upper": _sha(np.asarray(lp.col_upper_, dtype=np.float64)),
        "row_lower": _sha(np.asarray(lp.row_lower_, dtype=np.float64)),
        "row_upper": _sha(np.asarray(lp.row_upper_, dtype=np.float64)),
        "integrality": _sha(np.asarray([int(x) for x in lp.integrality_], dtype=np.int64)),
        "col_names": _names_sha(v.name for v in sf.columns),
        "row_names": _names_sha(sf.rows[i].constraint.name for i in range(len(sf.rows))),
    }
    timing = {"build_s": round(t1 - t0, 2), "handoff_s": round(t2 - t1, 2)}
    if solve_it:
        sol = solve(model, SolveOptions(threads=1, explain=False))
        out["objective"] = None if sol.objective is None else float(sol.objective).hex()
        out["status"] = sol.status
    return {"fingerprint": out, "timing": timing}


def main(argv: list[str] | None = None) -> int:
    """Command line (module doc)."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", default=",".join(INSTANCES), help="comma-separated instances")
    ap.add_argument("--solve", default="", help="comma-separated instances to also solve")
    ap.add_argument("--out", type=Path, help="write the fingerprints here (JSON)")
    ap.add_argument("--compare", type=Path, help="compare with a fingerprint file written before")
    args = ap.parse_args(argv)
    names = [n for n in args.only.split(",") if n]
    solve_names = {n for n in args.solve.split(",") if n}
    base = json.loads(args.compare.read_text()) if args.compare else {}
    result: dict[str, Any] = {}
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            got = fingerprint(name, Path(tmp), name in solve_names)
            result[name] = got["fingerprint"]
            line = f"{name}: {got['fingerprint']['rows']} rows, {got['fingerprint']['cols']} cols, "
            line += f"{got['fingerprint']['nnz']} nnz, {got['timing']}"
            if name in base:
                want = base[name]
                diff = [
                    k for k in got["fingerprint"] if k in want and want[k] != got["fingerprint"][k]
                ]
                line += "  DIFFERS in " + ",".join(diff) if diff else "  identical"
                bad += bool(diff)
            print(line, flush=True)
    if args.out:
        old = json.loads(args.out.read_text()) if args.out.exists() else {}
        old.update(result)
        args.out.write_text(json.dumps(old, indent=1, sort_keys=True) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
