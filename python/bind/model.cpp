// Models: from TOML files (with parameter overrides) and from arrays (qheat.Model(H, baths=...)), validated
// by the same rules as files (docs/model-format.md; errors without line numbers for arrays).
#include <set>

#include "common.hpp"
#include "qheat/operators/expression.hpp"

namespace qheat::python {
namespace {

SpectralKind spectral_kind(const std::string& kind) {
  if (kind == "flat") return SpectralKind::flat;
  if (kind == "ohmic_exp") return SpectralKind::ohmic_exp;
  if (kind == "drude" || kind == "ohmic_drude") return SpectralKind::ohmic_drude;
  if (kind == "power_law") return SpectralKind::power_law;
  if (kind == "tabulated") return SpectralKind::tabulated;
  throw ModelError("spectral-kind", "unknown spectral kind '" + kind + "' (flat, ohmic_exp, drude, power_law, tabulated)");
}

std::string spectral_kind_name(SpectralKind k) {
  switch (k) {
    case SpectralKind::flat: return "flat";
    case SpectralKind::ohmic_exp: return "ohmic_exp";
    case SpectralKind::ohmic_drude: return "drude";
    case SpectralKind::power_law: return "power_law";
    case SpectralKind::tabulated: return "tabulated";
  }
  return "?";
}

SpectralDensity make_spectral(const std::string& kind, double gamma, double cutoff, double s, const py::object& w,
                              const py::object& kappa) {
  SpectralDensity J;
  J.kind = spectral_kind(kind);
  J.gamma = gamma;
  J.cutoff = cutoff;
  J.s = s;
  if (J.kind == SpectralKind::tabulated) {
    if (w.is_none() || kappa.is_none()) throw ModelError("spectral-density", "a tabulated spectral density needs w and kappa");
    J.table_w = to_vector(w, "the spectral table's w");
    J.table_kappa = to_vector(kappa, "the spectral table's kappa");
    if (J.table_w.size() != J.table_kappa.size())
      throw ModelError("spectral-density", "the spectral table has " + std::to_string(J.table_w.size()) + " w but " +
                                               std::to_string(J.table_kappa.size()) + " kappa values");
  }
  validate_spectral_density(J);
  return J;
}

// Site names of an array-built model: one subsystem per entry of dims (a dimension-2 subsystem is a
// qubit, so that sx(s1), sz(s1), sp(s1) ... work in observables; others are levels).
Space make_space(const std::vector<int>& dims, const std::vector<std::string>& names, long dim) {
  if (dims.size() != names.size())
    throw ModelError("model-dims", "dims has " + std::to_string(dims.size()) + " entries but sites names " +
                                       std::to_string(names.size()));
  long product = 1;
  std::vector<Subsystem> subs;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 2) throw ModelError("model-dims", "every subsystem needs dimension >= 2; got " + std::to_string(dims[i]));
    if (!is_identifier(names[i]) || is_reserved_name(names[i]))  // the rule of a model file's [sites]
      throw ModelError("site-name", "site name '" + names[i] + "' is not a valid name (letters, digits, _; not i or pi)");
    if (!seen.insert(names[i]).second) throw ModelError("model-dims", "site name '" + names[i] + "' is used twice");
    product *= dims[i];
    if (product > kMaxModelDimension)
      throw ModelError("model-dims", "the Hilbert space is larger than " + std::to_string(kMaxModelDimension));
    subs.push_back(dims[i] == 2 ? make_qubit(names[i]) : make_level(names[i], dims[i]));
  }
  if (product != dim)
    throw ModelError("model-dims", "the subsystem dimensions multiply to " + std::to_string(product) +
                                       " but H is " + std::to_string(dim) + " x " + std::to_string(dim));
  return Space(std::move(subs));
}

std::vector<int> site_indices(const Space& space, const py::object& sites, const std::string& bath) {
  std::vector<int> out;
  if (sites.is_none()) {
    for (int i = 0; i < static_cast<int>(space.subsystems().size()); ++i) out.push_back(i);
    return out;
  }
  for (const py::handle s : sites) {
    if (py::isinstance<py::str>(s)) {
      const std::string site = s.cast<std::string>();
      if (!space.has(site)) {
        std::string msg = "bath '";
        msg.append(bath).append("': unknown site '").append(site).append("'; sites:");
        for (const Subsystem& sub : space.subsystems()) msg.append(" ").append(sub.name);
        throw ModelError("bath-sites", msg);
      }
      out.push_back(space.index(site));
    } else if (py::isinstance<py::int_>(s)) {
      const int i = s.cast<int>();
      if (i < 0 || i >= static_cast<int>(space.subsystems().size()))
        throw ModelError("bath-sites", "bath '" + bath + "': site index " + std::to_string(i) + " is out of range");
      out.push_back(i);
    } else {
      throw ModelError("bath-sites", "bath '" + bath + "': sites are site names or indices");
    }
  }
  return out;
}

