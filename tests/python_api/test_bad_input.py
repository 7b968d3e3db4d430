"""Bad input found by an independent robustness audit (2026-12-05): each case gets one typed error line and
exit code 2 (docs/conventions.md, "Exit codes"), is refused before any work, or is accepted with the
documented meaning. Each test failed on the build before its fix (crash, internal error, exit 0, or a
misleading message)."""
import csv
import json
import os
import resource
import subprocess
import time

import numpy as np
import pytest

from conftest import CLI, cli_rule, example, run_cli

MODEL = """name = "one qubit"
[parameters]
w = 1.0
d = [0.25, -0.5]
[sites]
q = "qubit"
[hamiltonian]
H = "0.5*w*sz(q)"
[[baths]]
name = "hot"
temperature = 2.0
coupling = "hermitian"
operator = "sx(q)"
spectral = { kind = "drude", gamma = 0.01, cutoff = 10.0 }
[[baths]]
name = "cold"
temperature = 0.5
coupling = "hermitian"
operator = "sx(q)"
spectral = SPECTRAL
"""
DRUDE = '{ kind = "drude", gamma = 0.01, cutoff = 10.0 }'


def model(tmp_path, text=None, name="m.toml"):
    p = tmp_path / name
    p.write_text(MODEL.replace("SPECTRAL", DRUDE) if text is None else text)
    return str(p)


def csv_rows(text):
    """The rows of a sweep CSV as dicts (its '#' lines are comments)."""
    return list(csv.DictReader(l for l in text.splitlines() if not l.startswith("#")))


def refused(code, err, rule):
    assert code == 2, (code, err)
    assert cli_rule(err) == rule, err
    assert err.count("\n") == 1, err  # one line, no frames


def test_deeply_nested_key_is_a_syntax_error_not_a_crash(tmp_path):
    # toml++ nests one table per dotted part and destroys them recursively: 50 000 parts overflowed the stack
    # (SIGSEGV, exit -11) in the CLI and in Python.
    for text in ("[a" + ".a" * 50000 + "]\n", "a" + ".a" * 50000 + " = 1\n"):
        p = tmp_path / "deep.toml"
        p.write_text(text)
        code, _, err = run_cli("ness", p)
        refused(code, err, "toml-syntax")
        assert "deep.toml:1:" in err and "50001 dotted parts" in err
    # Dots inside strings and values are not key parts, nor the numbers of an array's continuation line.
    p = model(tmp_path, "description = \"" + "." * 500 + "\"\n" + MODEL.replace("SPECTRAL", DRUDE))
    assert run_cli("ness", p)[0] == 0
    numbers = "t = [0.0,\n" + ", ".join(f"{0.01 * k:.2f}" for k in range(1, 300)) + "]\n"  # 299 dots on one line
    p = model(tmp_path, MODEL.replace("SPECTRAL", DRUDE).replace("d = [0.25, -0.5]\n", "d = [0.25, -0.5]\n" + numbers))
    code, _, err = run_cli("ness", p, "--method", "global")
    assert code == 0, err


def test_endless_model_file_is_refused_at_once():
    # /dev/zero was read until std::bad_alloc (exit 3 after 23 s under a 4 GB ulimit).
    t0 = time.monotonic()
    code, _, err = run_cli("ness", "/dev/zero")
    refused(code, err, "file")
    assert "larger than 16 MiB" in err
    assert time.monotonic() - t0 < 60  # generous: reading 16 MiB; the failure mode was minutes or the OOM killer
    code, _, err = run_cli("check", "/dev/zero")  # check files are read the same way (toml++'s parse_file was)
    refused(code, err, "file")


def test_options_are_checked_before_the_model_is_built(tmp_path):
    # A bad --heom-depth was refused only after the model was built (12 s for a 4096-level mode): with a broken
    # model file the option's rule comes first now.
    broken = model(tmp_path, "this is not toml")
    code, _, err = run_cli("ness", broken, "--method", "heom", "--heom-depth", "99")
    refused(code, err, "heom-depth")


def test_output_that_cannot_be_written_is_an_error():
    with open("/dev/full", "w") as full:
        r = subprocess.run([CLI, "ness", example("examples/zhang2025/two_qubits.toml")], stdout=full,
                           stderr=subprocess.PIPE, text=True)
    refused(r.returncode, r.stderr, "output")


def test_memory_size_below_one_byte_is_not_no_limit():
    # 0.5 rounded to 0 bytes, which means "no limit set".
    for size in ("0.5", "0.0001K"):
        refused(*run_cli("ness", example("examples/zhang2025/two_qubits.toml"), "--max-memory", size)[::2],
                "memory-size")


