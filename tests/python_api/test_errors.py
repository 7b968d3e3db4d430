"""Every error reaches Python as a qheat.Error subclass with the rule it broke (docs/python.md, "Errors"):
the same rules as the command line, the model-file line where there is one, and clear messages for arrays
of the wrong shape or dtype. No C++ exception or crash reaches the interpreter."""
import numpy as np
import pytest

from conftest import cli_rule, example, run_cli

ZHANG = example("examples/zhang2025/two_qubits.toml")


def drude():
    import qheat
    return qheat.Drude(gamma=0.02, cutoff=50)


def qubit_pair():
    sx = np.array([[0, 1], [1, 0]], dtype=complex)
    sz = np.diag([1.0, -1.0])
    I = np.eye(2)
    H = 0.5 * np.kron(sz, I) + 0.5 * np.kron(I, sz)
    return H, np.kron(sx, I), np.kron(I, sx)


def test_hierarchy(qheat):
    for cls in (qheat.ModelError, qheat.MethodError, qheat.ExpressionError, qheat.MemoryLimitError):
        assert issubclass(cls, qheat.Error)
    assert issubclass(qheat.Error, Exception)


def test_model_file_error_has_rule_line_and_file(qheat, tmp_path):
    text = open(ZHANG).read().replace('coupling = "hermitian"', 'coupling = "sideways"', 1)
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    line = next(i + 1 for i, l in enumerate(text.splitlines()) if "sideways" in l)
    with pytest.raises(qheat.ModelError) as e:
        qheat.load_model(str(bad))
    code, _, err = run_cli("ness", bad)
    assert code == 2 and e.value.rule == cli_rule(err)
    assert e.value.line == line and e.value.file.endswith("bad.toml")
    assert f":{line}:" in e.value.message


@pytest.mark.parametrize("call,cls,rule", [
    (lambda q: q.load_model(ZHANG, nope=1), "ModelError", "unknown-parameter"),
    (lambda q: q.load_model(ZHANG, T1="1/"), "ModelError", "expression"),
    (lambda q: q.load_model(ZHANG).operator("sz(q1"), "ExpressionError", "expression"),
    (lambda q: q.load_model(ZHANG, T1=-1), "ModelError", "negative-temperature"),
    (lambda q: q.load_model(ZHANG).solve("nonsense"), "MethodError", "unknown-method"),
    (lambda q: q.load_model(ZHANG).solve("dme"), "MethodError", None),
    (lambda q: q.load_model(ZHANG).solve("heom", heom_depth=99), "Error", "heom-depth"),
    (lambda q: q.load_model(ZHANG).solve("heom", heom_tol=2.0), "Error", "heom-tol"),
    (lambda q: q.load_model(ZHANG).solve("heom", heom_terminator="bogus"), "MethodError", "heom-terminator"),
    (lambda q: q.load_model(ZHANG).solve("heom", heom_terminator=3), "MethodError", "heom-terminator"),
    (lambda q: q.load_model(ZHANG).solve("heom", heom_schur="lu"), "MethodError", "heom-schur"),
    (lambda q: q.load_model(ZHANG).solve("global", lamb_shift="maybe"), "Error", None),
    (lambda q: q.load_model(ZHANG).gibbs(), "MethodError", "mean-force-temperature"),
    (lambda q: q.load_model(ZHANG).gibbs(order=1), "MethodError", "mean-force-order"),
    (lambda q: q.load_model(ZHANG).operator("sz(nosuchsite)"), "Error", None),
    (lambda q: q.sweep(q.load_model(ZHANG), vary={"T1": "5:205"}), "Error", "vary-syntax"),
    (lambda q: q.sweep(q.load_model(ZHANG), vary={"nope": [1, 2]}), "ModelError", "unknown-parameter"),
    (lambda q: q.sweep(q.load_model(ZHANG), vary={"T1": [1, 2]}, methods=["global"], reference="redfield"),
     "Error", "sweep-reference"),
    (lambda q: q.response(q.load_model(ZHANG), "sz(q1)", method="redfield"), "MethodError", "response-method"),
    (lambda q: q.check(example("examples/zhang2025/two_qubits.toml")), "ModelError", "check-file"),
])
def test_rules(qheat, call, cls, rule):
    with pytest.raises(getattr(qheat, cls)) as e:
        call(qheat)
    assert e.value.rule, "every error names its rule"
    if rule is not None:
        assert e.value.rule == rule, e.value
    assert e.value.message


