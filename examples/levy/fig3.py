#!/usr/bin/python3
"""Levy, Rabani & Limmer, Fig. 3: steady-state response delta (Phi^(1,1) + Phi^(1,2)) of the occupation a^dag a
to the cubic perturbation as a function of the average temperature T = (T_a + T_b)/2 at Delta T = 50 gamma.

gamma_- = 1, omega = 100, g = 90, eps = 5, delta = 0.02; untruncated bosonic engine (qheat.response(...,
untruncated=True)), perturbation Levy's eq. B9 operator, (-1)*V_cubic (see fig2.py).
Dashed: the paper's eq. 34 as printed. Its dissipator part carries a factor (n_- - 1) where the model gives -1
(docs/response-bosonic.md), which makes the printed total change sign near T = 4000 gamma (n_- = 401); the
model's total is -3 (eps/omega_+)(2 n_- + 1), linear in T and of one sign.

    /usr/bin/python3 examples/levy/fig3.py [--quick] [--build build/release] [--out docs/gallery]
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gallery_common import argument_parser, save  # noqa: E402
from fig2 import DELTA, EPS, GAMMA, W_MINUS, W_PLUS, nbar_minus, run_response  # noqa: E402

DELTA_T = 50.0


def levy_eq34(n):
    """Eq. 34 as printed: (Kubo, dissipator) parts at t -> infinity."""
    kubo = -3 * EPS / W_PLUS * (4 * W_MINUS**2 / (GAMMA**2 + 4 * W_MINUS**2)) * (2 * n + 1)
    diss = 3 * EPS / W_PLUS * (GAMMA**2 / (GAMMA**2 + 4 * W_MINUS**2)) * (n - 1) * (2 * n + 1)
    return kubo, diss


def main():
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    tbar = np.linspace(50.0, 6000.0, 7 if args.quick else 41)
    kubo, diss, total = [], [], []
    for T in tbar:
        res = run_response(args, Ta=T - DELTA_T / 2, Tb=T + DELTA_T / 2)
        p = res["observables"]["n_a"]
        kubo.append(p["kubo"])
        diss.append(p["dissipator"])
        total.append(p["total"])
    kubo, diss, total = map(np.array, (kubo, diss, total))
    n = np.array([nbar_minus(T - DELTA_T / 2, T + DELTA_T / 2) for T in tbar])
    pk, pd = levy_eq34(n)

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(tbar, DELTA * total, color="k", lw=1.5, label=r"$\delta(\Phi^{(1,1)}+\Phi^{(1,2)})$, qheat")
    ax.plot(tbar, DELTA * kubo, color="C0", lw=0.8, label=r"$\delta\Phi^{(1,1)}$ (Kubo), qheat")
    ax.plot(tbar, DELTA * diss, color="C3", lw=0.8, label=r"$\delta\Phi^{(1,2)}$ (dissipator), qheat")
    ax.plot(tbar, DELTA * (pk + pd), color="C1", ls="--", lw=1.2, label="Levy eq. 34 (printed), total")
    ax.axhline(0, color="0.7", lw=0.5)
    ax.set_xlabel(r"$\bar T$ [$\hbar\gamma/k_B$]")
    ax.set_ylabel(r"steady-state response of $\langle a^\dagger a\rangle$")
    ax.set_title(r"Levy Fig. 3: $\Delta T = 50\gamma$, $\delta = 0.02$", fontsize=9)
    ax.legend(fontsize=8)
    save(fig, args, "levy_fig3")
    exact = -3 * EPS / W_PLUS * (2 * n + 1)
    print(f"max |qheat total - (-3 eps/omega_+ (2n+1))| = {np.max(np.abs(total - exact)):.2e}")
    for T, t, p in zip(tbar[[0, len(tbar) // 2, -1]], total[[0, len(tbar) // 2, -1]], (pk + pd)[[0, len(tbar) // 2, -1]]):
        print(f"T = {T:7.1f}: delta*total qheat {DELTA * t:+.4f}, printed eq. 34 {DELTA * p:+.4f}")


if __name__ == "__main__":
    main()
