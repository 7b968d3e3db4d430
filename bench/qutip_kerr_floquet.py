#!/usr/bin/env python3
"""Side-by-side (P3): the driven Kerr resonator of examples/kong2026/kerr.toml at nmax = 30 (Fig. 5(b) point),
qheat's `--method floquet` (and `ddme` for reference) against QuTiP 4.7's Floquet machinery, harmonic count
matched; prints the times, their ratio and the current differences.

  /usr/bin/python3 bench/qutip_kerr_floquet.py --qheat build/release/qheat

Model: H(t) = eps n + chi a^dag a^dag a a - (eta/2)(e^{-i w_d t} a^dag + h.c.), two baths at T_l, T_r with
exchange coupling through A = a (conventions.md: H_SB = sum_k g_k (b_k^dag A + b_k A^dag); emission through A
at kappa(w)(1 + n), absorption through A^dag at kappa(w) n), kappa(w) = pi alpha w exp(-w/omega_c).

qheat side: the whole `qheat ness ... --method floquet` process (Sambe modes, the default, and
`--floquet-solver propagator`), `--method ddme`, and a Hermitian-coupled variant (operator a + a^dag, a TOML
written to /tmp). Best of --repeat runs each. `floquet.harmonics` of the JSON is the K (|k| <= K) qheat kept.

QuTiP side (timed): qutip.floquet_modes (ODE propagator over one period; atol = rtol = --ode-tol),
qutip.floquet_modes_table on the grid floquet_master_equation_rates integrates on (nT + 1 points,
nT = max(20 kmax, 100); its lookup needs exactly that grid), and qutip.floquet_master_equation_rates once per
bath (one temperature per call), kmax = K of qheat; then the fully secular Pauli populations and each bath's
current, built from QuTiP's Delta, Gamma, A as in tests/python/test_qutip_floquet_cosine.py:
  J_cb(w) = kappa(w)/(2 pi) for w > 0 (QuTiP multiplies by 2 pi and adds n, n + 1 itself);
  A[a,b] = rate a -> b = sum_k (1 + n) Gamma[a,b,k] + n Gamma[b,a,-k];
  J_bath = -sum_{a,b,k} Delta[a,b,k] r(a -> b, k) p_a, Delta[a,b,k] = eps_a - eps_b + k w_d the energy the
  bath receives (a -> a sidebands included).

Harmonic count. qheat uses the "unfolded" gauge (methods.md: the replica whose mean harmonic index lies in
[-1/2, 1/2), i.e. eps_a near the mode's mean energy), so the modes carry only the drive's harmonics (K = 3
here). QuTiP's default gauge folds eps_a into [-w_d/2, w_d/2]; mode a then carries harmonics shifted by its
unfolding integer m_a (0..756 here), X_ab(k) sits near k = m_b - m_a (up to ~50 for the pairs that a
connects directly) and no small kmax is "the same" count. QuTiP accepts any quasienergy representative
(floquet_modes_table and floquet_master_equation_rates take f_energies as an input), so the matched
computation passes QuTiP the quasienergies unfolded by the mean energy <phi_a(0)|H_S|phi_a(0)> (the rule of
qheat's propagator solver) and kmax = K. The table is computed once on the grid of the reference kmax = 20
(401 points; the matched rates use every 4th point, the grid nT = 100 they need). Reference computations
(not timed): the unfolded gauge at kmax = 20, and QuTiP's own folded gauge at kmax = 20 (the table of the
folded gauge is the unfolded one times e^{-i m_a w_d t}, exactly what floquet_modes_table returns for the
folded energies).

Exchange coupling in QuTiP. floquet_master_equation_rates assumes nothing about c_op but reads it one way:
with X[a,b,k] = <phi_a|c|phi_b>_k, the emission a -> b (Delta[a,b,k] > 0) gets |X[a,b,k]|^2 = |<phi_b|c^dag
|phi_a>_{-k}|^2, the element of c^dag along the jump, and the absorption a -> b (from n Gamma[b,a,-k]) gets
|X[b,a,-k]|^2, the element of c along the jump. Exchange coupling emits through A and absorbs through
A^dag, so c_op = A^dag = a^dag reproduces it exactly (for a Hermitian S both readings coincide). The script
checks this against rates built by hand from X of c_op = a (kappa_+ on A's elements, kappa_- on A^dag's).

Exact reference. For this drive the rotating frame is exact: with |r_a>, E_a the eigenpairs of
H_rot = (eps - w_d) n + chi a^dag a^dag a a - (eta/2)(a + a^dag), the Floquet states are
e^{-i w_d n t}|r_a> e^{-i E_a t}, so A = a has the single harmonic a e^{-i w_d t}: the jump a -> b emits
E_a - E_b + w_d at kappa_+ |<r_b|a|r_a>|^2 and absorbs through a^dag with E_a - E_b - w_d at kappa_-
|<r_b|a^dag|r_a>|^2 (for x = a + a^dag both, each at kappa~). The quasienergies are E_a mod w_d. This needs
no ODE and no Fourier sums; both codes are compared with it.

Accuracy of QuTiP here: its one-period propagator comes from an ODE over ~4700 rad of phase (|H| ~ 380,
T = 4 pi), and the global error is far above the local tolerance: quasienergy error 7.7e-7 at
atol = rtol = 1e-10 (the default here), 6.9e-9 at 1e-12 for ~6x the time of floquet_modes. Several
quasienergy pairs are split by only 3e-9 to 8e-7 (qheat's floquet.near_degenerate), less than that error, so
QuTiP's eigenvectors of U(T) within such a pair may be mixtures of the true modes; measured, J_r still
agrees with qheat and with the exact reference to < 1e-9 relative (2.5e-10 and 6e-10 in two runs, which
differed only in the ODE's output grid). In QuTiP's folded gauge the unfolding integers m_a span 0..756, and kmax = 20 there misses most
of the rates (J_r off by ~90%): a folded-gauge comparison needs kmax above max|m_a - m_b| of every pair
that matters.
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import qutip

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "python"))
from qutip_reference import pauli_currents  # noqa: E402
MODEL = os.path.join(REPO, "examples", "kong2026", "kerr.toml")
P = dict(eps=1.0, chi=0.4, eta=0.1, omega_d=0.5, alpha=0.001, omega_c=10.0, T_l=1.2, T_r=0.4, nmax=30)
TEMPS = {"l": P["T_l"], "r": P["T_r"]}


def kappa(w):
    return math.pi * P["alpha"] * w * math.exp(-w / P["omega_c"])


def bose(w, T):
    x = w / T
    return 1.0 / math.expm1(x) if x < 700.0 else 0.0


def kappa_plus(w, T):   # emission: w > 0
    return kappa(w) * (1.0 + bose(w, T)) if w > 0 else 0.0


def kappa_minus(w, T):  # absorption of |w|: w < 0
    return kappa(-w) * bose(-w, T) if w < 0 else 0.0


def J_cb(w):  # QuTiP's spectral function: kappa / (2 pi), positive frequencies
    return kappa(w) / (2 * math.pi) if w > 0 else 0.0


# ---- timing: wall time and CPU time (the machine may be shared: CPU time is the steadier of the two) ----
def best(f, repeat):
    """Runs f() `repeat` times; returns (shortest wall time, CPU time of the child processes in that run,
    value)."""
    runs, value = [], None
    for _ in range(repeat):
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        value = f()
        t = time.perf_counter() - t0
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        runs.append((t, (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)))
    t, c = min(runs)
    return t, c, value


def clock():
    return time.perf_counter(), time.process_time()


# ---- qheat --------------------------------------------------------------------------------------------------
def qheat_run(exe, path, method, solver=None):
    cmd = [exe, "ness", path, "--method", method, "--set", f"nmax={P['nmax']}"]
    if solver:
        cmd += ["--floquet-solver", solver]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def hermitian_variant_toml():
    """kerr.toml with both baths coupled through x = a + a^dag (hermitian), in a temporary file."""
    text = open(MODEL).read()
    text = text.replace('coupling = "exchange"\noperator = "a(c)"',
                        'coupling = "hermitian"\noperator = "a(c) + adag(c)"')
    assert text.count('coupling = "hermitian"') == 2, "kerr.toml changed: adapt hermitian_variant_toml"
    f = tempfile.NamedTemporaryFile("w", suffix=".toml", prefix="kerr_x_", dir="/tmp", delete=False)
    f.write(text)
    f.close()
    return f.name


# ---- QuTiP --------------------------------------------------------------------------------------------------
def model():
    N = P["nmax"] + 1
    a = qutip.destroy(N)
    H0 = P["eps"] * a.dag() * a + P["chi"] * a.dag() * a.dag() * a * a
    V = -(P["eta"] / 2) * a.dag()
    w = P["omega_d"]
    H = [H0, [V, lambda t, args: np.exp(-1j * w * t)], [V.dag(), lambda t, args: np.exp(1j * w * t)]]
    return a, H0, V, H


def unfold(f_modes_0, f_energies, H0, wd):
    """qheat's gauge: eps_a + m_a w_d nearest the mode's mean energy <phi_a(0)|H0|phi_a(0)>; returns (eps, m)."""
    m = np.array([round(((f.dag() * H0 * f).tr().real - e) / wd) for f, e in zip(f_modes_0, f_energies)])
    return np.asarray(f_energies) + m * wd, m


def grid_points(kmax):
    """nT of floquet_master_equation_rates: its table must hold the nT + 1 points linspace(0, T, nT + 1)."""
    return max(20 * kmax, 100)


def table_for(f_modes_0, energies, H, T, nT, opts):
    return qutip.floquet_modes_table(f_modes_0, energies, np.linspace(0, T, nT + 1), H, T, {}, options=opts)


def subgrid(table, nT_fine, nT):
    """The table on linspace(0, T, nT + 1) taken from one on linspace(0, T, nT_fine + 1), nT | nT_fine."""
    return table[::nT_fine // nT]


def rates_and_flows(f_modes_0, energies, c_op, H, T, kmax, table):
    """Per bath: QuTiP's A (rate a -> b) and E[a,b] = sum_k Delta r(a -> b, k)."""
    out = {}
    for name, Tb in TEMPS.items():
        Delta, X, Gamma, A = qutip.floquet_master_equation_rates(
            f_modes_0, energies, c_op, H, T, {}, J_cb, Tb, kmax, table)
        n = np.vectorize(lambda x: qutip.n_thermal(abs(x), Tb))(Delta)
        r = (1.0 + n) * Gamma + n * Gamma.transpose(1, 0, 2)[:, :, ::-1]
        out[name] = (A, (Delta * r).sum(axis=2), r.sum(axis=2), X)
    return out


