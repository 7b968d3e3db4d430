#!/usr/bin/python3
"""Kong et al. 2026, Fig. 4: energy flows J_r, J_l, J_p of the driven coupled-qubits model (eq. 13).

(a) vs the driving frequency omega_d at eta = 0.2, (b) vs the driving amplitude eta at omega_d = 0.9;
eps_l = eps_r = 1, t = 0.2, alpha = 0.001, omega_c = 10, T_l = 1.2, T_r = 0.4 (the model file's defaults).
Lines: dDME (`ddme`); markers: Floquet-Markov ME (`floquet`), as in the paper (which shows no DME here).
Kong's signs: J_mu(Kong) = -J_mu(qheat) (energy into reservoir mu), J_p = -drive_power (docs/conventions.md).

    /usr/bin/python3 examples/kong2026/fig4.py [--quick]
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gallery_common import argument_parser, column, run_sweep, save  # noqa: E402

MODEL = "examples/kong2026/coupled_qubits.toml"
METHODS = ["ddme", "floquet"]
CURRENTS = [("r", "C3", r"$J_r$"), ("l", "C0", r"$J_l$"), ("p", "k", r"$J_p$")]


def kong(rows, which, method):
    """Kong's J_r, J_l (energy into the reservoir) or J_p (into the pump) = minus qheat's column."""
    return -np.array(column(rows, "drive_power" if which == "p" else "J_" + which, method=method))


def panel(ax, rows, x, n):
    dev = 0.0
    scale = max(np.max(np.abs(kong(rows, w, "ddme"))) for w, _, _ in CURRENTS)
    for which, colour, name in CURRENTS:
        xs = column(rows, x, method="ddme")
        ax.plot(xs, kong(rows, which, "ddme"), color=colour, label=name + " dDME (ddme)")
        ax.plot(column(rows, x, method="floquet"), kong(rows, which, "floquet"), color=colour, ls="none",
                marker="o", ms=4, mfc="none", markevery=max(1, n // 45), label=name + " FME (floquet)")
        dev = max(dev, np.max(np.abs(kong(rows, which, "ddme") - kong(rows, which, "floquet"))) / scale)
    ax.axhline(0, color="0.5", lw=0.6)
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    ax.legend(fontsize=8, ncol=2)
    return dev


def main():
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    n_w, n_e = (12, 8) if args.quick else (231, 99)
    rows_w = run_sweep(args, MODEL, [f"omega_d=0.05:1.2:{n_w}"], METHODS, sets=["eta=0.2"])
    rows_e = run_sweep(args, MODEL, [f"eta=0.01:0.5:{n_e}"], METHODS, sets=["omega_d=0.9"])

    fig, ax = plt.subplots(1, 2, figsize=(11, 4.3))
    dev_w = panel(ax[0], rows_w, "omega_d", n_w)
    dev_e = panel(ax[1], rows_e, "eta", n_e)
    ax[0].set(xlabel=r"$\omega_d$", ylabel=r"$J_\mu$", title=r"(a) coupled qubits, $\eta=0.2$")
    ax[1].set(xlabel=r"$\eta$", ylabel=r"$J_\mu$", title=r"(b) coupled qubits, $\omega_d=0.9$")
    save(fig, args, "kong2026_fig4")
    print(f"max |dDME - FME| / max|J|: (a) {dev_w:.1e}, (b) {dev_e:.1e}")


if __name__ == "__main__":
    main()
