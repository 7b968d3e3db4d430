#!/usr/bin/python3
"""Zhang, Liu, Yu 2025, Fig. 6: NDTC in the asymmetric case, J_1 vs Delta T for gamma = 0.01, 0.02, 0.03.

T2 = 5, T1 = 5 + Delta T, eps1 = 4, eps2 = 3, g = 0.5, omega_D = 50, gamma1 = gamma2 = gamma (one panel per
gamma; the paper's three "insets"). Blue: Zhang's Lindblad equation = the global secular one (eqs. A14-A15)
= `--method global`; red: Bloch-Redfield with Lamb shift (eq. 8) = `--method redfield`; Lamb shift `auto`
(on for the Drude bath). J_1 = qheat's J_hot.

    /usr/bin/python3 examples/zhang2025/fig6.py [--build build/release] [--out docs/gallery] [--quick]
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gallery_common import argument_parser, column, run_sweep, save  # noqa: E402

MODEL = "examples/zhang2025/two_qubits.toml"
T2 = 5.0
GAMMAS = (0.01, 0.02, 0.03)


def main():
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    n = 11 if args.quick else 201
    dt_max = 400.0
    rows = run_sweep(args, MODEL, ["gamma=" + ",".join(map(str, GAMMAS)), f"T1={T2}:{T2 + dt_max}:{n}"],
                     ["global", "redfield"], sets=[f"T2={T2}", "eps1=4", "eps2=3", "g=0.5", "omega_D=50"])
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    for ax, gamma in zip(axes, GAMMAS):
        dT = np.array(column(rows, "T1", gamma=gamma, method="global")) - T2
        jl = np.array(column(rows, "J_hot", gamma=gamma, method="global"))
        jbr = np.array(column(rows, "J_hot", gamma=gamma, method="redfield"))
        ax.plot(dT, jl, "b-", label="Lindblad (global)")
        ax.plot(dT, jbr, "r-", label="Bloch-Redfield")
        ax.set(xlabel=r"$\Delta T$", ylabel=r"$\mathcal{J}_1$", title=rf"$\gamma_1=\gamma_2={gamma:g}$")
        ax.legend(fontsize=8)
        k = int(np.argmax(jbr))
        print(f"gamma={gamma:g}: BR peak {jbr[k]:.4g} at dT = {dT[k]:g}, BR(dT={dT[-1]:g}) = {jbr[-1]:.4g} "
              f"({jbr[-1] / jbr[k]:.2f} of the peak); Lindblad monotone: {bool(np.all(np.diff(jl) > 0))}, "
              f"J_L(dT={dT[-1]:g}) = {jl[-1]:.4g}")
    fig.suptitle(r"Zhang et al. Fig. 6: $\varepsilon_1=4$, $\varepsilon_2=3$, $g=0.5$, $T_2=5$, $\omega_D=50$")
    save(fig, args, "zhang2025_fig6")


if __name__ == "__main__":
    main()
