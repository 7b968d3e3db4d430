#!/usr/bin/python3
"""Zhang, Liu, Yu 2025, Fig. 4: heat current J_1 vs Delta T at eps1 + eps2 = 10, Lindblad vs Bloch-Redfield.

T2 = 5, T1 = 5 + Delta T, g = 0.5, gamma1 = gamma2 = 0.01, omega_D = 50, (eps1, eps2) = (5.5, 4.5), (6, 4),
(6.5, 3.5) (solid, dashed, dotted); eps2 = 10 - eps1 is set with `--set eps2=10-eps1`. Blue: Zhang's Lindblad
equation, which is the *global* secular one (their eqs. A14-A15: eigenoperators V_j(w) of the full H_S, with
the Lamb shift xi(w, w) = S(w)) = `--method global`; red: Bloch-Redfield with Lamb shift (eq. 8) =
`--method redfield`. Lamb shift `auto` (on: the Drude bath has a finite one). J_1 = qheat's J_hot (heat
from the hot bath into the system, Zhang's sign, eqs. 21-23: Tr[(H_S + H_LS) L_1(rho)]).

    /usr/bin/python3 examples/zhang2025/fig4.py [--qheat build/release/qheat] [--out docs/gallery] [--quick]
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
EPS1_VALUES = (5.5, 6.0, 6.5)
STYLES = ("-", "--", ":")


def main():
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    n = 9 if args.quick else 101
    dt_max = 200.0
    rows = run_sweep(args, MODEL, ["eps1=" + ",".join(map(str, EPS1_VALUES)), f"T1={T2}:{T2 + dt_max}:{n}"],
                     ["global", "redfield"],
                     sets=[f"T2={T2}", "eps2=10-eps1", "g=0.5", "gamma=0.01", "omega_D=50"])
    fig, ax = plt.subplots(figsize=(7, 5))
    for e1, ls in zip(EPS1_VALUES, STYLES):
        dT = np.array(column(rows, "T1", eps1=e1, method="global")) - T2
        jl = np.array(column(rows, "J_hot", eps1=e1, method="global"))
        jbr = np.array(column(rows, "J_hot", eps1=e1, method="redfield"))
        ax.plot(dT, jl, "b" + ls, label=rf"Lindblad (global), $(\varepsilon_1,\varepsilon_2)=({e1:g},{10 - e1:g})$")
        ax.plot(dT, jbr, "r" + ls, label=rf"Bloch-Redfield, $(\varepsilon_1,\varepsilon_2)=({e1:g},{10 - e1:g})$")
        pos = dT > 0
        supp = (jl[pos] - jbr[pos]) / jl[pos]
        print(f"eps1={e1:g}, eps2={10 - e1:g}: BR < Lindblad at every dT > 0: {bool(np.all(jbr[pos] < jl[pos]))}; "
              f"suppression (J_L - J_BR) at dT={dT[pos][0]:g}: {jl[pos][0] - jbr[pos][0]:.4g}, "
              f"at dT={dT[-1]:g}: {jl[-1] - jbr[-1]:.4g} (relative {supp[0]:.3f} -> {supp[-1]:.3f}); "
              f"J_L(dT={dT[-1]:g}) = {jl[-1]:.4g}, J_BR = {jbr[-1]:.4g}")
    ax.set(xlabel=r"$\Delta T$", ylabel=r"$\mathcal{J}_1$",
           title=r"Zhang et al. Fig. 4: $T_2=5$, $\varepsilon_1+\varepsilon_2=10$, $g=0.5$, $\gamma_{1,2}=0.01$, $\omega_D=50$")
    ax.legend(fontsize=8)
    save(fig, args, "zhang2025_fig4")


if __name__ == "__main__":
    main()
