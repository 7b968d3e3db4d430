"""qheat.sweep returns what `qheat sweep` writes: the same columns and, field by field, the same values
(the CSV prints numbers as %.17g, which parses back to the same double, so equality is exact), for grids
that mix methods, observables, a reference method and failing points, serial and with jobs=2; sweeps over
a Python function of the parameters equal the file sweep of the same model."""
import csv
import io
import math

import numpy as np
import pytest

from conftest import example, run_cli

ZHANG = example("examples/zhang2025/two_qubits.toml")


def cli_csv(*args):
    code, out, err = run_cli("sweep", *args, "--quiet")
    assert code == 0, err
    lines = [l for l in out.splitlines() if not l.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


def same_field(value, text):
    if isinstance(value, (bool, np.bool_)):
        return text == ("1" if value else "0")
    if isinstance(value, (int, np.integer)):
        return int(text) == value
    if isinstance(value, (float, np.floating)):
        x = float(text)
        return (math.isnan(x) and math.isnan(value)) or x == value
    return str(value) == text


def assert_table_equals_csv(table, rows):
    assert list(table.dtype.names) == list(rows[0].keys())
    assert len(table) == len(rows)
    for got, want in zip(table, rows):
        for name in table.dtype.names:
            assert same_field(got[name], want[name]), (name, got[name], want[name])


@pytest.mark.parametrize("jobs", [1, 2])
def test_file_sweep_equals_cli_csv(qheat, jobs):
    # T2 = -1 fails (negative temperature): error rows with the rule and message, as in the CSV.
    cli = cli_csv(ZHANG, "--vary", "T1=5:205:4", "--vary", "T2=-1,5", "--method", "global,redfield,local",
                  "--observable", "sz(q1)", "--observable", "sp(q1)*sm(q2)", "--reference", "redfield",
                  "--jobs", str(jobs))
    # The same grid spec (NumPy's linspace may differ from qheat's START:STOP:NUM in the last bit).
    table = qheat.sweep(qheat.load_model(ZHANG), vary={"T1": "5:205:4", "T2": [-1, 5]},
                        methods=["global", "redfield", "local"], observables=["sz(q1)", "sp(q1)*sm(q2)"],
                        reference="redfield", jobs=jobs)
    assert_table_equals_csv(table, cli)
    assert set(table["status"]) == {"converged", "error"}
    assert all(e.startswith("[negative-temperature]") for e in table["error"][table["status"] == "error"])


def test_spec_strings_and_fixed_overrides(qheat):
    cli = cli_csv(ZHANG, "--vary", "g=log:0.001:0.1:3", "--set", "T1=150", "--method", "heom",
                  "--heom-depth", "2", "--heom-terms", "1")
    table = qheat.sweep(qheat.load_model(ZHANG, T1=150), vary={"g": "log:0.001:0.1:3"}, methods="heom",
                        heom_depth=2, heom_terms=1)
    assert_table_equals_csv(table, cli)


def test_driven_methods(qheat):
    f = example("examples/kong2026/cosine_qubit.toml")
    cli = cli_csv(f, "--vary", "eta=0.1,0.5", "--method", "dme,floquet")
    assert_table_equals_csv(qheat.sweep(qheat.load_model(f), vary={"eta": [0.1, 0.5]}, methods=["dme", "floquet"]), cli)


def test_function_sweep_equals_file_sweep(qheat):
    base = qheat.load_model(ZHANG)

    def model(T1):
        # The file's model rebuilt from arrays: same H, operators, spectral densities and temperatures.
        m = base.with_parameters(T1=T1)
        baths = [qheat.Bath(name, m._native.bath_operator(i), T=m.temperatures[name], spectral=sd)
                 for i, (name, sd) in enumerate(zip(m.bath_names, m._native.spectral_densities))]
        return qheat.Model(m.hamiltonian, baths, dims=m.dims, sites=m.sites)

    T1 = np.linspace(5, 205, 6)
    by_file = qheat.sweep(base, vary={"T1": T1}, methods=["global", "redfield"])
    by_function = qheat.sweep(model, vary={"T1": T1}, methods=["global", "redfield"], jobs=2)
    for name in ("T1", "method", "status", "J_hot", "J_cold", "entropy_production"):
        assert np.array_equal(by_file[name], by_function[name]), name


def test_function_sweep_errors(qheat):
    H = np.diag([1.0, -1.0])
    sx = np.array([[0, 1], [1, 0]])

    def model(T):  # a bad parameter value is a failed row, as for files
        return qheat.Model(H, [qheat.Bath("b", sx, T=T, spectral=qheat.Drude(0.01, 10))])

    t = qheat.sweep(model, vary={"T": [1.0, -1.0]})
    assert list(t["status"]) == ["converged", "error"]
    assert t["error"][1].startswith("[negative-temperature]")

    def broken(T):  # any other exception stops the sweep and reaches the caller
        raise ZeroDivisionError("user bug")

    with pytest.raises(ZeroDivisionError):
        qheat.sweep(broken, vary={"T": [1.0, 2.0]}, jobs=2)
    with pytest.raises(TypeError, match="must return a qheat.Model"):
        qheat.sweep(lambda T: 42, vary={"T": [1.0]})
    with pytest.raises(qheat.Error) as e:  # an array-built model has no parameters
        qheat.sweep(model(1.0), vary={"T": [1.0]})
    assert e.value.rule == "sweep-model"


def test_dataframe_and_progress(qheat, capsys):
    frame = qheat.sweep(qheat.load_model(ZHANG), vary={"T1": [5, 50, 100]}, methods=["global"], as_frame=True,
                        progress=True)
    import pandas
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame["T1"]) == [5, 50, 100] and frame["J_hot"].dtype == np.float64
    err = capsys.readouterr().err
    assert "3/3" in err and "elapsed" in err


