#!/usr/bin/python3
"""Levy, Rabani & Limmer, Fig. 2b: integrated response Phi^(1,1)(t) (Kubo) and Phi^(1,2)(t) (dissipator) of
the occupation a^dag a of two coupled oscillators to the cubic perturbation, eq. 33.

Caption parameters (the model file's defaults): gamma_- = 1, omega = 100, g = 90, eps = 5, delta = 0.02,
T_a = 2000, T_b = 2100 (n_- = 204.5: no Fock truncation can hold this, so qheat runs the untruncated
bosonic engine, qheat.response(untruncated=True), docs/response-bosonic.md).
The perturbation is Levy's eq. B9 operator Omega (d_- + d_-^dag)^3, for which eqs. 31-35 are written; the
model file's V_cubic is eq. 29 literally, which is its negative, so the script passes (-1)*V_cubic.
Dashed: the paper's eqs. 31 and 32 integrated as printed. Eq. 31 coincides with qheat's Kubo part; eq. 32 is
off by the factor (n_- - 1)/(-1) (docs/response-bosonic.md), which the script prints.

    /usr/bin/python3 examples/levy/fig2.py [--quick] [--build build/release] [--out docs/gallery]
"""
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gallery_common import argument_parser, load_model, qheat_package, save  # noqa: E402

MODEL = "examples/levy/two_oscillators.toml"
PERTURBATION = "(-1)*V_cubic"  # Levy eq. B9; eq. 29 (V_cubic) is its negative
DELTA = 0.02
GAMMA, OMEGA, G, EPS = 1.0, 100.0, 90.0, 5.0  # the model file's defaults (Fig. 2 caption)
W_MINUS, W_PLUS = OMEGA - G, OMEGA + G


def run_response(args, times=(), observable="n_a", **parameters):
    """qheat.response of the model (parameters: overrides such as Ta=2000) to PERTURBATION, observable n_a,
    untruncated, with Phi(t) at `times` if any: the `qheat response` JSON document as a dict."""
    qheat = qheat_package(args)
    model = load_model(args, MODEL, parameters)
    try:
        res = qheat.response(model, PERTURBATION, [observable], times=[float(t) for t in times] if len(times) else None,
                             untruncated=True)
    except qheat.Error as e:
        sys.exit(f"gallery: qheat.response of {MODEL} with {parameters} failed: [{e.rule}] {e.message}")
    return res.as_dict()


def bose(w, T):
    return 1.0 / math.expm1(w / T) if T > 0 else 0.0


def nbar_minus(Ta, Tb):
    return 0.5 * (bose(W_MINUS, Ta) + bose(W_MINUS, Tb))


def levy_phi11(t, n):
    """Eq. 31 integrated from 0 to t."""
    r, w = GAMMA / 2, W_MINUS
    i_sin = (w - np.exp(-r * t) * (r * np.sin(w * t) + w * np.cos(w * t))) / (r * r + w * w)
    return -3 * EPS * W_MINUS / W_PLUS * (2 * n + 1) * i_sin


def levy_phi12_printed(t, n):
    """Eq. 32 as printed, integrated from 0 to t."""
    r, w = GAMMA / 2, W_MINUS
    i_cos = (r + np.exp(-r * t) * (w * np.sin(w * t) - r * np.cos(w * t))) / (r * r + w * w)
    return 1.5 * EPS * GAMMA / W_PLUS * (n - 1) * (2 * n + 1) * i_cos


def main():
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    Ta, Tb = 2000.0, 2100.0
    times = np.linspace(0.0, 6.0 if args.quick else 12.0, 241 if args.quick else 2401)
    res = run_response(args, times, Ta=Ta, Tb=Tb)
    series = res["series"]["n_a"]
    kubo = np.array([p["kubo"] for p in series])
    diss = np.array([p["dissipator"] for p in series])
    n = nbar_minus(Ta, Tb)
    eq31, eq32 = levy_phi11(times, n), levy_phi12_printed(times, n)

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(GAMMA * times, DELTA * kubo, color="C0", lw=1.2, label=r"$\delta\,\Phi^{(1,1)}$ (Kubo), qheat")
    ax.plot(GAMMA * times, DELTA * diss, color="C3", lw=1.2, label=r"$\delta\,\Phi^{(1,2)}$ (dissipator), qheat")
    ax.plot(GAMMA * times, DELTA * eq31, color="k", ls="--", lw=0.8, label="Levy eq. 31 (printed)")
    ax.plot(GAMMA * times, DELTA * eq32, color="C1", ls="--", lw=0.8, label="Levy eq. 32 (printed)")
    ax.set_xlabel(r"$\gamma t$")
    ax.set_ylabel(r"$\delta\,\Phi_{a^\dagger a}(t)$")
    ax.set_title(r"Levy Fig. 2b: $T_a = 2000\gamma$, $T_b = 2100\gamma$, $\delta = 0.02$, $\bar n_- = %.1f$" % n,
                 fontsize=9)
    ax.axhline(0, color="0.7", lw=0.5)
    ax.legend(fontsize=8)
    save(fig, args, "levy_fig2")
    print(f"n_- = {n:.2f}; <a^dag a> = {res['unperturbed']['observables']['n_a']:.2f} (eq. 30: 107.4)")
    print(f"max |Kubo - eq. 31| = {np.max(np.abs(kubo - eq31)):.2e} (scale {np.max(np.abs(eq31)):.2f})")
    final = res["observables"]["n_a"]
    eq34_diss = 3 * EPS / W_PLUS * GAMMA**2 / (GAMMA**2 + 4 * W_MINUS**2) * (n - 1) * (2 * n + 1)
    print(f"t -> inf: delta*Phi11 = {DELTA * final['kubo']:.4f}, delta*Phi12 = {DELTA * final['dissipator']:.5f} "
          f"(printed eq. 34: {DELTA * eq34_diss:.4f})")
    nz = np.abs(diss) > 1e-3 * np.max(np.abs(diss))
    print(f"eq. 32 / qheat dissipator part = {np.median(eq32[nz] / diss[nz]):.2f} (1 - n_- = {1 - n:.2f})")


if __name__ == "__main__":
    main()
