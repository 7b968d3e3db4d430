"""The Python package computes exactly what the command line computes: for every example model file and
every method, Model.solve(...).as_dict() equals the JSON of `qheat ness --state` bit for bit (both are
the same C++ document; JSON numbers are printed in shortest round-trip form), or both refuse with the same
rule. Likewise gibbs (`qheat gibbs`) and response (`qheat response`)."""
import glob
import os

import pytest

from conftest import ROOT, cli_json, cli_rule, example, run_cli

MODELS = sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "examples", "*", "*.toml"))
                if not p.endswith("checks.toml"))
METHODS = ["local", "global", "redfield", "heom", "dme", "ddme", "floquet"]
# HEOM on the examples with a small fixed hierarchy: the comparison is of the two front ends, not of
# convergence (automatic mode on the chains takes minutes).
HEOM = ["--heom-depth", "2", "--heom-terms", "1"]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("method", METHODS)
def test_solve_equals_cli_json(qheat, model, method):
    args = ["ness", example(model), "--method", method, "--state"] + (HEOM if method == "heom" else [])
    code, out, err = run_cli(*args)
    m = qheat.load_model(example(model))
    kwargs = {"heom_depth": 2, "heom_terms": 1} if method == "heom" else {}
    if code == 2:
        with pytest.raises(qheat.Error) as e:
            m.solve(method, **kwargs)
        assert e.value.rule == cli_rule(err)
        return
    import json
    assert code in (0, 4), err
    assert m.solve(method, **kwargs).as_dict() == json.loads(out)


def test_overrides_equal_cli_set(qheat):
    f = example("examples/zhang2025/two_qubits.toml")
    want = cli_json("ness", f, "--method", "redfield", "--set", "T1=150", "--set", "g=0.01*2", "--state")
    got = qheat.load_model(f, T1=150, g="0.01*2").solve("redfield").as_dict()
    assert got == want
    # with_parameters on a loaded model: the same as loading with the overrides
    got2 = qheat.load_model(f, T1=150).with_parameters(g="0.01*2").solve("redfield").as_dict()
    assert got2 == want


@pytest.mark.parametrize("name,value", [("second-order", "second-order"), ("off", False), ("on", True),
                                        ("ishizaki-tanimura", "ishizaki-tanimura")])
def test_heom_terminator_equals_cli(qheat, name, value):
    f = example("examples/zhang2025/two_qubits.toml")
    want = cli_json("ness", f, "--method", "heom", "--heom-depth", "3", "--heom-terms", "2",
                    "--heom-terminator", name, "--state")
    got = qheat.load_model(f).solve("heom", heom_depth=3, heom_terms=2, heom_terminator=value).as_dict()
    assert got == want
    assert got["heom"]["terminator"] == {"on": "ishizaki-tanimura"}.get(name, name)


@pytest.mark.parametrize("name", ["dense", "iterative", "auto"])
def test_heom_schur_equals_cli(qheat, name):
    # How ADO 0's preconditioner solves with B0 (--heom-schur; "auto" takes the dense factors for two qubits).
    f = example("examples/zhang2025/two_qubits.toml")
    want = cli_json("ness", f, "--method", "heom", "--heom-depth", "3", "--heom-terms", "2", "--heom-schur", name,
                    "--state")
    got = qheat.load_model(f).solve("heom", heom_depth=3, heom_terms=2, heom_schur=name).as_dict()
    assert got == want
    assert got["heom"]["schur"]["solver"] == {"auto": "dense"}.get(name, name)


def test_gibbs_equals_cli(qheat):
    f = example("examples/zhang2025/two_qubits.toml")
    want = cli_json("gibbs", f, "--set", "T1=5", "--observable", "sz(q1)")
    g = qheat.load_model(f, T1=5).gibbs(observables=["sz(q1)"])
    assert g.as_dict() == want
    assert g.order == 2 and g.temperature == 5
    assert g.observables["sz(q1)"] == complex(want["observables"]["sz(q1)"]["re"], want["observables"]["sz(q1)"]["im"])


def test_gibbs_of_a_chain_equals_cli_at_each_thread_count(qheat):
    # 64 levels: the eigenbasis by sectors; rho comes as NumPy and as_dict() rebuilds the document's rho.
    f = example("examples/chain/xx_chain.toml")
    for threads in (1, 2):
        want = cli_json("gibbs", f, "--set", "N=6", "--set", "T_hot=1", "--observable", "sz(q1)",
                        "--threads", str(threads))
        got = qheat.load_model(f, N=6, T_hot=1).gibbs(observables=["sz(q1)"], threads=threads)
        assert got.as_dict() == want
        assert got.rho.shape == (64, 64)
    with pytest.raises(qheat.Error, match="threads must be a whole number from 1 to 1024"):
        qheat.load_model(f, N=6, T_hot=1).gibbs(threads=0)


@pytest.mark.parametrize("model,perturbation,observables,extra", [
    ("examples/levy/two_qubits.toml", "V_zz", ["sz(A)"], ["--times", "0:10:3", "--delta-sweep", "0.001,0.01"]),
    ("examples/levy/two_oscillators.toml", "V_cubic", ["n_a"], []),
])
def test_response_equals_cli(qheat, model, perturbation, observables, extra):
    args = ["response", example(model), "--perturbation", perturbation]
    for o in observables:
        args += ["--observable", o]
    code, out, err = run_cli(*(args + extra))
    if code != 0:
        pytest.fail(err)
    import json
    kwargs = {}
    if "--times" in extra:
        kwargs = {"times": [0.0, 5.0, 10.0], "delta_sweep": [0.001, 0.01]}
    r = qheat.response(qheat.load_model(example(model)), perturbation, observables, **kwargs)
    assert r.as_dict() == json.loads(out)