def same_tables(a, b):
    """Same dtype (names, kinds, string widths) and the same values, NaN where NaN."""
    assert a.dtype == b.dtype
    for name in a.dtype.names:
        x, y = a[name], b[name]
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), name


def test_read_sweep_gives_the_table_of_sweep(qheat, tmp_path):
    # The CSV of the command line (as `mpirun -np K qheat sweep --out` writes it on a cluster) reads back to
    # the table qheat.sweep returns for the same sweep: failing points, observables and a reference included.
    out = tmp_path / "map.csv"
    code, _, err = run_cli("sweep", ZHANG, "--vary", "T1=5:205:4", "--vary", "T2=-1,5", "--method",
                           "global,redfield,local", "--observable", "sz(q1)", "--observable", "sp(q1)*sm(q2)",
                           "--reference", "redfield", "--quiet", "--out", out)
    assert code == 0, err
    table = qheat.sweep(qheat.load_model(ZHANG), vary={"T1": "5:205:4", "T2": [-1, 5]},
                        methods=["global", "redfield", "local"], observables=["sz(q1)", "sp(q1)*sm(q2)"],
                        reference="redfield")
    read = qheat.read_sweep(out)
    same_tables(read, table)
    assert set(read["status"]) == {"converged", "error"} and read["lamb_shift"].dtype == np.bool_
    frame = qheat.read_sweep(str(out), as_frame=True)
    assert list(frame.columns) == list(table.dtype.names) and frame["warnings"].dtype == np.int64
    # One point, no observables: the smallest CSV the command line writes.
    code, _, err = run_cli("sweep", ZHANG, "--vary", "g=0.5", "--quiet", "--out", out)
    assert code == 0, err
    same_tables(qheat.read_sweep(out), qheat.sweep(qheat.load_model(ZHANG), vary={"g": [0.5]}))


def test_read_sweep_errors_name_the_line(qheat, tmp_path):
    with pytest.raises(qheat.Error) as e:
        qheat.read_sweep(tmp_path / "missing.csv")
    assert e.value.rule == "sweep-csv" and "missing.csv" in e.value.message
    with pytest.raises(qheat.Error) as e:  # a model file is not a sweep CSV
        qheat.read_sweep(ZHANG)
    assert e.value.rule == "sweep-csv" and "not the header of a qheat sweep CSV" in e.value.message
    out = tmp_path / "map.csv"
    code, _, err = run_cli("sweep", ZHANG, "--vary", "T1=5,50,100", "--quiet", "--out", out)
    assert code == 0, err
    lines = out.read_text().splitlines(keepends=True)
    n = len(lines)  # the last line: a row cut short, then a number that is not one
    (tmp_path / "short.csv").write_text("".join(lines[:-1]) + lines[-1][:20] + "\n")
    with pytest.raises(qheat.Error) as e:
        qheat.read_sweep(tmp_path / "short.csv")
    assert e.value.rule == "sweep-csv" and e.value.line == n and f"line {n}:" in e.value.message
    fields = lines[-1].split(",")
    fields[0] = "hot"
    (tmp_path / "word.csv").write_text("".join(lines[:-1]) + ",".join(fields))
    with pytest.raises(qheat.Error) as e:
        qheat.read_sweep(tmp_path / "word.csv")
    assert e.value.line == n and "column T1 holds 'hot', not a number" in e.value.message