def pauli(rates_by_bath):
    """rates_by_bath: name -> (R, E), R[a,b] = rate a -> b, E[a,b] = sum Delta r. Returns currents INTO the
    system, J = -sum_{a,b} E[a,b] p_a, and p (tests/python/qutip_reference.pauli_currents)."""
    p, currents = pauli_currents(sum(v[0] for v in rates_by_bath.values()),
                                 {name: v[1] for name, v in rates_by_bath.items()})
    return currents, p


def exchange_by_hand(X_a, energies, wd, Tb):
    """Exchange rates from X of c_op = a (QuTiP's X[b,a,k] = <phi_b|a|phi_a>_k): the jump a -> b through
    harmonic k hands the bath D = eps_a - eps_b - k w_d (qheat's Delta), at kappa_+(D)|<b|A|a>_k|^2 and
    kappa_-(D)|<b|A^dag|a>_k|^2, <b|A^dag|a>_k = conj(<a|A|b>_{-k})."""
    N, _, M = X_a.shape
    kmax = (M - 1) // 2
    R = np.zeros((N, N))
    for a in range(N):
        for b in range(N):
            for i, k in enumerate(range(-kmax, kmax + 1)):
                D = energies[a] - energies[b] - k * wd
                R[a, b] += kappa_plus(D, Tb) * abs(X_a[b, a, i]) ** 2 + \
                    kappa_minus(D, Tb) * abs(X_a[a, b, M - 1 - i]) ** 2
    return R


