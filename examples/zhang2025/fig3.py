#!/usr/bin/python3
"""Zhang, Liu, Yu 2025, Fig. 3: heat current J_1 vs Delta T for g = 0.75, 0.5, 0.25, Lindblad vs Bloch-Redfield.

T2 = 5, T1 = 5 + Delta T, eps1 = 5, eps2 = 4, gamma1 = gamma2 = 0.01, omega_D = 50. Blue: Zhang's Lindblad
equation, which is the *global* secular one (their eqs. A14-A15: eigenoperators V_j(w) of the full H_S, with
the Lamb shift xi(w, w) = S(w)) = `--method global`; red: Bloch-Redfield with Lamb shift (eq. 8) =
`--method redfield`. Lamb shift `auto` (on: the Drude bath has a finite one). J_1 = qheat's J_hot (heat
from the hot bath into the system, Zhang's sign, eqs. 21-23: Tr[(H_S + H_LS) L_1(rho)]).

    /usr/bin/python3 examples/zhang2025/fig3.py [--build build/release] [--out docs/gallery] [--quick]
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
G_VALUES = (0.75, 0.5, 0.25)
STYLES = ("-", "--", ":")


def lindblad_vs_redfield(args, name, values, sets, label, title, figure):
    """J_1 vs Delta T for each value of parameter `name`: Lindblad (global) in blue, Bloch-Redfield in red."""
    n = 9 if args.quick else 101
    dt_max = 200.0
    rows = run_sweep(args, MODEL, [name + "=" + ",".join(map(str, values)), f"T1={T2}:{T2 + dt_max}:{n}"],
                     ["global", "redfield"], sets=[f"T2={T2}", "gamma=0.01", "omega_D=50"] + list(sets))
    fig, ax = plt.subplots(figsize=(7, 5))
    for v, ls in zip(values, STYLES):
        dT = np.array(column(rows, "T1", method="global", **{name: v})) - T2
        jl = np.array(column(rows, "J_hot", method="global", **{name: v}))
        jbr = np.array(column(rows, "J_hot", method="redfield", **{name: v}))
        ax.plot(dT, jl, "b" + ls, label=f"Lindblad (global), {label(v)}")
        ax.plot(dT, jbr, "r" + ls, label=f"Bloch-Redfield, {label(v)}")
        pos = dT > 0
        supp = (jl[pos] - jbr[pos]) / jl[pos]
        print(f"{name}={v:g}: BR < Lindblad at every dT > 0: {bool(np.all(jbr[pos] < jl[pos]))}; "
              f"suppression (J_L - J_BR) at dT={dT[pos][0]:g}: {jl[pos][0] - jbr[pos][0]:.4g}, "
              f"at dT={dT[-1]:g}: {jl[-1] - jbr[-1]:.4g} (relative {supp[0]:.3f} -> {supp[-1]:.3f}); "
              f"J_L(dT={dT[-1]:g}) = {jl[-1]:.4g}, J_BR = {jbr[-1]:.4g}")
    ax.set(xlabel=r"$\Delta T$", ylabel=r"$\mathcal{J}_1$", title=title)
    ax.legend(fontsize=8)
    save(fig, args, figure)


def main():
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    lindblad_vs_redfield(args, "g", G_VALUES, ["eps1=5", "eps2=4"], lambda g: rf"$g={g}$",
                         r"Zhang et al. Fig. 3: $T_2=5$, $\varepsilon_1=5$, $\varepsilon_2=4$, $\gamma_{1,2}=0.01$, "
                         r"$\omega_D=50$", "zhang2025_fig3")


if __name__ == "__main__":
    main()