def test_cli_and_python_agree_on_rules(qheat):
    # The same bad request through both front ends gives the same rule.
    for args, call in [
        (["ness", ZHANG, "--method", "nonsense"], lambda: qheat.load_model(ZHANG).solve("nonsense")),
        (["ness", ZHANG, "--set", "T1=-1"], lambda: qheat.load_model(ZHANG, T1=-1)),
        (["ness", ZHANG, "--method", "heom", "--heom-depth", "99"], lambda: qheat.load_model(ZHANG).solve("heom", heom_depth=99)),
    ]:
        code, _, err = run_cli(*args)
        with pytest.raises(qheat.Error) as e:
            call()
        assert code == 2 and e.value.rule == cli_rule(err)


def test_memory_limit_is_refused_with_the_estimate(qheat):
    chain = qheat.load_model(example("examples/chain/xx_chain.toml"), N=10)
    qheat.set_max_memory("64M")
    try:
        with pytest.raises(qheat.MemoryLimitError) as e:
            chain.solve("redfield")
    finally:
        qheat.set_max_memory(None)
    assert e.value.rule == "memory-limit"
    assert e.value.estimate > e.value.limit == 64 * 2**20


@pytest.mark.parametrize("H,rule,words", [
    (np.zeros(4), "array-shape", "square 2-D"),
    (np.zeros((4, 3)), "array-shape", "(4, 3)"),
    (np.zeros((4, 4, 1)), "array-shape", "square 2-D"),
    (np.array([["a", "b"], ["c", "d"]]), "array-dtype", "numbers"),
    (np.array([[1, None], [None, 1]], dtype=object), "array-dtype", "numbers"),
    (np.full((4, 4), np.nan), "array-finite", "non-finite"),
])
def test_bad_hamiltonian_arrays(qheat, H, rule, words):
    _, s1, s2 = qubit_pair()
    with pytest.raises(qheat.ModelError) as e:
        qheat.Model(H, baths=[qheat.Bath("hot", s1, T=1.0, spectral=drude())])
    assert e.value.rule == rule and words in e.value.message and e.value.line == 0


