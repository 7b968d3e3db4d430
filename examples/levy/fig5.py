#!/usr/bin/python3
"""Levy, Rabani, Limmer, Fig. 5: two qubits, heat current from bath a vs the perturbation strength delta Omega.

Black: unperturbed (eq. 42); red: local limit J_0 + delta J_1 (eqs. 42-43); blue: global limit (eq. 46,
Davies generator of H0 + delta V); green: Bloch-Redfield of H0 + delta V (our addition). Left: T-bar = 50
gamma, right: T-bar = 5000 gamma; Delta T = 20 gamma, gamma = 1, omega = 1000, g = 200.

    /usr/bin/python3 examples/levy/fig5.py [--build build/release] [--out docs/gallery] [--quick]
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from fig4 import currents  # noqa: E402
from gallery_common import argument_parser, save  # noqa: E402


def main():
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    n = 7 if args.quick else 61
    deltas = np.linspace(0, 100, n)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    for ax, Tbar in zip(axes, (50.0, 5000.0)):
        j = currents(args, Tbar + 10, Tbar - 10, list(deltas))
        J0 = j["unperturbed"]["currents"]["a"]
        J1 = j["currents"]["a"]["total"]
        Jg = [r["global"]["a"] for r in j["delta_sweep"]]
        Jr = [r["redfield"]["a"] for r in j["delta_sweep"]]
        ax.plot(deltas, [J0] * len(deltas), "k--", label=r"$\mathcal{J}_0^a$ (eq. 42)")
        ax.plot(deltas, J0 + deltas * J1, "r-", label=r"$\mathcal{J}_0^a+\delta\mathcal{J}_1^a$ (local)")
        ax.plot(deltas, Jg, "b-", label=r"$\mathcal{J}^a$ (global, eq. 46)")
        ax.plot(deltas, Jr, "g:", lw=2, label=r"Bloch-Redfield, $H_0+\delta V$")
        ax.set(xlabel=r"$\delta\Omega\ [\gamma]$", ylabel=r"heat current from bath $a$ $[\gamma^2]$",
               title=rf"$\bar T={Tbar:g}\gamma$, $\Delta T=20\gamma$")
        ax.legend(fontsize=8)
        print(f"T-bar={Tbar:g}: J0={J0:.4e}; at delta Omega={deltas[-1]:g}: local {J0 + deltas[-1] * J1:.4e}, "
              f"global {Jg[-1]:.4e}, Bloch-Redfield {Jr[-1]:.4e}")
    save(fig, args, "levy_fig5")


if __name__ == "__main__":
    main()
