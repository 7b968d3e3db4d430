#!/usr/bin/python3
"""Zhang, Liu, Yu 2025, Fig. 4: heat current J_1 vs Delta T at eps1 + eps2 = 10, Lindblad vs Bloch-Redfield.

T2 = 5, T1 = 5 + Delta T, g = 0.5, gamma1 = gamma2 = 0.01, omega_D = 50, (eps1, eps2) = (5.5, 4.5), (6, 4),
(6.5, 3.5) (solid, dashed, dotted); eps2 = 10 - eps1 is set with `--set eps2=10-eps1`. Blue: Zhang's Lindblad
equation, which is the *global* secular one (their eqs. A14-A15: eigenoperators V_j(w) of the full H_S, with
the Lamb shift xi(w, w) = S(w)) = `--method global`; red: Bloch-Redfield with Lamb shift (eq. 8) =
`--method redfield`. Lamb shift `auto` (on: the Drude bath has a finite one). J_1 = qheat's J_hot (heat
from the hot bath into the system, Zhang's sign, eqs. 21-23: Tr[(H_S + H_LS) L_1(rho)]).

    /usr/bin/python3 examples/zhang2025/fig4.py [--build build/release] [--out docs/gallery] [--quick]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fig3 import lindblad_vs_redfield  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gallery_common import argument_parser  # noqa: E402

EPS1_VALUES = (5.5, 6.0, 6.5)


def main():
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    lindblad_vs_redfield(args, "eps1", EPS1_VALUES, ["eps2=10-eps1", "g=0.5"],
                         lambda e1: rf"$(\varepsilon_1,\varepsilon_2)=({e1:g},{10 - e1:g})$",
                         r"Zhang et al. Fig. 4: $T_2=5$, $\varepsilon_1+\varepsilon_2=10$, $g=0.5$, $\gamma_{1,2}=0.01$, "
                         r"$\omega_D=50$", "zhang2025_fig4")


if __name__ == "__main__":
    main()
