#!/usr/bin/env python3
"""Whole-process runs of issue 9's size goals: wall time and peak memory of `qheat ness` (and `qheat
response`, `qheat gibbs`) on the chain and bosonic examples, one run each, measured under `/usr/bin/time -v` (peak memory
= "Maximum resident set size"). Prints one row per case with the solver, its iterations and the goal.

  /usr/bin/python3 bench/scale_runs.py --qheat build/release/qheat [--only global] [--skip-long]
"""
import argparse
import json
import os
import re
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
XX = os.path.join(ROOT, "examples", "chain", "xx_chain.toml")
XXZ = os.path.join(ROOT, "examples", "chain", "xxz_chain.toml")
KERR = os.path.join(ROOT, "examples", "bosons", "kerr_mode.toml")
ISING = os.path.join(ROOT, "bench", "ising_chain.toml")
DRIVEN = os.path.join(ROOT, "bench", "driven_xx_chain.toml")

# (label, args after the binary, goal text, long?)
CASES = [
    ("XX chain, redfield, N=8", ["ness", XX, "--method", "redfield", "--set", "N=8"], "", False),
    ("XX chain, redfield, N=9", ["ness", XX, "--method", "redfield", "--set", "N=9"], "", False),
    ("XX chain, redfield, N=10", ["ness", XX, "--method", "redfield", "--set", "N=10"], "<= 30 s", False),
    ("XX chain, redfield, N=11", ["ness", XX, "--method", "redfield", "--set", "N=11"], "<= 12 GiB", True),
    ("XX chain, redfield, N=12", ["ness", XX, "--method", "redfield", "--set", "N=12"], "", True),
    ("XX chain, global, N=8", ["ness", XX, "--method", "global", "--set", "N=8"], "", False),
    ("XX chain, global, N=10", ["ness", XX, "--method", "global", "--set", "N=10"], "<= 2 s", False),
    ("XX chain, global, N=12", ["ness", XX, "--method", "global", "--set", "N=12"], "<= 60 s", True),
    ("XXZ chain, local, N=6", ["ness", XXZ, "--method", "local", "--set", "N=6"], "", False),
    ("XXZ chain, local, N=8", ["ness", XXZ, "--method", "local", "--set", "N=8"], "<= 2 s", False),
    ("XXZ chain, local, N=10", ["ness", XXZ, "--method", "local", "--set", "N=10"], "<= 60 s", True),
    ("XXZ chain, local, N=12", ["ness", XXZ, "--method", "local", "--set", "N=12"], "completes in 24 GiB", True),
    ("Kerr mode, redfield, d=1000", ["ness", KERR, "--method", "redfield", "--set", "nmax=999"], "<= 30 s", False),
    ("Kerr mode, global, d=1000", ["ness", KERR, "--method", "global", "--set", "nmax=999"], "", False),
    ("XX chain, heom (automatic), N=5", ["ness", XX, "--method", "heom", "--set", "N=5"], "", False),
    ("XX chain, heom (automatic), N=6", ["ness", XX, "--method", "heom", "--set", "N=6"], "", False),
    ("XX chain, heom (automatic), N=6, GMRES on B0",
     ["ness", XX, "--method", "heom", "--set", "N=6", "--heom-schur", "iterative"], "", False),
    ("XX chain, heom (automatic), N=7, dense B0",
     ["ness", XX, "--method", "heom", "--set", "N=7", "--heom-schur", "dense"], "", True),
    ("XX chain, heom (automatic), N=7", ["ness", XX, "--method", "heom", "--set", "N=7"], "", True),
    ("XX chain, heom (automatic), N=8", ["ness", XX, "--method", "heom", "--set", "N=8"], "", True),
    ("XX chain, global, N=8 (ness)", ["ness", XX, "--method", "global", "--set", "N=8"], "", False),
    ("XX chain, response to bond 4-5, N=8",
     ["response", XX, "--set", "N=8", "--perturbation", "J*(sp(q4)*sm(q5) + sm(q4)*sp(q5))"],
     "<= 3x the ness above", False),
    # The mean-force Gibbs state (both baths at T = 2 / T = 1), observables only.
    ("Ising chain, gibbs, N=8", ["gibbs", ISING, "--set", "N=8", "--set", "T_cold=2", "--no-state"], "", False),
    ("Ising chain, gibbs, N=9", ["gibbs", ISING, "--set", "N=9", "--set", "T_cold=2", "--no-state"], "", False),
    ("Ising chain, gibbs, N=10", ["gibbs", ISING, "--set", "N=10", "--set", "T_cold=2", "--no-state"], "", False),
    ("Ising chain, gibbs, N=12", ["gibbs", ISING, "--set", "N=12", "--set", "T_cold=2", "--no-state"], "", True),
    ("Ising chain, gibbs with rho, N=12", ["gibbs", ISING, "--set", "N=12", "--set", "T_cold=2"], "", True),
    ("XX chain, gibbs, N=10", ["gibbs", XX, "--set", "N=10", "--set", "T_hot=1", "--no-state"], "", False),
    ("XX chain, gibbs, N=12", ["gibbs", XX, "--set", "N=12", "--set", "T_hot=1", "--no-state"], "", True),
    ("driven XX chain, floquet, N=7", ["ness", DRIVEN, "--method", "floquet", "--set", "N=7", "--threads", "1"], "", False),
    ("driven XX chain, floquet, N=8", ["ness", DRIVEN, "--method", "floquet", "--set", "N=8", "--threads", "1"], "", False),
]


def run(qheat, args):
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v", qheat] + args, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    rss = int(m.group(1)) / 1024 / 1024 if m else float("nan")
    info = ""
    if p.returncode == 0 and args[0] == "ness":
        j = json.loads(p.stdout)
        ss = j["steady_state"]
        info = f"{ss['solver']}, {ss.get('iterations', 0)} it., {ss['status']}"
    elif p.returncode == 0 and args[0] == "gibbs":
        info = f"order {json.loads(p.stdout)['order']}"
    elif p.returncode != 0:
        info = "exit %d: %s" % (p.returncode, p.stderr.strip().splitlines()[0] if p.stderr.strip() else "")
    return wall, rss, info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qheat", required=True)
    ap.add_argument("--only", default="", help="run the cases whose label contains this text")
    ap.add_argument("--skip-long", action="store_true", help="skip N = 11/12, local N = 10 and heom N = 7/8")
    a = ap.parse_args()
    print(f"{'case':40s} {'wall [s]':>9s} {'peak RSS [GiB]':>15s}  solver / goal")
    for label, args, goal, long in CASES:
        if a.only and a.only not in label:
            continue
        if long and a.skip_long:
            continue
        wall, rss, info = run(a.qheat, args)
        print(f"{label:40s} {wall:9.2f} {rss:15.3f}  {info}{'; goal ' + goal if goal else ''}", flush=True)


if __name__ == "__main__":
    main()
