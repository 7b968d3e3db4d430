#!/usr/bin/env python3
"""Independent reference for the Floquet modes of a driven spin chain: qheat's propagator in the model's basis
(`--floquet-solver propagator`, JSON floquet.propagator_basis "model": commutator-free Magnus steps with
Chebyshev exponentials of sparse matrices, docs/methods.md) and its extended-space solver (the default)
against QuTiP 4.7's qutip.floquet_modes (an ODE propagator over one period), on examples/chain/xx_chain.toml
with its first site driven, as in bench/README.md ("Floquet-Markov on a driven spin chain"):

  H(t) = sum_k (omega + disorder d_k)/2 sz_k + J sum_k (sp_k sm_{k+1} + h.c.) + (V e^{-i w_d t} + h.c.),
  V = 0.05 sx_1 (conventions.md: a harmonic {k = 1, V} adds V e^{-i k w_d t} + V^dag e^{i k w_d t}), so the
  QuTiP Hamiltonian is H0 + 0.1 cos(w_d t) sx_1, w_d = 0.7.

The quasienergies do not depend on the basis or the ordering of the sites, so QuTiP's tensor-product chain
needs no mapping beyond the drive's amplitude. Compared modulo w_d, one-to-one.

Measured (QuTiP 4.7.1, atol = rtol = 1e-12; qheat's release build, 2026-12-06), N = 6: propagator against
the extended space 1.0e-10 w_d (the propagator's step control targets 1e-10 w_d), QuTiP against the extended
space 1.0e-10 w_d (its ODE error), propagator against QuTiP 1.9e-10 w_d; N = 7 (not run here: ~25 s of CPU,
most of it QuTiP's 128 ODE columns and the 896-row extended space): 1.7e-10, 1.6e-10, 6.5e-12 w_d. TOL = 5e-10 w_d: each propagator
within ~1e-10 w_d of the exact values, the extended space within ~1e-14, and a factor > 2 of margin. The
check can fail: the drive at half its amplitude (the cos(w_d t) vs e^{-i w_d t} factor of 2) moves QuTiP's
quasienergies by far more (printed; required to exceed 100 TOL).
Exit code 0 when every comparison holds.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import tomllib

import numpy as np
import qutip
from qutip_reference import example_path, site_op

W_D = 0.7
AMPLITUDE = 0.05         # the harmonic's V = AMPLITUDE sx_1
TOL = 5e-10 * W_D        # absolute, modulo w_d (see the docstring)
ODE = dict(atol=1e-12, rtol=1e-12, nsteps=10**7)
SIZES = (6,)


def driven_chain_file(directory):
    """examples/chain/xx_chain.toml with the drive inserted before its baths."""
    with open(example_path("chain/xx_chain.toml")) as f:
        text = f.read()
    at = text.index("[[baths]]")
    drive = f'[drive]\nfrequency = "{W_D}"\nharmonics = [ {{ k = 1, V = "{AMPLITUDE}*sx(q1)" }} ]\n\n'
    path = os.path.join(directory, "driven_xx_chain.toml")
    with open(path, "w") as f:
        f.write(text[:at] + drive + text[at:])
    return path


def qheat_floquet(exe, path, n, solver):
    cmd = [exe, "ness", path, "--method", "floquet", "--set", f"N={n}"]
    if solver:
        cmd += ["--floquet-solver", solver]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {out.returncode}: {out.stderr.strip()}")
    return json.loads(out.stdout)


def qutip_quasienergies(params, n, amplitude):
    """QuTiP's quasienergies of the chain with n sites, drive amplitude * 2 cos(w_d t) sx_1."""
    d = params["d"]
    H0 = sum(0.5 * (params["omega"] + params["disorder"] * d[k]) * site_op(qutip.sigmaz(), k, n) for k in range(n))
    H0 += params["J"] * sum(site_op(qutip.sigmap(), k, n) * site_op(qutip.sigmam(), k + 1, n)
                            + site_op(qutip.sigmam(), k, n) * site_op(qutip.sigmap(), k + 1, n) for k in range(n - 1))
    # A Python function, not a string coefficient: QuTiP compiles strings into .py files in the working directory.
    H = [H0, [2.0 * amplitude * site_op(qutip.sigmax(), 0, n), lambda t, args: math.cos(W_D * t)]]
    _, energies = qutip.floquet_modes(H, 2 * math.pi / W_D, {}, options=qutip.Options(**ODE))
    return np.array(energies)


def folded_distance(x, y):
    return abs((x - y + 0.5 * W_D) % W_D - 0.5 * W_D)


def deviation(a, b):
    """Largest distance (mod w_d) of a one-to-one matching of a to b (each of b used once), greedy."""
    if len(a) != len(b):
        return math.inf
    unused = list(b)
    worst = 0.0
    for x in a:
        j = min(range(len(unused)), key=lambda i: folded_distance(unused[i], x))
        worst = max(worst, folded_distance(unused.pop(j), x))
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qheat", required=True)
    args = ap.parse_args()
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = driven_chain_file(tmp)
        for n in SIZES:
            prop = qheat_floquet(args.qheat, path, n, "propagator")
            sambe = qheat_floquet(args.qheat, path, n, None)
            with open(path, "rb") as f:
                params = tomllib.load(f)["parameters"]  # the site disorder d_k is a list the JSON leaves out
            ref = qutip_quasienergies(params, n, AMPLITUDE)
            wrong = qutip_quasienergies(params, n, 0.5 * AMPLITUDE)
            q_prop = np.array(prop["floquet"]["quasienergies"])
            q_sambe = np.array(sambe["floquet"]["quasienergies"])
            checks = {
                "qheat used the file's parameters": all(prop["parameters"][k] == params[k]
                                                        for k in ("omega", "J", "disorder")),
                "propagator basis is the model's": prop["floquet"].get("propagator_basis") == "model",
                "extended space ran by default": sambe["floquet"]["solver"] == "sambe",
                "propagator vs QuTiP": deviation(q_prop, ref) <= TOL,
                "extended space vs QuTiP": deviation(q_sambe, ref) <= TOL,
                "propagator vs extended space": deviation(q_prop, q_sambe) <= TOL,
                "half the drive is seen": deviation(q_sambe, wrong) > 100 * TOL,
            }
            print(f"N = {n} (d = {2**n}): propagator - QuTiP {deviation(q_prop, ref) / W_D:.2e} w_d, extended space - "
                  f"QuTiP {deviation(q_sambe, ref) / W_D:.2e} w_d, propagator - extended space "
                  f"{deviation(q_prop, q_sambe) / W_D:.2e} w_d; half the drive moves QuTiP's by "
                  f"{deviation(q_sambe, wrong) / W_D:.2e} w_d; propagator {prop['floquet']['steps_per_period']} steps "
                  f"in the {prop['floquet'].get('propagator_basis')} basis")
            for name, ok in checks.items():
                if not ok:
                    print(f"  FAIL: {name}")
                    failures += 1
    print("all comparisons hold" if failures == 0 else f"{failures} comparisons failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
