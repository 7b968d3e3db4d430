#!/usr/bin/env python3
"""Side-by-side timing (P2): the XX chain of examples/chain/xx_chain.toml with Bloch-Redfield,
qheat against QuTiP 4.7, for N = 3..5 (QuTiP's tensor construction grows as 4^N x 4^N).

Both sides compute the same object: the non-secular Bloch-Redfield steady state without Lamb shift
(QuTiP has none) and the heat current from the hot bath. qheat is timed as the whole
`qheat ness` process (parse, build, solve, print), QuTiP as bloch_redfield_tensor + steadystate +
the per-bath current; each is the best of `--repeat` runs. Prints one line per N with both times,
their ratio and the two currents (which must agree).

  /usr/bin/python3 bench/qutip_chain.py --qheat build/release/qheat
"""
import argparse
import json
import subprocess

import numpy as np
import qutip
from timing import best, drude_noise_spectrum

D = [0.1925, 0.2007, -0.7980, 0.3696, -0.9701, -0.1531, 0.5542, 0.5094, 0.4198, 0.0793, -0.6981, 0.8230]
P = dict(omega=1.0, J=0.2, disorder=0.1, gamma=0.01, omega_D=10.0, T_hot=2.0, T_cold=1.0)


def spectrum(T):
    return drude_noise_spectrum(P["gamma"], P["omega_D"], T)


def qutip_point(N, with_current=True):
    def site(op, k):
        ops = [qutip.qeye(2)] * N
        ops[k] = op
        return qutip.tensor(ops)
    H = sum(0.5 * (P["omega"] + P["disorder"] * D[k]) * site(qutip.sigmaz(), k) for k in range(N))
    H += P["J"] * sum(site(qutip.sigmap(), k) * site(qutip.sigmam(), k + 1)
                      + site(qutip.sigmam(), k) * site(qutip.sigmap(), k + 1) for k in range(N - 1))
    hot = [site(qutip.sigmax(), 0), spectrum(P["T_hot"])]
    cold = [site(qutip.sigmax(), N - 1), spectrum(P["T_cold"])]
    R, ekets = qutip.bloch_redfield_tensor(H, [hot, cold], use_secular=False)
    rho = qutip.steadystate(R)
    if not with_current:
        return None
    R0, _ = qutip.bloch_redfield_tensor(H, [], use_secular=False)
    Rh, _ = qutip.bloch_redfield_tensor(H, [hot], use_secular=False)
    drho = qutip.vector_to_operator((Rh - R0) * qutip.operator_to_vector(rho))
    return (H.transform(ekets) * drho).tr().real


def qheat_point(exe, N):
    out = subprocess.run([exe, "ness", "examples/chain/xx_chain.toml", "--method", "redfield",
                          "--lamb-shift", "off", "--set", f"N={N}"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["bare_currents"]["hot"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qheat", default="build/release/qheat")
    ap.add_argument("--nmax", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"qutip {qutip.__version__}, numpy {np.__version__}")
    print("qheat: whole `qheat ness` process; QuTiP: tensor + steadystate (NESS) and + per-bath current (all)")
    print(f"{'N':>2} {'qheat [s]':>10} {'QuTiP NESS':>11} {'QuTiP all':>10} {'ratio NESS':>11} {'ratio all':>10}"
          f" {'J_hot qheat':>17} {'J_hot QuTiP':>17}")
    for N in range(3, args.nmax + 1):
        tq, jq = best(lambda: qheat_point(args.qheat, N), args.repeat)
        tn, _ = best(lambda: qutip_point(N, False), args.repeat)
        tr, jr = best(lambda: qutip_point(N), args.repeat)
        print(f"{N:>2} {tq:>10.4f} {tn:>11.4f} {tr:>10.4f} {tn / tq:>11.1f} {tr / tq:>10.1f}"
              f" {jq:>17.10e} {jr:>17.10e}")


if __name__ == "__main__":
    main()
