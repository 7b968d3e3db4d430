#!/usr/bin/python3
"""Zhang, Liu, Yu 2025, Fig. 5: Bloch-Redfield heat current J_1 vs Delta T in the symmetric case eps1 = eps2 = eps.

T2 = 5, T1 = 5 + Delta T, gamma1 = gamma2 = 0.01, omega_D = 50; colours red, blue, black: eps = 4, 5, 6;
line styles solid, dashed, dotted: g = 0.2, 0.1, 0.05. Bloch-Redfield with Lamb shift (Zhang eq. 8) =
`--method redfield` (Lamb shift `auto`, on for the Drude bath); eps2 follows eps1 through `--set eps2=eps1`.
The paper plots only BR here (the secular Lindblad equation is invalid at Bohr splitting 2g ~ rates).
J_1 = qheat's J_hot.

    /usr/bin/python3 examples/zhang2025/fig5.py [--build build/release] [--out docs/gallery] [--quick]
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
EPS = ((4.0, "r"), (5.0, "b"), (6.0, "k"))
G = ((0.2, "-"), (0.1, "--"), (0.05, ":"))


def main():
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    n = 11 if args.quick else 201
    dt_max = 100.0
    rows = run_sweep(args, MODEL, ["eps1=" + ",".join(str(e) for e, _ in EPS), "g=" + ",".join(str(g) for g, _ in G),
                                   f"T1={T2}:{T2 + dt_max}:{n}"],
                     "redfield", sets=[f"T2={T2}", "eps2=eps1", "gamma=0.01", "omega_D=50"])
    fig, ax = plt.subplots(figsize=(7, 5))
    for eps, colour in EPS:
        for g, ls in G:
            dT = np.array(column(rows, "T1", eps1=eps, g=g)) - T2
            j = np.array(column(rows, "J_hot", eps1=eps, g=g))
            ax.plot(dT, j, colour + ls, label=rf"$\varepsilon={eps:g}$, $g={g:g}$")
            k = int(np.argmax(j))
            print(f"eps={eps:g} g={g:g}: peak J_1 = {j[k]:.4g} at dT = {dT[k]:g}; J_1(dT={dT[-1]:g}) = {j[-1]:.4g} "
                  f"({j[-1] / j[k]:.2f} of the peak)")
    ax.set(xlabel=r"$\Delta T$", ylabel=r"$\mathcal{J}_1$ (Bloch-Redfield)",
           title=r"Zhang et al. Fig. 5: $\varepsilon_1=\varepsilon_2=\varepsilon$, $T_2=5$, $\gamma_{1,2}=0.01$, $\omega_D=50$")
    ax.legend(fontsize=7, ncol=3)
    save(fig, args, "zhang2025_fig5")


if __name__ == "__main__":
    main()
