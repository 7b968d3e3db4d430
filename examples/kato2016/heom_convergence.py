#!/usr/bin/python3
"""HEOM convergence tables: the heat current of the first bath against the hierarchy depth (fixed number of
terms) and against the number of terms (fixed depth), for the gallery's parameters (docs/methods.md, "HEOM convergence tables").

Each entry is one `qheat ness MODEL --method heom --heom-depth D --heom-terms K --heom-decomposition pade|matsubara
--threads 1 [--set ...]`; the wall and CPU time of that process, its ADO count, the steady-state status, the
first-law residual and the largest |currents - system_currents| are kept. A depth scan stops after the first
solve that takes longer than --max-seconds. Cases (CASES below) are solved in a pool of --jobs processes, each
case's entries in order. Writes JSON lines (--raw) and the markdown tables (--md, or standard output).

    /usr/bin/python3 examples/kato2016/heom_convergence.py [--qheat build/release/qheat] [--md FILE] [--raw FILE]
"""
import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
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
    cmd = [qheat, "ness", os.path.join(ROOT, model), "--method", "heom", "--heom-depth", str(depth),
           "--heom-terms", str(terms), "--heom-decomposition", decomposition, "--threads", "1"]
    for s in sets:
        cmd += ["--set", s]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    shown = " ".join(c if not c.startswith(ROOT) else os.path.relpath(c, ROOT) for c in cmd[1:])
    entry = {"command": "qheat " + shown, "depth": depth, "terms": terms, "decomposition": decomposition,
             "wall": wall, "cpu": cpu, "returncode": r.returncode}
    if r.returncode not in (0, 4):
        entry["error"] = r.stderr.strip()
        return entry
    out = json.loads(r.stdout)
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
            lines.append(f"| {e[key]} | | error: {e['error']} | | {e['wall']:.2f} | {e['cpu']:.2f} | exit {e['returncode']} |")
            continue
        j = e["currents"][bath]
        status = e["status"] + ("" if not e["diagnostics"] else
                                " (" + ", ".join(d["code"] for d in e["diagnostics"]) + ")")
        lines.append(f"| {e[key]} | {e['ados']} | {j:.10e} | {fmt_change(j, prev)} | {e['wall']:.2f} | "
                     f"{e['cpu']:.2f} | {status} |")
        prev = j
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qheat", default=os.path.join(ROOT, "build", "release", "qheat"))
    ap.add_argument("--jobs", type=int, default=2)
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
            jobs.append((args.qheat, name, model, bath, sets, [scan], args.max_seconds))
    with multiprocessing.Pool(args.jobs) as pool:
        results = [e for part in pool.map(run_case, jobs, chunksize=1) for e in part]
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
