#!/usr/bin/env python3
"""Side-by-side timing (P3): the driven Kerr resonator of examples/kong2026/kerr.toml (nmax = 30),
qheat's `ddme` and `floquet` methods against QuTiP 4.7's Floquet machinery for the same point.

QuTiP side: floquet_modes (one-period propagator) + floquet_master_equation_rates for each of the two
baths (QuTiP takes one temperature per call, so the rates are computed once per bath), with kmax
harmonics. qheat side: the whole `qheat ness` process. Prints both times and their ratio; qheat keeps
every harmonic its Fourier-tail criterion needs (reported in its JSON), QuTiP the kmax given here.

  /usr/bin/python3 bench/qutip_kerr_floquet.py --qheat build/release/qheat
"""
import argparse
import json
import math
import subprocess

import numpy as np
import qutip
from timing import best

P = dict(eps=1.0, chi=0.4, eta=0.1, omega_d=0.5, alpha=0.001, omega_c=10.0, T_l=1.2, T_r=0.4, nmax=30)


def qutip_point(kmax):
    N = P["nmax"] + 1
    a = qutip.destroy(N)
    H0 = P["eps"] * a.dag() * a + P["chi"] * a.dag() * a.dag() * a * a
    V = -(P["eta"] / 2) * a.dag()
    w = P["omega_d"]
    H = [H0, [V, lambda t, args: np.exp(-1j * w * t)], [V.dag(), lambda t, args: np.exp(1j * w * t)]]
    T = 2 * math.pi / w
    opts = qutip.Options(nsteps=10**7, atol=1e-10, rtol=1e-10)
    f_modes_0, f_energies = qutip.floquet_modes(H, T, {}, options=opts)
    # floquet_master_equation_rates samples the modes on 101 points of the period (its default nT = 100).
    table = qutip.floquet_modes_table(f_modes_0, f_energies, np.linspace(0, T, 101), H, T, {}, options=opts)
    gamma = math.pi * P["alpha"]
    J = lambda x: gamma * x * math.exp(-x / P["omega_c"]) if x > 0 else 0.0
    for Tb in (P["T_l"], P["T_r"]):
        qutip.floquet_master_equation_rates(f_modes_0, f_energies, a, H, T, {}, J, Tb, kmax, table)


def qheat_point(exe, method):
    out = subprocess.run([exe, "ness", "examples/kong2026/kerr.toml", "--method", method],
                         capture_output=True, text=True, check=True)
    j = json.loads(out.stdout)
    return j["currents"]["r"], j["steady_state"].get("harmonics")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qheat", default="build/release/qheat")
    ap.add_argument("--kmax", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    print(f"qutip {qutip.__version__}; Kerr nmax = {P['nmax']}, omega_d = {P['omega_d']}, eta = {P['eta']}")
    td, (jd, _) = best(lambda: qheat_point(args.qheat, "ddme"), args.repeat)
    tf, (jf, K) = best(lambda: qheat_point(args.qheat, "floquet"), args.repeat)
    tq, _ = best(lambda: qutip_point(args.kmax), 1)
    print(f"qheat ddme    {td:8.3f} s   J_r = {jd:.10e}")
    print(f"qheat floquet {tf:8.3f} s   J_r = {jf:.10e}   harmonics |k| <= {K}")
    print(f"QuTiP floquet modes + rates (2 baths, kmax = {args.kmax}) {tq:8.3f} s")
    print(f"ratio QuTiP / qheat-floquet = {tq / tf:.2f}; QuTiP / qheat-ddme = {tq / td:.1f}")


if __name__ == "__main__":
    main()
