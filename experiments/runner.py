"""What every `experiments/*_variants.py` script shares: the command line, `--set` overrides,
running variants in a process pool, and writing one JSON per variant plus results.json.

A script supplies its variants (name -> overrides of its params.yaml section), a function that
trains and scores one variant, and a function formatting one result as a table row.
"""

from __future__ import annotations

import argparse
import json
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable

from ganaudio.config import deep_merge

# run(name, overrides, params_path, data_dir, out_dir, threads) -> result dict (JSON-able)
RunVariant = Callable[[str, dict, str, str, str, int], dict]


def parse_sets(items: list[str]) -> dict:
    """["train.steps=800", 'model.d=24'] -> {"train": {"steps": 800}, "model": {"d": 24}} (values are JSON)."""
    out: dict = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set {item!r}: write KEY=JSON, e.g. train.steps=800")
        node: dict = {}
        cur = node
        *path, last = key.split(".")
        for k in path:
            cur = cur.setdefault(k, {})
        try:
            cur[last] = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(f"--set {item!r}: {value!r} is not JSON (quote strings: '\"nearest\"')") from None
        out = deep_merge(out, node)
    return out


def load_now() -> str:
    """The 1/5/15-minute load averages, to label a speed measurement with the machine's state."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def save_result(out: str | Path, result: dict) -> None:
    """<out>/<variant>.json, written as soon as a variant finishes (kept if a later one fails)."""
    (Path(out) / f"{result['variant']}.json").write_text(json.dumps(result, indent=2))


def cli(doc: str, variants: dict[str, dict], run: RunVariant, row: Callable[[dict], str], header: str,
        data_flag: str, data_default: str, default_variants: list[str], argv=None) -> int:
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("variants", nargs="*", default=default_variants)
    ap.add_argument("--out", default="experiments/out")
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument(f"--{data_flag}", dest="data", default=data_default)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads per variant")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                    help="override for every variant, e.g. train.steps=800")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args(argv)
    if args.list:
        for name, o in variants.items():
            print(f"{name:24s} {json.dumps(o)}")
        return 0
    unknown = [v for v in args.variants if v not in variants]
    if unknown:
        ap.error(f"unknown variants {unknown}; --list shows them")
    try:
        common = parse_sets(args.set)
    except ValueError as e:
        ap.error(str(e))
    Path(args.out).mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run, v, deep_merge(variants[v], common), args.params, args.data, args.out,
                               args.threads) for v in args.variants]
        for f in as_completed(futures):
            print(row(f.result()), flush=True)
        results = [f.result() for f in futures]
    (Path(args.out) / "results.json").write_text(json.dumps(results, indent=2))
    print(header)
    for r in results:
        print(row(r))
    return 0
