#!/usr/bin/python3
"""Levy, Rabani, Limmer, Fig. 4: two qubits, V = delta Omega sz sz, heat current from bath a.

(b) J^a vs Delta T at T-bar = 50 gamma: unperturbed J_0 (eq. 42), local limit J_0 + delta J_1 (eqs. 42-43),
global limit J^a (eq. 46, Davies generator of H0 + delta V), and Bloch-Redfield of H0 + delta V (our
addition: no secular approximation, valid for any nu / gamma). (c) the response vs T-bar at Delta T = 20:
delta J_1 (local) and J^a - J_0 (global, Bloch-Redfield). gamma = 1, omega = 1000, g = 200, delta Omega = 50.

    /usr/bin/python3 examples/levy/fig4.py [--build build/release] [--out docs/gallery] [--quick]
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gallery_common import argument_parser, load_model, qheat_package, save  # noqa: E402

DELTA_OMEGA = 50.0


def currents(args, Ta, Tb, deltas):
    """qheat.response to V_zz with a delta sweep (`qheat response --delta-sweep`): the JSON document as a dict,
    with J_0, J_1 (local) and J(delta) of the global and Redfield generators."""
    qheat = qheat_package(args)
    model = load_model(args, "examples/levy/two_qubits.toml", {"Ta": Ta, "Tb": Tb})
    try:
        return qheat.response(model, "V_zz", delta_sweep=[float(d) for d in deltas]).as_dict()
    except qheat.Error as e:
        sys.exit(f"gallery: qheat.response of examples/levy/two_qubits.toml at Ta={Ta}, Tb={Tb} failed: "
                 f"[{e.rule}] {e.message}")


def main():
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    n = 7 if args.quick else 41
    fig, (axb, axc) = plt.subplots(1, 2, figsize=(11, 4.4))
    dT = np.linspace(0.5, 40, n)
    rows = [currents(args, 50 + x / 2, 50 - x / 2, [0.0, DELTA_OMEGA]) for x in dT]
    J0 = np.array([r["unperturbed"]["currents"]["a"] for r in rows])
    J1 = np.array([r["currents"]["a"]["total"] for r in rows])
    Jg = np.array([r["delta_sweep"][1]["global"]["a"] for r in rows])
    Jr = np.array([r["delta_sweep"][1]["redfield"]["a"] for r in rows])
    axb.plot(dT, J0, "k--", label=r"$\mathcal{J}_0^a$ (eq. 42)")
    axb.plot(dT, J0 + DELTA_OMEGA * J1, "r-", label=r"$\mathcal{J}_0^a+\delta\mathcal{J}_1^a$ (local, eq. 43)")
    axb.plot(dT, Jg, "b-", label=r"$\mathcal{J}^a$ (global, eq. 46)")
    axb.plot(dT, Jr, "g:", lw=2, label=r"Bloch-Redfield, $H_0+\delta V$")
    axb.set(xlabel=r"$\Delta T\ [\gamma]$", ylabel=r"heat current from bath $a$ $[\gamma^2]$",
            title=r"(b) $\bar T=50\gamma$, $\delta\Omega=50\gamma$")
    axb.legend(fontsize=8)
    Tbar = np.geomspace(20, 5000, n)
    rows = [currents(args, t + 10, t - 10, [0.0, DELTA_OMEGA]) for t in Tbar]
    J1 = np.array([DELTA_OMEGA * r["currents"]["a"]["total"] for r in rows])
    dJg = np.array([r["delta_sweep"][1]["global"]["a"] - r["delta_sweep"][0]["global"]["a"] for r in rows])
    dJr = np.array([r["delta_sweep"][1]["redfield"]["a"] - r["delta_sweep"][0]["redfield"]["a"] for r in rows])
    axc.plot(Tbar, J1, "r-", label=r"$\delta\mathcal{J}_1^a$ (local, eq. 43)")
    axc.plot(Tbar, dJg, "b-", label=r"$\mathcal{J}^a-\mathcal{J}_0^a$ (global, eqs. 46-42)")
    axc.plot(Tbar, dJr, "g:", lw=2, label="Bloch-Redfield difference")
    axc.set_xscale("log")
    axc.axhline(0, color="0.7", lw=0.6)
    axc.set(xlabel=r"$\bar T\ [\gamma]$", ylabel=r"current response $[\gamma^2]$", title=r"(c) $\Delta T=20\gamma$")
    axc.legend(fontsize=8)
    k = int(np.argmin(abs(Tbar - 50)))
    print(f"T-bar={Tbar[k]:.0f}: local {J1[k]:.3e}, global {dJg[k]:.3e}, Bloch-Redfield {dJr[k]:.3e}; "
          f"T-bar={Tbar[-1]:.0f}: local {J1[-1]:.3e}, global {dJg[-1]:.3e}, Bloch-Redfield {dJr[-1]:.3e}")
    save(fig, args, "levy_fig4")


if __name__ == "__main__":
    main()