def test_bad_operator_arrays(qheat):
    H, s1, _ = qubit_pair()
    with pytest.raises(qheat.ModelError) as e:  # operator of the wrong dimension
        qheat.Model(H, baths=[qheat.Bath("hot", np.eye(2), T=1.0, spectral=drude())])
    assert e.value.rule == "array-shape" and "4 x 4" in e.value.message
    with pytest.raises(qheat.ModelError) as e:  # a hermitian coupling needs a Hermitian S
        qheat.Model(H, baths=[qheat.Bath("hot", np.triu(np.ones((4, 4))), T=1.0, spectral=drude())])
    assert e.value.rule == "hermitian-coupling"
    with pytest.raises(qheat.ModelError) as e:  # non-Hermitian H, the rule of model files
        qheat.Model(H + np.triu(np.ones((4, 4)), 1), baths=[qheat.Bath("hot", s1, T=1.0, spectral=drude())])
    assert e.value.rule == "hermitian-hamiltonian"
    with pytest.raises(qheat.ModelError) as e:
        qheat.Model(H, baths=[qheat.Bath("hot", s1, T=-1.0, spectral=drude())])
    assert e.value.rule == "negative-temperature"
    with pytest.raises(qheat.ModelError) as e:
        qheat.Model(H, baths=[qheat.Bath("hot", s1, T=1.0, spectral=drude()),
                              qheat.Bath("hot", s1, T=2.0, spectral=drude())])
    assert e.value.rule == "duplicate-bath"
    with pytest.raises(qheat.ModelError) as e:
        qheat.Model(H, baths=[qheat.Bath("hot", s1, T=1.0, spectral=qheat.Drude(gamma=-1, cutoff=1))])
    assert e.value.rule == "spectral-density"  # the rule a model file's gamma < 0 breaks (docs/python.md: same rules)
    for bad in (lambda: qheat.Drude(gamma=1, cutoff=0), lambda: qheat.PowerLaw(1, 0, 1)):
        with pytest.raises(qheat.ModelError) as e:
            qheat.Model(H, baths=[qheat.Bath("hot", s1, T=1.0, spectral=bad())])
        assert e.value.rule == "spectral-density"
    with pytest.raises(qheat.ModelError) as e:
        qheat.Model(H, baths=[qheat.Bath("hot", s1, T=1.0, coupling="sideways", spectral=drude())])
    assert e.value.rule == "bath-coupling"
    with pytest.raises(qheat.ModelError) as e:
        qheat.Model(H, baths=[qheat.Bath("hot", s1, T=1.0, spectral=drude())], dims=[3, 2])
    assert e.value.rule == "model-dims"
    with pytest.raises(qheat.ModelError) as e:
        qheat.Model(H, baths=[qheat.Bath("hot", s1, T=1.0, spectral=drude(), sites=["q7"])])
    assert e.value.rule == "bath-sites" and "unknown site 'q7'" in str(e.value)
    with pytest.raises(qheat.ModelError) as e:
        qheat.Model(H, baths=[qheat.Bath("hot", s1, T=1.0, spectral=drude())],
                    drive=qheat.Drive(-1.0, {1: s1}))
    assert e.value.rule == "drive-frequency"
    with pytest.raises(qheat.ModelError) as e:
        qheat.Model(H, baths=[qheat.Bath("hot", s1, T=1.0, spectral=drude())], drive=qheat.Drive(1.0, {0: s1}))
    assert e.value.rule == "drive-harmonic"
    with pytest.raises(qheat.ModelError) as e:
        qheat.Tabulated([0, 1, 2], [1, 2])
    assert e.value.rule == "spectral-density"
    with pytest.raises(qheat.ModelError) as e:
        qheat.Tabulated([[0, 1]], [[1, 2]])
    assert e.value.rule == "array-shape"


def test_internal_errors_become_qheat_errors(qheat):
    with pytest.raises(qheat.Error) as e:
        qheat._qheat._raise_for_test("internal")
    assert e.value.rule == "internal"
    with pytest.raises(qheat.MemoryLimitError) as e:
        qheat._qheat._raise_for_test("memory")
    assert (e.value.estimate, e.value.limit) == (2048, 1024)


def test_wrong_argument_types(qheat):
    m = qheat.load_model(ZHANG)
    with pytest.raises(qheat.Error) as e:
        m.solve("global", threads=0)
    assert e.value.rule == "threads"
    with pytest.raises(qheat.Error) as e:
        qheat.sweep(m, vary={"T1": np.array([[1.0, 2.0]])})
    assert e.value.rule == "vary-syntax"
    with pytest.raises(qheat.Error) as e:
        qheat.sweep(m, vary={"T1": ["a", "b"]})
    assert e.value.rule == "vary-syntax"
    with pytest.raises(qheat.Error) as e:
        qheat.sweep(42, vary={"T1": [1.0]})
    assert e.value.rule == "sweep-model"
    with pytest.raises(qheat.Error) as e:
        qheat.load_model(ZHANG, T1=[1, 2])
    assert e.value.rule == "set-syntax"


def test_sweep_jobs_share_the_memory_limit(qheat):
    # The points a sweep solves at once share the limit (docs/conventions.md, "Resources"): the global
    # equation of an 8-site chain needs an estimated 7.0 MiB before anything else (the first check, fixed by
    # the model); a 10 MiB limit fits one point at a time and refuses both of two at once (5 MiB each).
    chain = qheat.load_model(example("examples/chain/xx_chain.toml"), N=8)
    qheat.set_max_memory("10M")
    try:
        one = qheat.sweep(chain, {"T_hot": [2, 3]}, "global", jobs=1, threads=1)
        two = qheat.sweep(chain, {"T_hot": [2, 3]}, "global", jobs=2, threads=1)
    finally:
        qheat.set_max_memory(None)
    assert list(one["status"]) == ["converged", "converged"], one["error"]
    assert list(two["status"]) == ["error", "error"]
    for message in two["error"]:
        assert "[memory-limit]" in message and "--max-memory shared by 2 solves at once" in message, message