def rotating_frame_reference(a, H0, V, coupling):
    """Exact Floquet-Markov currents and quasienergies from the static rotating-frame Hamiltonian."""
    wd = P["omega_d"]
    Hrot = (H0 - wd * a.dag() * a + V + V.dag()).full()
    E, U = np.linalg.eigh(Hrot)
    Am = U.conj().T @ a.full() @ U          # Am[b, a] = <r_b|a|r_a>
    Ap = U.conj().T @ a.dag().full() @ U    # <r_b|a^dag|r_a>
    by_bath = {}
    for name, Tb in TEMPS.items():
        R = np.zeros_like(Hrot.real)
        Ef = np.zeros_like(R)
        for ia in range(len(E)):
            for ib in range(len(E)):
                # a-part (e^{-i w_d t}): the bath gets E_a - E_b + w_d; exchange: emission only (kappa_+).
                # a^dag-part (e^{+i w_d t}): E_a - E_b - w_d; exchange: absorption only (kappa_-).
                for D, M, kap in ((E[ia] - E[ib] + wd, Am[ib, ia], kappa_plus),
                                  (E[ia] - E[ib] - wd, Ap[ib, ia], kappa_minus)):
                    w2 = abs(M) ** 2
                    if coupling == "exchange":
                        k = kap(D, Tb)
                    else:
                        k = kappa_plus(D, Tb) + kappa_minus(D, Tb)
                    R[ia, ib] += k * w2
                    Ef[ia, ib] += D * k * w2
        by_bath[name] = (R, Ef)
    J, _ = pauli(by_bath)
    return J, E