PyModel build_model(const py::object& H, const std::vector<py::tuple>& baths, const py::object& drive,
                    const std::vector<int>& dims, const std::vector<std::string>& names, const py::dict& operators,
                    const std::string& name) {
  PyModel pm;
  Model& m = pm.model;
  m.name = name;
  m.hamiltonian = to_matrix(H, "H");
  const long d = m.hamiltonian.rows();
  m.space = make_space(dims, names, d);
  for (const py::tuple& t : baths) {
    // (name, operator, T, coupling, spectral, sites, lamb_shift)
    Bath b;
    b.name = t[0].cast<std::string>();
    b.op = to_matrix(t[1], "the operator of bath '" + b.name + "'", d);
    b.temperature = t[2].cast<double>();
    const std::string coupling = t[3].cast<std::string>();
    if (coupling == "hermitian") b.coupling = CouplingKind::hermitian;
    else if (coupling == "exchange") b.coupling = CouplingKind::exchange;
    else throw ModelError("bath-coupling", "bath '" + b.name + "': coupling must be 'hermitian' or 'exchange', got '" + coupling + "'");
    b.spectral = t[4].cast<SpectralDensity>();
    b.sites = site_indices(m.space, t[5], b.name);
    b.lamb_shift_default = t[6].cast<bool>();
    m.baths.push_back(std::move(b));
  }
  for (const auto& [k, v] : operators) {
    const std::string key = py::str(k);
    if (!is_identifier(key) || is_reserved_name(key))  // the rule of a model file's [operators]
      throw ModelError("operator-name", "operator name '" + key + "' is not a valid name (letters, digits, _; not i or pi)");
    m.operators[key] = to_matrix(v, "operator '" + key + "'", d);
  }
  if (!drive.is_none()) {
    // (frequency, [(k, V), ...])
    const py::tuple t = drive.cast<py::tuple>();
    Drive dr;
    dr.frequency = t[0].cast<double>();
    for (const py::handle h : t[1]) {
      const py::tuple kv = h.cast<py::tuple>();
      const int k = kv[0].cast<int>();
      dr.harmonics.push_back({k, to_matrix(kv[1], "drive harmonic V_" + std::to_string(k), d)});
    }
    m.drive = std::move(dr);
  }
  validate(m);
  return pm;
}

std::vector<Override> overrides_of(const py::dict& overrides) {
  std::vector<Override> out;
  for (const auto& [k, v] : overrides) {
    std::string value;
    if (py::isinstance<py::str>(v)) {
      value = v.cast<std::string>();
    } else if (py::isinstance<py::int_>(v) && !py::isinstance<py::bool_>(v)) {
      value = py::str(v);
    } else if (py::isinstance<py::bool_>(v) || !(py::isinstance<py::int_>(v) || py::isinstance<py::float_>(v) ||
                                                 py::hasattr(v, "__float__"))) {
      throw Error("set-syntax", "parameter '" + std::string(py::str(k)) + "': a value is a number or an expression string, got " +
                                    std::string(py::str(py::type::of(v).attr("__name__"))));
    } else {
      value = py::str(py::module_::import("builtins").attr("repr")(py::float_(py::reinterpret_borrow<py::object>(v))));
    }
    out.push_back({py::str(k), value, "keyword"});
  }
  return out;
}

PyModel load(const std::string& path, const py::dict& overrides) {
  PyModel pm;
  pm.path = path;
  pm.source = ModelSource::from_file(path);
  pm.overrides = overrides_of(overrides);
  pm.model = pm.source->instantiate(pm.overrides);
  return pm;
}

}  // namespace

