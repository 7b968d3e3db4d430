#!/usr/bin/env python3
"""Side-by-side timing: the boundary-driven XXZ chain of examples/chain/xxz_chain.toml with the local
Lindblad equation, qheat against QuTiP 4.7, for N = 6, 7, 8 (choose with --sizes).

Both sides compute the same object at the file's defaults: the steady state of the local master equation
(jumps sqrt(gamma (1 + n(h, T))) sm and sqrt(gamma n(h, T)) sp on q1 at T_hot and on qN at T_cold; a flat
kappa, so no Lamb shift) and the heat current from the hot bath, J_hot = Tr[H D_hot(rho)].
qheat is timed as the whole `qheat ness` process (parse, build, solve, print JSON), run under
`/usr/bin/time -v` for its peak memory ("Maximum resident set size"); QuTiP as building H and c_ops,
`qutip.steadystate(H, c_ops)` (method 'direct', default options) and J_hot (a few sparse products, ms).
Each side is the best of --repeat runs; the memory is the largest of the qheat runs. Prints one line per
N: both times, the ratio QuTiP/qheat of this run, the relative difference of J_hot and qheat's peak RSS.

  /usr/bin/python3 bench/qutip_local_chain.py --qheat build/release/qheat --sizes 6 7
"""
import argparse
import json
import math
import os
import re
import subprocess

import numpy as np
import qutip
from timing import best

MODEL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "chain",
                     "xxz_chain.toml")
P = dict(h=1.0, J=0.25, Delta=0.5, gamma=0.1, T_hot=2.0, T_cold=0.5)  # the file's defaults


def qutip_point(N):
    def site(op, k):
        ops = [qutip.qeye(2)] * N
        ops[k] = op
        return qutip.tensor(ops)
    sx, sy, sz = qutip.sigmax(), qutip.sigmay(), qutip.sigmaz()
    H = sum(0.5 * P["h"] * site(sz, k) for k in range(N))
    H += P["J"] * sum(site(sx, k) * site(sx, k + 1) + site(sy, k) * site(sy, k + 1)
                      + P["Delta"] * site(sz, k) * site(sz, k + 1) for k in range(N - 1))
    baths = []
    for k, T in ((0, P["T_hot"]), (N - 1, P["T_cold"])):
        n = 1.0 / math.expm1(P["h"] / T)
        baths.append([math.sqrt(P["gamma"] * (1 + n)) * site(qutip.sigmam(), k),
                      math.sqrt(P["gamma"] * n) * site(qutip.sigmap(), k)])
    rho = qutip.steadystate(H, baths[0] + baths[1])
    drho = sum(c * rho * c.dag() - 0.5 * (c.dag() * c * rho + rho * c.dag() * c) for c in baths[0])
    return (H * drho).tr().real


def qheat_point(exe, N, rss):
    """One `qheat ness` run under /usr/bin/time -v; appends the peak RSS (KiB) to rss, returns J_hot."""
    out = subprocess.run(["/usr/bin/time", "-v", exe, "ness", MODEL, "--method", "local", "--set", f"N={N}"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"qheat failed (exit {out.returncode}): {out.stderr.strip()}")
    rss.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1)))
    res = json.loads(out.stdout)
    for name, value in P.items():
        assert res["parameters"][name] == value, f"{MODEL} no longer has {name} = {value}"
    return res["currents"]["hot"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qheat", default="build/release/qheat")
    ap.add_argument("--sizes", type=int, nargs="+", default=[6, 7, 8])
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    print(f"qutip {qutip.__version__}, numpy {np.__version__}")
    print("qheat: whole `qheat ness --method local` process; QuTiP: H and c_ops + steadystate (direct) + J_hot")
    print(f"{'N':>2} {'qheat [s]':>10} {'QuTiP [s]':>10} {'QuTiP/qheat':>12} {'J_hot qheat':>17}"
          f" {'J_hot QuTiP':>17} {'rel. diff':>9} {'qheat peak RSS [MiB]':>21}")
    for N in args.sizes:
        rss = []
        tq, jq = best(lambda: qheat_point(args.qheat, N, rss), args.repeat)
        tr, jr = best(lambda: qutip_point(N), args.repeat)
        print(f"{N:>2} {tq:>10.3f} {tr:>10.3f} {tr / tq:>12.2f} {jq:>17.10e} {jr:>17.10e}"
              f" {abs(jq - jr) / abs(jr):>9.1e} {max(rss) / 1024:>21.1f}", flush=True)


if __name__ == "__main__":
    main()
