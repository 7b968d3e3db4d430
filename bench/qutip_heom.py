#!/usr/bin/env python3
"""Side-by-side timing: the HEOM steady state of the Kato-Tanimura two-qubit model
(examples/kato2016/two_qubits.toml: eps = 1, J12 = 0.1, gamma_c = 2, T = 2(1 +- 0.01)), two Drude baths with
the Drude pole plus Nk = 2 Pade terms each and the terminator, hierarchy depth 7 (1716 ADOs), qheat against
QuTiP 4.7's HEOMSolver on the identical hierarchy (tests/python/test_qutip_heom.py builds it; it also
computes the heat currents from QuTiP's ADOs with the same Kato-Tanimura formula).

qheat is timed as the whole `qheat ness --method heom --heom-depth 7 --heom-terms 2 --threads 1` process
under /usr/bin/time -v (peak memory); QuTiP as building the baths and HEOMSolver.steady_state() plus the
currents. One run each (QuTiP takes minutes). Prints both times, the ratio of this run and the relative
difference of the left bath's current.

  /usr/bin/python3 bench/qutip_heom.py --qheat build/release/qheat [--lam 0.1] [--depth 7] [--nk 2]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
from test_qutip_heom import kato_model, qutip_heom  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qheat", default=os.path.join(ROOT, "build", "release", "qheat"))
    ap.add_argument("--lam", type=float, default=0.1)
    ap.add_argument("--depth", type=int, default=7)
    ap.add_argument("--nk", type=int, default=2)
    ap.add_argument("--skip-qutip", action="store_true")
    args = ap.parse_args()
    p = dict(eps=1.0, J12=0.1, lam=args.lam, T=2.0, dT=0.01)
    cmd = ["/usr/bin/time", "-v", args.qheat, "ness", os.path.join(ROOT, "examples", "kato2016", "two_qubits.toml"),
           "--method", "heom", "--heom-depth", str(args.depth), "--heom-terms", str(args.nk), "--threads", "1",
           "--set", f"lam={args.lam!r}"]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    t_qheat = time.perf_counter() - t0
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
    res = json.loads(out.stdout)
    J = res["currents"]["left"]
    print(f"qheat: {t_qheat:.3f} s, peak RSS {rss / 1024:.0f} MiB, J_left = {J:.12e}, ADOs {res['heom']['ados']}, "
          f"solver {res['steady_state']['solver']} ({res['steady_state']['iterations']} iterations)")
    if args.skip_qutip:
        return 0
    H, baths = kato_model(p)
    t0 = time.perf_counter()
    _, Jq, _ = qutip_heom(H, baths, args.depth, args.nk, "pade", True)
    t_q = time.perf_counter() - t0
    print(f"QuTiP 4.7: {t_q:.1f} s, J_left = {Jq['left']:.12e}")
    print(f"ratio QuTiP/qheat = {t_q / t_qheat:.0f}; relative current difference {abs(J - Jq['left']) / abs(Jq['left']):.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