def test_address_space_limit_is_part_of_the_memory_available():
    # Under `ulimit -v 4000000` the default limit was MemAvailable (21.9 GiB here); a 6 GiB Bloch-Redfield
    # estimate passed it and the solve ended in std::bad_alloc (exit 3). It is now refused with the estimate.
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (4_000_000 * 1024, 4_000_000 * 1024))
    r = subprocess.run([CLI, "ness", example("examples/chain/xxz_chain.toml"), "--set", "N=12", "--method", "redfield",
                        "--threads", "1"], capture_output=True, text=True, preexec_fn=limit)
    refused(r.returncode, r.stderr, "memory-limit")
    assert "needs an estimated 6.0 GiB" in r.stderr and "(memory available)" in r.stderr


def test_unknown_varied_parameter_names_vary_not_set():
    code, _, err = run_cli("sweep", example("examples/zhang2025/two_qubits.toml"), "--vary", "nope=1,2", "--quiet")
    refused(code, err, "unknown-parameter")
    assert "--vary nope=1:" in err and "--set" not in err


@pytest.mark.parametrize("value,rule", [("0", "cli-option"), ("-1", "cli-option"), ("nan", "cli-option"),
                                        ("soon", "cli-argument")])
def test_progress_every_needs_a_positive_number(value, rule):
    # 0 gave CLI11's "Value 0 not in range 0.000000 to 1797693...(309 digits)"; nan was accepted.
    code, _, err = run_cli("sweep", example("examples/zhang2025/two_qubits.toml"), "--vary", "T1=1,2",
                           "--progress-every", value)
    refused(code, err, rule)
    assert "--progress-every expects" in err and len(err) < 200


def test_sweep_checks_observables_and_plot_before_solving(tmp_path):
    # A bad --observable made every row an error (exit 0); a bad --plot was found after the whole sweep.
    base = ["sweep", example("examples/zhang2025/two_qubits.toml"), "--vary", "T1=1:10:4", "--quiet"]
    code, out, err = run_cli(*base, "--observable", "sz(q9)")
    refused(code, err, "expression")
    assert "--observable 'sz(q9)'" in err and "unknown site 'q9'" in err and out == ""
    code, _, err = run_cli(*base, "--out", tmp_path / "s.csv", "--plot", tmp_path / "s.pdf")
    refused(code, err, "plot-format")
    assert not (tmp_path / "s.csv").exists()
    refused(*run_cli(*base, "--plot", tmp_path / "s.png")[::2], "plot")


def test_grid_values_are_numpys(tmp_path):
    # 5:205:41 held 60.000000000000007 (a + t (b - a)); numpy.linspace(5, 205, 41) holds 60.
    out = tmp_path / "g.csv"
    code, _, err = run_cli("sweep", example("examples/zhang2025/two_qubits.toml"), "--vary", "T1=5:205:41",
                           "--vary", "T2=log:0.001:0.1:9", "--method", "global", "--quiet", "--out", out)
    assert code == 0, err
    rows = csv_rows(out.read_text())
    t1 = sorted({float(r["T1"]) for r in rows})
    t2 = sorted({float(r["T2"]) for r in rows})
    assert t1 == list(np.linspace(5, 205, 41))  # bit for bit: both are start + k step
    assert t2[0] == 0.001 and t2[-1] == 0.1
    assert np.allclose(t2, np.logspace(-3, -1, 9), rtol=2e-16, atol=0)  # 10^(k step + start): pow's rounding


def test_array_parameters_in_command_line_expressions(tmp_path):
    # model-format.md: arrays work in expressions; --observable 'd[2]*sz(q)' said "unknown parameter 'd'".
    p = model(tmp_path)
    code, out, err = run_cli("sweep", p, "--vary", "w=1,2", "--observable", "d[2]*sz(q)", "--observable", "sz(q)",
                             "--quiet")
    assert code == 0, err
    rows = csv_rows(out)
    assert len(rows) == 2
    for row in rows:
        assert float(row["d[2]*sz(q)"]) == -0.5 * float(row["sz(q)"])  # exact: a scale of the same trace


def test_model_without_baths_names_its_file(tmp_path):
    text = MODEL.split("[[baths]]")[0]
    code, _, err = run_cli("ness", model(tmp_path, text, "lonely.toml"))
    refused(code, err, "no-baths")
    assert "lonely.toml has no baths" in err