def folded_error(x, ref, wd):
    """max over x of the distance (mod w_d) to the nearest of ref."""
    ref = np.asarray(ref)
    return max(float(np.min(np.abs((xi - ref + 0.5 * wd) % wd - 0.5 * wd))) for xi in x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qheat", default=os.path.join(REPO, "build", "release", "qheat"))
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--ode-tol", type=float, default=1e-10, help="QuTiP's atol = rtol")
    ap.add_argument("--kmax-ref", type=int, default=20)
    ap.add_argument("--nmax", type=int, default=30, help="Fock cutoff (the benchmark point is 30)")
    args = ap.parse_args()
    P["nmax"] = args.nmax
    wd = P["omega_d"]
    T = 2 * math.pi / wd
    print(f"qutip {qutip.__version__}; Kerr nmax = {P['nmax']}, omega_d = {wd}, eta = {P['eta']}, "
          f"chi = {P['chi']}")

    # ---- qheat ----
    t_sambe, c_sambe, js = best(lambda: qheat_run(args.qheat, MODEL, "floquet"), args.repeat)
    t_prop, c_prop, jp = best(lambda: qheat_run(args.qheat, MODEL, "floquet", "propagator"), args.repeat)
    t_ddme, c_ddme, jd = best(lambda: qheat_run(args.qheat, MODEL, "ddme"), args.repeat)
    xpath = hermitian_variant_toml()
    try:
        t_x, c_x, jx = best(lambda: qheat_run(args.qheat, xpath, "floquet"), args.repeat)
    finally:
        os.unlink(xpath)
    K = js["floquet"]["harmonics"]

    # ---- exact rotating-frame reference ----
    a, H0, V, H = model()
    J_exact, E_rot = rotating_frame_reference(a, H0, V, "exchange")
    Jx_exact, _ = rotating_frame_reference(a, H0, V, "hermitian")

    # ---- QuTiP, matched: unfolded gauge, kmax = K (timed) ----
    opts = qutip.Options(nsteps=10**8, atol=args.ode_tol, rtol=args.ode_tol)
    c0 = clock()
    f_modes_0, f_energies = qutip.floquet_modes(H, T, {}, options=opts)
    c1 = clock()
    eps_u, m = unfold(f_modes_0, f_energies, H0, wd)
    # One table serves the matched and the reference rates when the reference grid refines the matched one
    # (the ODE's steps, not the output points, set its cost: measured at nmax = 30, 575 s for 101 points
    # and 680 s for 401 points without output normalisation, on a loaded machine).
    kr = args.kmax_ref
    nT_K, nT_r = grid_points(K), grid_points(kr)
    nT_table = nT_r if nT_r % nT_K == 0 else nT_K
    table = table_for(f_modes_0, eps_u, H, T, nT_table, opts)
    table_K = subgrid(table, nT_table, nT_K)
    c2 = clock()
    q_K = rates_and_flows(f_modes_0, eps_u, a.dag(), H, T, K, table_K)
    J_qK, _ = pauli({n: (v[0], v[1]) for n, v in q_K.items()})
    c3 = clock()
    t_q, cpu_q = c3[0] - c0[0], c3[1] - c0[1]

    # ---- QuTiP references (not timed): kmax = kmax_ref, unfolded and folded gauge; hermitian variant ----
    table_u = table if nT_table == nT_r else table_for(f_modes_0, eps_u, H, T, nT_r, opts)
    tl = np.linspace(0, T, nT_r + 1)
    table_f = [[f * np.exp(-1j * mi * wd * t) for f, mi in zip(row, m)] for row, t in zip(table_u, tl)]
    q_u = rates_and_flows(f_modes_0, eps_u, a.dag(), H, T, kr, table_u)
    J_qu, _ = pauli({n: (v[0], v[1]) for n, v in q_u.items()})
    q_f = rates_and_flows(f_modes_0, f_energies, a.dag(), H, T, kr, table_f)
    J_qf, _ = pauli({n: (v[0], v[1]) for n, v in q_f.items()})
    q_x = rates_and_flows(f_modes_0, eps_u, a + a.dag(), H, T, K, table_K)
    Jx_q, _ = pauli({n: (v[0], v[1]) for n, v in q_x.items()})
    # c_op = a^dag against exchange rates built by hand from X of c_op = a (same modes, kmax = K)
    q_a = rates_and_flows(f_modes_0, eps_u, a, H, T, K, table_K)
    map_err = max(np.max(np.abs(exchange_by_hand(q_a[n][3], eps_u, wd, Tb) - q_K[n][0])) / np.max(q_K[n][0])
                  for n, Tb in TEMPS.items())

    # ---- report ----
    def rel(x, y):
        return abs(x - y) / abs(y)

    Jr = {"qheat floquet (sambe)": js["currents"]["r"], "qheat floquet (propagator)": jp["currents"]["r"],
          "qheat ddme": jd["currents"]["r"], "rotating frame (exact)": J_exact["r"],
          f"QuTiP, unfolded gauge, kmax = {K} (matched)": J_qK["r"],
          f"QuTiP, unfolded gauge, kmax = {kr}": J_qu["r"], f"QuTiP, folded gauge, kmax = {kr}": J_qf["r"]}
    ref = js["currents"]["r"]
    print(f"\nqheat kept harmonics |k| <= K = {K} (Sambe zone {js['floquet'].get('sambe_harmonics')}; "
          f"propagator: K = {jp['floquet']['harmonics']}, {jp['floquet'].get('steps_per_period')} steps/period); "
          f"QuTiP: unfolding integers m_a in [{m.min()}, {m.max()}], ODE atol = rtol = {args.ode_tol:g}")
    print(f"\ntimes: wall [CPU] in s (qheat: best of {args.repeat} whole processes, CPU of that run; QuTiP: once)")
    rows = [("qheat ness --method floquet (sambe)", t_sambe, c_sambe),
            ("qheat ness --method floquet (propagator)", t_prop, c_prop),
            ("qheat ness --method ddme", t_ddme, c_ddme),
            ("qheat ness --method floquet, x = a + a^dag", t_x, c_x),
            ("QuTiP floquet_modes", c1[0] - c0[0], c1[1] - c0[1]),
            (f"QuTiP floquet_modes_table ({nT_table + 1} points)", c2[0] - c1[0], c2[1] - c1[1]),
            (f"QuTiP floquet_master_equation_rates x 2, kmax = {K}", c3[0] - c2[0], c3[1] - c2[1]),
            ("QuTiP total (+ Pauli populations, currents)", t_q, cpu_q)]
    for name, t, c in rows:
        print(f"  {name:50s} {t:9.3f} [{c:9.3f}]")
    print(f"  ratio QuTiP / qheat, wall [CPU]: floquet sambe {t_q / t_sambe:.0f} [{cpu_q / c_sambe:.0f}], "
          f"floquet propagator {t_q / t_prop:.0f} [{cpu_q / c_prop:.0f}], ddme {t_q / t_ddme:.0f} "
          f"[{cpu_q / c_ddme:.0f}]")
    print("\nJ_r = currents[\"r\"] (heat into the system from bath r), exchange coupling A = a")
    for name, v in Jr.items():
        print(f"  {name:44s} {v: .12e}   rel. difference to qheat-sambe {rel(v, ref):.2e}")
    print(f"  QuTiP c_op = a^dag vs exchange rates by hand from X(a): max deviation {map_err:.1e} of max rate")
    print("\nHermitian variant x = a + a^dag (both baths), J_r")
    print(f"  qheat floquet (sambe)                        {jx['currents']['r']: .12e}")
    print(f"  rotating frame (exact)                       {Jx_exact['r']: .12e}   rel. difference to qheat "
          f"{rel(Jx_exact['r'], jx['currents']['r']):.2e}")
    print(f"  QuTiP, unfolded gauge, kmax = {K:<2d}              {Jx_q['r']: .12e}   rel. difference to qheat "
          f"{rel(Jx_q['r'], jx['currents']['r']):.2e}")
    print("\nquasienergies (max distance mod w_d)")
    print(f"  qheat sambe vs exact       {folded_error(js['floquet']['quasienergies'], E_rot, wd):.2e}")
    print(f"  qheat propagator vs exact  {folded_error(jp['floquet']['quasienergies'], E_rot, wd):.2e}")
    print(f"  QuTiP vs exact             {folded_error(f_energies, E_rot, wd):.2e}")
    print(f"  QuTiP vs qheat sambe       {folded_error(f_energies, js['floquet']['quasienergies'], wd):.2e}")
    nd = js["floquet"]["near_degenerate"]
    if nd:
        print(f"  qheat: {len(nd)} near-degenerate pairs, smallest splitting "
              f"{min(x['splitting'] for x in nd):.1e}")


if __name__ == "__main__":
    main()
