"""Models built in Python (NumPy arrays, qutip.Qobj) are the models of files: a Qobj-built Zhang model
equals its TOML twin, results come back as Qobj with the model's dims, and the package installs with
`cmake --install` and imports from the prefix."""
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import example

ZHANG = example("examples/zhang2025/two_qubits.toml")
METHODS = ["local", "global", "redfield", "heom"]


def zhang_qobj(qheat, eps1=5.0, eps2=4.0, g=0.5, gamma=0.01, omega_D=50.0, T1=10.0, T2=5.0):
    """Zhang's eq. (1) as examples/zhang2025/two_qubits.toml writes it, with QuTiP operators."""
    import qutip as qt
    I = qt.qeye(2)
    sx1, sx2 = qt.tensor(qt.sigmax(), I), qt.tensor(I, qt.sigmax())
    sz1, sz2 = qt.tensor(qt.sigmaz(), I), qt.tensor(I, qt.sigmaz())
    H = 0.5 * eps1 * sz1 + 0.5 * eps2 * sz2 + g * sx1 * sx2
    baths = [qheat.Bath("hot", sx1, T=T1, spectral=qheat.Drude(gamma=2 * gamma, cutoff=omega_D), sites=["q1"]),
             qheat.Bath("cold", sx2, T=T2, spectral=qheat.Drude(gamma=2 * gamma, cutoff=omega_D), sites=["q2"])]
    return qheat.Model(H, baths, sites=["q1", "q2"], name="zhang2025 two qubits")


@pytest.mark.parametrize("method", METHODS)
def test_qobj_model_equals_toml_twin(qheat, method):
    kw = {"heom_depth": 3, "heom_terms": 2} if method == "heom" else {}
    for T1 in (10.0, 100.0):
        twin = qheat.load_model(ZHANG, T1=T1)
        built = zhang_qobj(qheat, T1=T1)
        # The matrices agree exactly: QuTiP's products and qheat's expression evaluation both give the
        # same IEEE results for these entries (0.5*eps, g, and 0/1 operator entries).
        assert np.array_equal(built.hamiltonian, twin.hamiltonian)
        a, b = built.solve(method, **kw), twin.solve(method, **kw)
        # Identical inputs, identical code: the results agree to the last bit.
        assert a.currents == b.currents and np.array_equal(a.rho, b.rho)
        da, db = a.as_dict(), b.as_dict()
        da.pop("parameters"), db.pop("parameters")  # the TOML model has parameters, the Qobj one none
        assert da == db


def test_results_as_qobj_keep_dims(qheat):
    import qutip as qt
    m = zhang_qobj(qheat)
    s = m.solve("redfield")
    rho = s.rho_qobj()
    assert isinstance(rho, qt.Qobj) and rho.dims == [[2, 2], [2, 2]]
    assert abs(rho.tr() - 1) < 1e-12  # the steady state is normalised (round-off of a 4x4 solve)
    # The file model: dims from its sites
    assert qheat.load_model(ZHANG).solve("global").rho_qobj().dims == [[2, 2], [2, 2]]
    # Equal temperatures with one spectral density: the global master equation's state is the Gibbs
    # state of H (exact identity of the Davies generator), equal to qheat.gibbs(order=0).
    eq = zhang_qobj(qheat, T1=5.0, T2=5.0)
    g0 = eq.gibbs(order=0)
    gibbs = (-eq.hamiltonian / 5.0)
    w, v = np.linalg.eigh(gibbs)
    tau = v @ np.diag(np.exp(w - w.max())) @ v.conj().T
    tau /= np.trace(tau)
    assert np.abs(g0.rho - tau).max() < 1e-13  # eigen-decomposition round-off
    assert np.abs(eq.solve("global").rho - tau).max() < 1e-10  # steady-state solve round-off (cond ~ 1e3)
    assert g0.rho_qobj().dims == [[2, 2], [2, 2]]


def cosine_qubit(qheat, eta=0.1):
    """examples/kong2026/cosine_qubit.toml from NumPy arrays and plain lists (ints accepted)."""
    sx = [[0, 1], [1, 0]]
    sz = np.diag([1, -1])
    spectral = qheat.OhmicExp(gamma=np.pi * 0.001, cutoff=10.0)
    return qheat.Model(0.5 * 1.0 * sz, [qheat.Bath("l", sx, T=1.2, spectral=spectral),
                                        qheat.Bath("r", sx, T=0.4, spectral=spectral)],
                       drive=qheat.Drive(0.7, {1: (eta / 2) * np.array(sx)}), operators={"X": sx}, sites=["q"])


def test_driven_array_model_equals_file(qheat):
    f = example("examples/kong2026/cosine_qubit.toml")
    for eta in (0.1, 0.3):
        a = cosine_qubit(qheat, eta).solve("floquet").as_dict()
        b = qheat.load_model(f, eta=eta).solve("floquet").as_dict()
        a.pop("parameters"), b.pop("parameters"), a.pop("model"), b.pop("model")
        assert a == b
    # named operators of an array model work as sweep observables; sweeps over a function of eta
    t = qheat.sweep(lambda eta: cosine_qubit(qheat, eta), vary={"eta": [0.1, 0.3]}, methods=["redfield"],
                    observables=["X", "sz(q)"])
    direct = [cosine_qubit(qheat, eta).solve("redfield") for eta in (0.1, 0.3)]
    assert list(t["J_l"]) == [d.currents["l"] for d in direct]
    assert list(t["sz(q)"]) == [np.trace(d.rho @ np.diag([1, -1])).real for d in direct] or np.allclose(
        t["sz(q)"], [np.trace(d.rho @ np.diag([1, -1])).real for d in direct], rtol=0, atol=1e-15)


def test_cmake_install_into_a_prefix(tmp_path):
    build = os.environ.get("QHEAT_BUILD_DIR")
    if not build:
        pytest.skip("QHEAT_BUILD_DIR (set by ctest) names the build tree to install from")
    prefix = tmp_path / "prefix"
    r = subprocess.run(["cmake", "--install", build, "--prefix", str(prefix), "--component", "python"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    site = [os.path.join(d, "dist-packages") for d, _, files in os.walk(prefix) if "dist-packages" in _]
    assert len(site) == 1, site
    env = dict(os.environ, PYTHONPATH=site[0])
    code = ("import qheat, os; m = qheat.load_model(os.environ['ZHANG']); "
            "print(qheat.__file__); print(m.solve('global').currents['hot'])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(env, ZHANG=ZHANG))
    assert r.returncode == 0, r.stderr
    where, current = r.stdout.split()
    assert where.startswith(str(prefix)) and float(current) > 0