def test_reserved_site_names(tmp_path, qheat):
    text = MODEL.replace("SPECTRAL", DRUDE).replace('q = "qubit"', 'pi = "qubit"').replace("(q)", "(pi)")
    refused(*run_cli("ness", model(tmp_path, text))[::2], "site-name")
    sz = np.diag([1.0, -1.0])
    with pytest.raises(qheat.ModelError) as e:
        qheat.Model(sz, baths=[qheat.Bath("h", sz, T=1.0, spectral=qheat.Drude(0.01, 10))], sites=["i"])
    assert e.value.rule == "site-name"
    with pytest.raises(qheat.ModelError) as e:
        qheat.Model(sz, baths=[qheat.Bath("h", sz, T=1.0, spectral=qheat.Drude(0.01, 10))], operators={"1V": sz})
    assert e.value.rule == "operator-name"


def test_python_lamb_shift_flag_must_be_a_bool(qheat):
    # Bath(lamb_shift='no') switched the Lamb shift on (bool('no') is True).
    with pytest.raises(qheat.ModelError) as e:
        qheat.Bath("h", np.diag([1.0, -1.0]), T=1.0, spectral=qheat.Drude(0.01, 10), lamb_shift="no")
    assert e.value.rule == "wrong-type"


def test_auto_lamb_shift_leaves_out_a_table_whose_shift_is_infinite(tmp_path):
    # docs/conventions.md: auto switches the Lamb shift on for every bath whose spectral density makes it finite.
    # A table starting at w = 0 with kappa > 0 at T > 0 has no finite S (docs/lamb-shift.md, section 7); auto
    # refused the model (lamb-shift-infinite) instead of leaving that bath's shift out.
    table = '{ kind = "tabulated", w = [0.0, 0.8, 3.0], kappa = [0.01, 0.02, 0.0] }'
    auto = model(tmp_path, MODEL.replace("SPECTRAL", table), "auto.toml")
    off = model(tmp_path, MODEL.replace("SPECTRAL", table + "\nlamb_shift = false"), "off.toml")
    a, b = (json.loads(run_cli("ness", p, "--method", "redfield")[1]) for p in (auto, off))
    assert a["currents"] == b["currents"]  # the same generator: the cold bath's shift left out, the hot one's kept
    code, _, err = run_cli("ness", auto, "--method", "redfield", "--lamb-shift", "on")
    refused(code, err, "lamb-shift-infinite")
    assert "infinite at T > 0" in err


def test_gibbs_second_order_with_a_flat_bath_says_what_to_do():
    # It said "switch the Lamb shift off", which gibbs has no option for.
    code, _, err = run_cli("gibbs", example("examples/fogedby2023/single_qubit.toml"), "--set", "TB=TA")
    refused(code, err, "lamb-shift-infinite")
    assert "--order 0" in err and "switch the Lamb shift off" not in err


def test_not_converged_says_why_no_direct_solver_followed():
    # XXZ chain, flat baths, Bloch-Redfield at N = 7: GMRES stalls (docs/methods.md); with 60 MiB the dense
    # fallback does not fit. The diagnostic said only "stopped before its tolerance (residual ...)".
    code, out, err = run_cli("ness", example("examples/chain/xxz_chain.toml"), "--method", "redfield", "--set", "N=7",
                             "--threads", "1", "--max-memory", "60M")
    assert code == 0, err
    d = {x["code"]: x["message"] for x in json.loads(out)["diagnostics"]}
    assert "GMRES, 400 iterations" in d["not-converged"]
    assert "no dense LU after it: it needs an estimated" in d["not-converged"]
    assert "more than the memory limit of 60.0 MiB" in d["not-converged"]


def test_values_the_compiled_module_cannot_take_are_qheat_errors(qheat):
    # pybind11's own conversion failures leaked as TypeError listing internal signatures ("qheat._qheat.
    # SpectralDensity(kind: str, ...)") or RuntimeError "Unable to cast Python instance to C++ type".
    sz = np.diag([1.0, -1.0])
    bath = lambda **kw: qheat.Bath("h", sz, T=1.0, spectral=qheat.Drude(0.01, 10), **kw)
    for call in (lambda: qheat.Flat("a"),
                 lambda: qheat.Model(sz, [bath(sites=[2**70])]),
                 lambda: qheat.Model(sz, [bath()]).solve("heom", heom_depth=2**70),
                 lambda: qheat.Model(sz, [qheat.Bath("a\udc80", sz, T=1.0, spectral=qheat.Drude(0.01, 10))])):
        with pytest.raises(qheat.Error) as e:
            call()
        assert e.value.rule == "argument-type" and "_qheat" not in str(e.value)
    with pytest.raises(qheat.ModelError) as e:
        qheat.Tabulated([0, 1], [1j, 2])
    assert e.value.rule == "array-dtype"


