"""Shared helpers of the QuTiP cross-checks in tests/python/ (not a test itself: ctest runs test_*.py only).

- running `qheat ness ... --state` and reading its JSON (currents, rho);
- QuTiP's noise-power spectrum for qheat's Drude density (conventions.md);
- the Bloch-Redfield reference (QuTiP 4.7 bloch_redfield_tensor, use_secular=False): steady state and
  per-bath energy flows Tr[H R_a(rho)], i.e. qheat's `bare_currents`;
- the Lindblad reference: qutip.steadystate(H, c_ops) and per-bath currents Tr[H D_a(rho)].
"""
import json
import math
import os
import subprocess

import numpy as np
import qutip

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def example_path(rel):
    """Absolute path of a file under examples/ (the scripts may be run from any directory)."""
    return os.path.join(REPO, "examples", rel)


def bose(w, T):
    """n(w, T) = 1/(e^{w/T} - 1) for w > 0 (0 at T = 0)."""
    return 1.0 / math.expm1(w / T) if T > 0 else 0.0


def kappa_thermal(w, gamma, wc, T):
    """kappa~(w) for the Drude density kappa(w) = gamma w / (1 + (w/wc)^2) (conventions.md): kappa (1 + n)
    for w > 0 (emission), kappa n for w < 0. This is QuTiP's noise-power spectrum convention."""
    def kappa(x):
        return gamma * x / (1.0 + (x / wc) ** 2)
    if abs(w) < 1e-14:
        return gamma * T  # limit of kappa(w) n(w) for w -> 0
    if w > 0:
        return kappa(w) * (1.0 + bose(w, T))
    return kappa(-w) * bose(-w, T)


def run_qheat(exe, path, method, sets=(), extra=()):
    """Runs `qheat ness PATH --method METHOD [--set K=V]... EXTRA --state`; returns (JSON dict, rho) or
    raises RuntimeError with qheat's stderr. sets: iterable of (name, value)."""
    cmd = [exe, "ness", path, "--method", method, "--state", *extra]
    for k, v in sets:
        cmd += ["--set", f"{k}={v!r}"]  # repr: the shortest string that round-trips a float
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {out.returncode}: {out.stderr.strip()}")
    res = json.loads(out.stdout)
    rho = np.array(res["rho"]["re"]) + 1j * np.array(res["rho"]["im"])
    return res, rho


def site_op(op, k, n, dim=2):
    """op on site k (0-based) of n sites, identity elsewhere; site 0 most significant (qutip.tensor)."""
    ops = [qutip.qeye(dim)] * n
    ops[k] = op
    return qutip.tensor(ops)


def redfield_reference(H, baths):
    """QuTiP 4.7 Bloch-Redfield reference without Lamb shift. baths: list of dicts with `op` (Hermitian
    coupling operator S), `gamma`, `wc` (Drude kappa) and `T`. Returns (rho in the site basis as a numpy
    array, [Tr[H R_b(rho)] for each bath]), R_b the bath's part of the tensor (the unitary part removed)."""
    def spectrum(b):
        return lambda w: kappa_thermal(w, b["gamma"], b["wc"], b["T"])
    a_ops = [[b["op"], spectrum(b)] for b in baths]
    R, ekets = qutip.bloch_redfield_tensor(H, a_ops, use_secular=False)
    R0, _ = qutip.bloch_redfield_tensor(H, [], use_secular=False)
    rho_eig = qutip.steadystate(R)
    rho = rho_eig.transform(ekets, True)
    Heig = H.transform(ekets)
    flows = []
    for b in baths:
        Rb, _ = qutip.bloch_redfield_tensor(H, [[b["op"], spectrum(b)]], use_secular=False)
        drho = qutip.vector_to_operator((Rb - R0) * qutip.operator_to_vector(rho_eig))
        flows.append((Heig * drho).tr().real)
    return rho.full(), flows


def lindblad_reference(H, bath_c_ops):
    """qutip.steadystate(H, c_ops) (method 'direct') for the collapse operators of all baths, and each
    bath's current Tr[H D_b(rho)], D_b the sum of the dissipators D[c] = c rho c^dag - {c^dag c, rho}/2 of
    its collapse operators. bath_c_ops: list of lists of collapse operators. Returns (rho as a numpy
    array, [current per bath])."""
    c_ops = [c for cs in bath_c_ops for c in cs]
    rho = qutip.steadystate(H, c_ops)
    currents = []
    for cs in bath_c_ops:
        drho = sum(_dissipate(c, rho) for c in cs)
        currents.append((H * drho).tr().real)
    return rho.full(), currents


def _dissipate(c, rho):
    cdc = c.dag() * c
    return c * rho * c.dag() - 0.5 * (cdc * rho + rho * cdc)


def pauli_currents(rates, energy):
    """Stationary populations of the Pauli equation with rates[a, b] = total rate a -> b (all baths), and the
    current -sum_{a,b} E[a, b] p_a of every bath, energy[name] = E with E[a, b] = sum_k Delta r(a -> b, k)."""
    n = rates.shape[0]
    W = rates.T.copy()                 # W[b, a] = rate a -> b
    np.fill_diagonal(W, 0.0)
    np.fill_diagonal(W, -W.sum(axis=0))
    M = np.vstack([W, np.ones(n)])
    rhs = np.zeros(n + 1)
    rhs[-1] = 1.0
    p = np.linalg.lstsq(M, rhs, rcond=None)[0]
    return p, {name: -float(E.sum(axis=1) @ p) for name, E in energy.items()}