void bind_model(py::module_& m) {
  py::class_<SpectralDensity>(m, "SpectralDensity", "A spectral density kappa(w) (docs/conventions.md).")
      .def(py::init(&make_spectral), py::arg("kind"), py::arg("gamma") = 0.0, py::arg("cutoff") = 0.0, py::arg("s") = 1.0,
           py::arg("w") = py::none(), py::arg("kappa") = py::none())
      .def_property_readonly("kind", [](const SpectralDensity& J) { return spectral_kind_name(J.kind); },
                             "flat, ohmic_exp, drude, power_law or tabulated.")
      .def_readonly("gamma", &SpectralDensity::gamma, "The strength gamma.")
      .def_readonly("cutoff", &SpectralDensity::cutoff, "The cutoff frequency (0 for flat and tabulated).")
      .def_readonly("s", &SpectralDensity::s, "The exponent of a power law (1 otherwise).")
      .def_readonly("w", &SpectralDensity::table_w, "The frequencies of a tabulated density (empty otherwise).")
      .def_readonly("kappa_table", &SpectralDensity::table_kappa, "The kappa values of a tabulated density (empty otherwise).")
      .def("kappa", &SpectralDensity::kappa, py::arg("w"), "kappa(w) at one frequency w (0 for w <= 0).")
      .def("describe", &SpectralDensity::describe, "One line: the kind and its formula with the numbers.");

  py::class_<PyModel>(m, "Model", "A validated model (from a file or from arrays).")
      .def_property_readonly("name", [](const PyModel& p) { return p.model.name; })
      .def_property_readonly("path", [](const PyModel& p) { return p.path; })
      .def_property_readonly("from_file", [](const PyModel& p) { return p.source.has_value(); })
      .def_property_readonly("dim", [](const PyModel& p) { return p.model.space.dim(); })
      .def_property_readonly("dims", [](const PyModel& p) {
        std::vector<int> d;
        for (const Subsystem& s : p.model.space.subsystems()) d.push_back(s.dim);
        return d;
      })
      .def_property_readonly("sites", [](const PyModel& p) {
        std::vector<std::string> n;
        for (const Subsystem& s : p.model.space.subsystems()) n.push_back(s.name);
        return n;
      })
      .def_property_readonly("parameters", [](const PyModel& p) {
        py::dict d;
        for (const auto& [k, v] : p.model.parameters) d[py::str(k)] = v;
        return d;
      })
      .def_property_readonly("overrides", [](const PyModel& p) {
        py::dict d;
        for (const auto& o : p.overrides) d[py::str(o.name)] = o.value;
        return d;
      })
      .def_property_readonly("bath_names", [](const PyModel& p) {
        std::vector<std::string> n;
        n.reserve(p.model.baths.size());
        for (const Bath& b : p.model.baths) n.push_back(b.name);
        return n;
      })
      .def_property_readonly("temperatures", [](const PyModel& p) {
        std::vector<double> t;
        t.reserve(p.model.baths.size());
        for (const Bath& b : p.model.baths) t.push_back(b.temperature);
        return t;
      })
      .def_property_readonly("spectral_densities", [](const PyModel& p) {
        std::vector<SpectralDensity> s;
        s.reserve(p.model.baths.size());
        for (const Bath& b : p.model.baths) s.push_back(b.spectral);
        return s;
      })
      .def_property_readonly("bath_couplings", [](const PyModel& p) {
        std::vector<std::string> s;
        s.reserve(p.model.baths.size());
        for (const Bath& b : p.model.baths) s.emplace_back(b.coupling == CouplingKind::hermitian ? "hermitian" : "exchange");
        return s;
      })
      .def("bath_operator", [](const PyModel& p, std::size_t i) { return to_numpy(p.model.baths.at(i).op); })
      .def_property_readonly("hamiltonian", [](const PyModel& p) { return to_numpy(p.model.hamiltonian); })
      .def_property_readonly("operator_names", [](const PyModel& p) {
        std::vector<std::string> n;
        n.reserve(p.model.operators.size());
        for (const auto& [k, v] : p.model.operators) n.push_back(k);
        return n;
      })
      .def_property_readonly("has_drive", [](const PyModel& p) { return p.model.drive.has_value(); })
      .def("operator", [](const PyModel& p, const std::string& text) { return to_numpy(model_operator(p.model, text)); },
           py::arg("name_or_expression"))
      .def("with_overrides", [](const PyModel& p, const py::dict& overrides) {
        if (!p.source) throw Error("set-syntax", "a model built from arrays has no parameters to override");
        PyModel q = p;
        std::vector<Override> extra = overrides_of(overrides);
        for (const Override& o : extra) {
          std::erase_if(q.overrides, [&](const Override& x) { return x.name == o.name; });
          q.overrides.push_back(o);
        }
        q.model = q.source->instantiate(q.overrides);
        return q;
      }, py::arg("overrides"));

  m.def("load_model", &load, py::arg("path"), py::arg("overrides") = py::dict(),
        "Loads and validates a TOML model file with parameter overrides {name: number or expression}.");
  m.def("build_model", &build_model, py::arg("H"), py::arg("baths"), py::arg("drive"), py::arg("dims"),
        py::arg("sites"), py::arg("operators"), py::arg("name"),
        "Builds and validates a model from arrays: baths are (name, operator, T, coupling, SpectralDensity, sites, "
        "lamb_shift) tuples, the drive (frequency, [(k, V_k), ...]) or None.");
}

}  // namespace qheat::python
