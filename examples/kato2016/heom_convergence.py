#!/usr/bin/python3
"""HEOM convergence tables: the heat current of the first bath against the hierarchy depth (fixed number of
terms) and against the number of terms (fixed depth), for the gallery's parameters (docs/methods.md, "HEOM convergence tables").

Each entry is one model.solve("heom", heom_depth=D, heom_terms=K, heom_decomposition="pade"|"matsubara",
threads=1) of the Python package qheat (the computation of `qheat ness MODEL --method heom --heom-depth D
--heom-terms K --heom-decomposition pade|matsubara --threads 1 [--set ...]`, the command line the raw output
shows); the wall time of loading the model and solving, the CPU time of that thread (one BLAS thread: the solve
runs in the calling thread), its ADO count, the steady-state status, the first-law residual and the largest
|currents - system_currents| are kept. A depth scan stops after the first solve that takes longer than
--max-seconds. Cases (CASES below) are solved --jobs at a time in threads of this process (the solves release the
GIL), each case's entries in order. Writes JSON lines (--raw) and the markdown tables (--md, or standard output).

    /usr/bin/python3 examples/kato2016/heom_convergence.py [--build build/release] [--md FILE] [--raw FILE]
"""
import argparse
import concurrent.futures
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gallery_common import add_build_options, model_path, overrides, qheat_package  # noqa: E402

KATO = "examples/kato2016/two_qubits.toml"
ZHANG = "examples/zhang2025/two_qubits.toml"

# name, model, bath, --set values
CASES = [
    ("kato-lam0.01", KATO, "left", ["lam=0.01", "J12=0.1"]),
    ("kato-lam0.1", KATO, "left", ["lam=0.1", "J12=0.1"]),
    ("kato-lam0.5", KATO, "left", ["lam=0.5", "J12=0.1"]),
    ("zhang-T1=10", ZHANG, "hot", ["g=0.5", "T1=10", "T2=5"]),
    ("zhang-T1=105", ZHANG, "hot", ["g=0.5", "T1=105", "T2=5"]),
]


def solve(qheat, model, sets, depth, terms, decomposition="pade"):
    command = (f"qheat ness {model} --method heom --heom-depth {depth} --heom-terms {terms} --heom-decomposition "
               f"{decomposition} --threads 1" + "".join(f" --set {s}" for s in sets))
    entry = {"command": command, "depth": depth, "terms": terms, "decomposition": decomposition}
    t0, c0 = time.perf_counter(), time.thread_time()
    try:
        sol = qheat.load_model(model_path(model), **overrides(sets)).solve(
            "heom", heom_depth=depth, heom_terms=terms, heom_decomposition=decomposition, threads=1, state=False)
    except qheat.Error as e:
        entry.update(wall=time.perf_counter() - t0, cpu=time.thread_time() - c0, error=f"[{e.rule}] {e.message}")
        return entry
    entry.update(wall=time.perf_counter() - t0, cpu=time.thread_time() - c0)
    out = sol.as_dict()
    entry.update(currents=out["currents"], system_currents=out["heom"]["system_currents"],
                 ados=out["heom"]["ados"], unknowns=out["heom"]["unknowns"],
                 status=out["steady_state"]["status"], iterations=out["steady_state"].get("iterations"),
                 residual=out["steady_state"].get("residual"), first_law=out["first_law_residual"],
                 diagnostics=out["diagnostics"])
    entry["sys_diff"] = max(abs(out["currents"][b] - out["heom"]["system_currents"][b]) for b in out["currents"])
    return entry


def run_case(job):
    qheat, name, model, bath, sets, scans, max_seconds = job
    results = []
    for scan, points, decomposition in scans:
        for depth, terms in points:
            e = solve(qheat, model, sets, depth, terms, decomposition)
            e.update(case=name, bath=bath, scan=scan)
            results.append(e)
            print(f"{name} {scan} D={depth} K={terms} {decomposition}: "
                  f"{e.get('currents', {}).get(bath)} {e['wall']:.2f} s", file=sys.stderr, flush=True)
            if e["wall"] > max_seconds or "error" in e:
                break
    return results


