// The sweep as a table: columns, fields and the CSV of `qheat sweep` (docs/conventions.md, "Sweep CSV").
#include <cmath>
#include <cstdio>

#include "qheat/sweep/sweep.hpp"

namespace qheat {
namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

// The number of columns sweep_columns names (and sweep_fields fills) for this result.
std::size_t column_count(const SweepResult& r) {
  const std::size_t baths = r.bath_names.size();
  return r.axes.size() + 3 + baths + 3 + 2 + 2 * r.observables.size() + (r.reference ? baths + 1 : 0) + 1;
}
}  // namespace

std::string sweep_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string progress_text(std::size_t done, std::size_t total, double elapsed, std::size_t base) {
  const double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  constexpr int width = 30;
  const int filled = static_cast<int>(frac * width);
  const double rate = elapsed > 0 && done > base ? static_cast<double>(done - base) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0.0;
  char buf[200];
  std::snprintf(buf, sizeof buf, "[%-*s] %zu/%zu rows  %.3g rows/s  %.1f s elapsed, ETA %.1f s", width,
                std::string(static_cast<std::size_t>(filled), '#').c_str(), done, total, rate, elapsed, eta);
  return buf;
}

std::vector<SweepColumn> sweep_columns(const SweepResult& r) {
  std::vector<SweepColumn> c;
  c.reserve(column_count(r));
  for (const auto& ax : r.axes) c.push_back({ax.name, ColumnKind::number});
  c.push_back({"method", ColumnKind::text});
  c.push_back({"lamb_shift", ColumnKind::flag});
  c.push_back({"status", ColumnKind::text});
  for (const auto& b : r.bath_names) c.push_back({"J_" + b, ColumnKind::number});
  for (const char* name : {"drive_power", "entropy_production", "first_law_residual"}) c.push_back({name, ColumnKind::number});
  c.push_back({"warnings", ColumnKind::integer});
  c.push_back({"diagnostics", ColumnKind::text});
  for (const auto& o : r.observables) {
    c.push_back({o, ColumnKind::number});
    c.push_back({o + ".im", ColumnKind::number});
  }
  if (r.reference) {
    for (const auto& b : r.bath_names) c.push_back({"dev_" + b, ColumnKind::number});
    c.push_back({"deviation", ColumnKind::number});
  }
  c.push_back({"error", ColumnKind::text});
  return c;
}

std::vector<std::string> sweep_fields(const SweepResult& r, std::size_t k) {
  const double nan = std::nan("");
  const SweepRow& row = r.rows.at(k);
  std::vector<std::string> f;
  f.reserve(column_count(r));
  for (double v : row.point) f.push_back(sweep_number(v));
  const bool ok = row.status != "error";
  const Thermodynamics& th = row.solution.thermo;
  f.push_back(method_name(row.method));
  f.push_back(ok && row.solution.lamb_shift ? "1" : "0");
  f.push_back(row.status);
  for (std::size_t b = 0; b < r.bath_names.size(); ++b)
    f.push_back(sweep_number(ok && b < th.currents.size() ? th.currents[b] : nan));
  f.push_back(sweep_number(ok ? th.drive_power : nan));
  f.push_back(sweep_number(ok ? th.entropy_production : nan));
  f.push_back(sweep_number(ok ? th.first_law_residual : nan));
  std::size_t warnings = 0;
  std::string codes;
  for (const auto& d : th.diagnostics) {
    if (d.level != "info") ++warnings;
    codes += (codes.empty() ? "" : ";") + d.code;
  }
  f.push_back(std::to_string(warnings));
  f.push_back(codes);
  for (std::size_t o = 0; o < r.observables.size(); ++o) {
    const cplx v = o < row.observables.size() ? row.observables[o] : cplx(nan, nan);
    f.push_back(sweep_number(v.real()));
    f.push_back(sweep_number(v.imag()));
  }
  if (r.reference) {
    const RowDeviation* d = k < r.deviations.size() ? &r.deviations[k] : nullptr;
    for (std::size_t b = 0; b < r.bath_names.size(); ++b)
      f.push_back(sweep_number(d != nullptr && b < d->baths.size() ? d->baths[b] : nan));
    f.push_back(sweep_number(d != nullptr ? d->largest : nan));
  }
  f.push_back(ok ? "" : "[" + row.error_rule + "] " + row.error);
  return f;
}

void write_sweep_csv(std::ostream& out, const SweepResult& r, const std::string& title) {
  out << "# " << title << "\n";
  out << "# units: energies, frequencies, temperatures and rates in the model file's unit (hbar = k_B = 1)\n"
         "# J_<bath>: heat current from that bath into the system (energy per unit time); drive_power: from the "
         "drive into the system\n"
         "# entropy_production = -sum J_<bath>/T_<bath>; first_law_residual = sum J + drive_power; <O>: Re Tr[rho O], "
         "<O>.im: Im Tr[rho O]\n";
  if (r.reference)
    out << "# reference method: " << method_name(*r.reference)
        << "; dev_<bath> = |J_<bath> - J_<bath>(reference)| / |J_<bath>(reference)| at the same point, deviation = "
           "the largest; nan where either row failed (error, not-converged, not-unique) or J_<bath>(reference) is 0 "
           "or round-off (<= 1e-9 x largest rate x energy span)\n";
  const std::vector<SweepColumn> columns = sweep_columns(r);
  for (std::size_t i = 0; i < columns.size(); ++i) out << (i ? "," : "") << csv_field(columns[i].name);
  out << "\n";
  for (std::size_t k = 0; k < r.rows.size(); ++k) {
    const std::vector<std::string> f = sweep_fields(r, k);
    for (std::size_t i = 0; i < f.size(); ++i) out << (i ? "," : "") << csv_field(f[i]);
    out << "\n";
  }
}

}  // namespace qheat