def test_a_grid_whose_table_does_not_fit_is_refused_at_once(qheat):
    # The sweep holds its whole table: 9e6 rows of ~1 KB were allocated without a check (the audit: 1e6 points
    # took 1.03 GB and 5.8 s before the first point; 3e6 made Ctrl-C wait 40 s). Now the estimate comes first.
    args = ["sweep", example("examples/zhang2025/two_qubits.toml"), "--vary", "T1=1:2:3000", "--vary", "T2=1:2:3000",
            "--quiet"]
    t0 = time.monotonic()
    code, out, err = run_cli(*args, "--max-memory", "1G")
    refused(code, err, "memory-limit")
    assert "the sweep's table of 9000000 rows needs an estimated" in err and out == ""
    assert time.monotonic() - t0 < 30  # generous: nothing is allocated (the failure mode allocated ~10 GB)
    qheat.set_max_memory("1G")
    try:
        with pytest.raises(qheat.MemoryLimitError):
            qheat.sweep(qheat.load_model(example("examples/zhang2025/two_qubits.toml")),
                        vary={"T1": "1:2:3000", "T2": "1:2:3000"})
    finally:
        qheat.set_max_memory(None)


def test_rates_past_the_double_range_are_refused(tmp_path):
    # An operator 1e200 sx(q) made the hot bath's rates inf; global and redfield went on without it (J_hot = 0,
    # "converged", no diagnostic) and local said not-unique. Rates are kappa |A|^2: past 1e300 they are refused.
    big = model(tmp_path, MODEL.replace("SPECTRAL", DRUDE).replace('operator = "sx(q)"', 'operator = "1e200*sx(q)"', 1))
    for method in ("global", "redfield", "local"):
        code, _, err = run_cli("ness", big, "--method", method)
        refused(code, err, "non-finite")
        assert "m.toml:" in err and "|A| up to 1e+200" in err
    code, _, err = run_cli("ness", model(tmp_path), "--method", "global", "--set", "w=1", "--threads", "1")
    assert code == 0, err


def test_response_grid_errors_say_why():
    # --times 0:1:1000000000 said only the syntax, not that the point count is over its limit.
    code, _, err = run_cli("response", example("examples/zhang2025/two_qubits.toml"), "--perturbation", "sz(q1)",
                           "--times", "0:1:1000000000")
    refused(code, err, "times-syntax")
    assert "the number of points must be an integer from 1 to 10000000" in err


def test_python_and_cli_take_the_same_lists_and_counts(qheat):
    # The audit: jobs=1025 passed in Python (the CLI's range is 1..1024); "global, redfield" passed in Python and
    # was unknown-method on the command line.
    m = qheat.load_model(example("examples/zhang2025/two_qubits.toml"))
    with pytest.raises(qheat.Error) as e:
        qheat.sweep(m, vary={"T1": [10]}, jobs=1025)
    assert e.value.rule == "jobs"
    code, out, err = run_cli("sweep", example("examples/zhang2025/two_qubits.toml"), "--vary", "T1=10",
                             "--method", "global, redfield", "--quiet")
    assert code == 0, err
    assert [r["method"] for r in csv_rows(out)] == ["global", "redfield"]


def test_a_method_or_observable_named_twice_is_refused(qheat):
    # observables=["sz(q1)", "sz(q1)"] ended in NumPy's ValueError (a structured array's field twice) and the CLI
    # wrote the columns twice; methods "global,global" gave every row twice.
    m = qheat.load_model(example("examples/zhang2025/two_qubits.toml"))
    for kw, rule in (({"observables": ["sz(q1)", "sz(q1)"]}, "sweep-observables"),
                     ({"methods": ["global", "global"]}, "sweep-methods")):
        with pytest.raises(qheat.Error) as e:
            qheat.sweep(m, vary={"T1": [5, 6]}, **kw)
        assert e.value.rule == rule and "named twice" in str(e.value)
    code, _, err = run_cli("sweep", example("examples/zhang2025/two_qubits.toml"), "--vary", "T1=5,6",
                           "--observable", "sz(q1)", "--observable", "sz(q1)", "--quiet")
    refused(code, err, "sweep-observables")