def fmt_change(cur, prev):
    if prev is None:
        return "—"
    return f"{abs(cur - prev) / abs(cur):.1e}"


def table(entries, key, bath):
    head = "| " + key + " | ADOs | J | rel. change from previous | wall s | CPU s | status |"
    lines = [head, "|---:|---:|---:|---:|---:|---:|---|"]
    prev = None
    for e in entries:
        if "error" in e:
            lines.append(f"| {e[key]} | | error: {e['error']} | | {e['wall']:.2f} | {e['cpu']:.2f} | error |")
            continue
        j = e["currents"][bath]
        status = e["status"] + ("" if not e["diagnostics"] else
                                " (" + ", ".join(d["code"] for d in e["diagnostics"]) + ")")
        lines.append(f"| {e[key]} | {e['ados']} | {j:.10e} | {fmt_change(j, prev)} | {e['wall']:.2f} | "
                     f"{e['cpu']:.2f} | {status} |")
        prev = j
    return "\n".join(lines)


def main():
    ap = add_build_options(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    ap.add_argument("--jobs", type=int, default=2, help="solves at a time (threads)")
    ap.add_argument("--max-seconds", type=float, default=60.0)
    ap.add_argument("--max-depth", type=int, default=12)
    ap.add_argument("--depth-terms", type=int, default=2, help="terms K of the depth scans")
    ap.add_argument("--terms-depth", default="kato-lam0.01=4,kato-lam0.1=5,kato-lam0.5=6,zhang-T1=10=5,"
                    "zhang-T1=105=5", help="depth of each case's terms scan, CASE=D,...")
    ap.add_argument("--max-terms", type=int, default=6)
    ap.add_argument("--matsubara", default="kato-lam0.5,zhang-T1=105",
                    help="cases that also get a Matsubara terms scan at the terms-scan depth")
    ap.add_argument("--raw", help="JSON lines of every solve")
    ap.add_argument("--md", help="markdown tables (default: standard output)")
    args = ap.parse_args()
    qheat = qheat_package(args)
    terms_depth = dict(item.rsplit("=", 1) for item in args.terms_depth.split(","))
    matsubara = set(filter(None, args.matsubara.split(",")))
    jobs = []
    for name, model, bath, sets in CASES:
        td = int(terms_depth[name])
        scans = [("depth", [(d, args.depth_terms) for d in range(1, args.max_depth + 1)], "pade"),
                 ("terms", [(td, k) for k in range(0, args.max_terms + 1)], "pade")]
        if name in matsubara:
            scans.append(("terms-matsubara", [(td, k) for k in range(0, args.max_terms + 1)], "matsubara"))
        # the pade terms scan and the matsubara one run as separate jobs so that the pool stays busy
        for scan in scans:
            jobs.append((qheat, name, model, bath, sets, [scan], args.max_seconds))
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = [e for part in pool.map(run_case, jobs) for e in part]
    if args.raw:
        with open(args.raw, "w") as f:
            for e in results:
                f.write(json.dumps(e) + "\n")
    out = []
    for name, model, bath, sets in CASES:
        for scan, key in (("depth", "depth"), ("terms", "terms"), ("terms-matsubara", "terms")):
            es = [e for e in results if e["case"] == name and e["scan"] == scan]
            if not es:
                continue
            fixed = (f"K = {es[0]['terms']} {es[0]['decomposition']} terms" if key == "depth"
                     else f"depth {es[0]['depth']}, {es[0]['decomposition']}")
            out.append(f"### {name}: J_{bath} against {key} ({fixed}; {model}, --set {' '.join(sets)})\n")
            out.append(table(es, key, bath) + "\n")
    text = "\n".join(out)
    if args.md:
        with open(args.md, "w") as f:
            f.write(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
