#include <cstdlib>
#include "options.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>

#include "qheat/core/resources.hpp"
#include "qheat/core/types.hpp"
#include "qheat/generators/generator.hpp"

namespace qheat::cli {
namespace {

constexpr int kMaxCount = 1024;  // --jobs and --threads

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

// "-x", "--name" or "--name=value", but not a negative number.
bool looks_like_option(const std::string& arg) {
  if (arg.size() < 2 || arg[0] != '-') return false;
  const char c = arg[1];
  return !(std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '.');
}

std::string command_name(const CLI::App* sub) { return sub == nullptr ? "qheat" : "qheat " + sub->get_name(); }

std::string command_list(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* s : app.get_subcommands([](const CLI::App*) { return true; })) names.push_back(s->get_name());
  return join(names, ", ");
}

}  // namespace

CLI::Validator existing_file(const std::string& what) {
  return CLI::Validator(
      [what](std::string& path) -> std::string {
        std::error_code ec;
        const auto status = std::filesystem::status(path, ec);
        if (!std::filesystem::exists(status)) throw Error("cli-file", what + " '" + path + "' does not exist");
        if (std::filesystem::is_directory(status))
          throw Error("cli-file", what + " '" + path + "' is a directory, not a file");
        std::ifstream in(path);
        if (!in) throw Error("cli-file", "cannot read " + what + " '" + path + "': " + std::strerror(errno));
        return {};
      },
      "FILE", "existing file");
}

CLI::Validator one_of(const std::string& option, const std::vector<std::string>& choices) {
  return CLI::Validator(
      [option, choices](std::string& value) -> std::string {
        for (const auto& c : choices)
          if (value == c) return {};
        throw Error("cli-option", option + " must be one of " + join(choices, ", ") + "; got '" + value + "'");
      },
      "{" + join(choices, ",") + "}", "one of");
}

CLI::Validator method_name_check() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        (void)parse_method(value);
        return {};
      },
      "METHOD", "method");
}

CLI::Validator positive_count(const std::string& option, const std::string& rule) {
  return CLI::Validator(
      [option, rule](std::string& value) -> std::string {
        bool digits = !value.empty() && value.size() <= 9;
        for (const char c : value) digits = digits && std::isdigit(static_cast<unsigned char>(c)) != 0;
        const long n = digits ? std::stol(value) : 0;
        if (n < 1 || n > kMaxCount)
          throw Error(rule, option + " expects a whole number from 1 to " + std::to_string(kMaxCount) + "; got '" +
                                value + "'");
        return {};
      },
      "N", "positive count");
}

CLI::Validator positive_number(const std::string& option, const std::string& what, const std::string& name) {
  return CLI::Validator(
      [option, what](std::string& value) -> std::string {
        char* end = nullptr;
        const double v = value.empty() ? std::nan("") : std::strtod(value.c_str(), &end);
        if (value.empty() || end == nullptr || *end != '\0')
          throw Error("cli-argument", option + " expects a number (" + what + "); got '" + value + "'");
        if (!std::isfinite(v) || v <= 0)
          throw Error("cli-option", option + " expects a positive number (" + what + "); got '" + value + "'");
        return {};
      },
      name, "positive number");
}

void add_lamb_shift_option(CLI::App* cmd, std::string& target) {
  cmd->add_option("--lamb-shift", target,
                  "on | off | auto (default auto: on for every bath whose spectral density gives a finite Lamb shift)")
      ->check(one_of("--lamb-shift", {"on", "off", "auto"}));
}

CLI::Validator memory_size() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        (void)parse_memory_size(value);
        return {};
      },
      "SIZE", "memory size");
}

int count_value(const std::string& text) { return text.empty() ? 0 : std::stoi(text); }

void add_resource_options(CLI::App* cmd, ResourceArgs& args, const std::string& threads_help) {
  cmd->add_option("--threads", args.threads, threads_help)->check(positive_count("--threads", "threads"));
  cmd->add_option("--max-memory", args.max_memory,
                  "memory limit, e.g. 256M or 8G (default: the memory available); a solver whose estimated peak "
                  "exceeds it stops with an error; in a sweep the points solved at once on a machine (--jobs, MPI "
                  "ranks) share it equally")
      ->check(memory_size());
}

void print_json(const nlohmann::json& document) { std::cout << std::setw(2) << document << "\n"; }

void apply_resources(const ResourceArgs& args, int threads) {
  if (!args.max_memory.empty()) set_memory_limit(parse_memory_size(args.max_memory));
  if (threads > 0) set_thread_count(threads);
  settle_blas_workers();
}

namespace {
int whole_number(const std::string& option, const std::string& rule, const std::string& text, int low, int high) {
  bool digits = !text.empty() && text.size() <= 4;
  for (const char c : text) digits = digits && std::isdigit(static_cast<unsigned char>(c)) != 0;
  const int n = digits ? std::stoi(text) : -1;
  if (n < low || n > high)
    throw Error(rule, option + " expects a whole number from " + std::to_string(low) + " to " + std::to_string(high) +
                          "; got '" + text + "'");
  return n;
}
}  // namespace

void add_heom_options(CLI::App* cmd, HeomArgs& args) {
  cmd->add_option("--heom-depth", args.depth, "hierarchy depth of --method heom (fixed hierarchy; default 5)");
  cmd->add_option("--heom-terms", args.terms,
                  "Pade/Matsubara terms per bath beyond the Drude pole (QuTiP's Nk; fixed hierarchy; default 4)");
  cmd->add_option("--heom-tol", args.tol,
                  "automatic hierarchy: raise depth and terms until every current changes by less than this, "
                  "relative (default 1e-4 when neither --heom-depth nor --heom-terms is given)");
  cmd->add_option("--heom-decomposition", args.decomposition, "pade | matsubara (default pade)")
      ->check(one_of("--heom-decomposition", {"pade", "matsubara"}));
  cmd->add_option("--heom-terminator", args.terminator,
                  "ishizaki-tanimura (= on, the default) | second-order | off: how the left-out terms enter")
      ->check(one_of("--heom-terminator", {"on", "ishizaki-tanimura", "second-order", "off"}));
  cmd->add_option("--heom-schur", args.schur,
                  "auto (the default) | dense | iterative: how ADO 0's preconditioner solves with its Schur complement "
                  "(dense factors, or GMRES on it; auto: GMRES for systems of more than 64 levels)")
      ->check(one_of("--heom-schur", {"auto", "dense", "iterative"}));
}

HeomOptions heom_options(const HeomArgs& args) {
  HeomRequest r;
  r.decomposition = parse_heom_decomposition(args.decomposition);
  r.terminator = parse_heom_terminator(args.terminator);
  r.schur = parse_heom_schur(args.schur);
  const HeomOptions limits;
  if (!args.depth.empty()) r.depth = whole_number("--heom-depth", "heom-depth", args.depth, 0, limits.max_depth);
  if (!args.terms.empty()) r.terms = whole_number("--heom-terms", "heom-terms", args.terms, 0, limits.max_terms);
  if (!args.tol.empty()) {
    char* end = nullptr;
    const double t = std::strtod(args.tol.c_str(), &end);
    if (end == args.tol.c_str() || *end != '\0' || !(t > 0.0) || !(t < 1.0))
      throw Error("heom-tol", "--heom-tol expects a number between 0 and 1 (exclusive); got '" + args.tol + "'");
    r.tolerance = t;
  }
  return heom_options(r);
}

CliFailure describe_parse_error(const CLI::ParseError& e, const CLI::App& app) {
  const std::vector<CLI::App*> parsed = app.get_subcommands();
  const CLI::App* sub = parsed.empty() ? nullptr : parsed.back();
  const std::string help = " (" + command_name(sub) + " --help)";
  const bool required = dynamic_cast<const CLI::RequiredError*>(&e) != nullptr;
  if (required || dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    // Left-over arguments: those before the command belong to `qheat`, the others to the command.
    const std::vector<std::string> top = app.remaining(false);
    const std::vector<std::string> own = sub != nullptr ? sub->remaining(true) : std::vector<std::string>{};
    for (const auto& x : top)
      if (looks_like_option(x)) return {"cli-option", "unknown option '" + x.substr(0, x.find('=')) + "' (qheat --help)"};
    if (sub == nullptr) {
      if (!top.empty())
        return {"cli-command", "unknown command '" + top.front() + "'; the commands are " + command_list(app)};
      return {"cli-command", "no command given; the commands are " + command_list(app) + " (qheat --help)"};
    }
    if (required)
      for (const CLI::Option* opt : sub->get_options())
        if (opt->get_required() && opt->count() == 0)
          return {"cli-argument", command_name(sub) + " needs " + opt->get_name() + help};
    for (const auto& x : own)
      if (looks_like_option(x))
        return {"cli-option", "unknown option '" + x.substr(0, x.find('=')) + "' for " + command_name(sub) + help};
    if (!own.empty()) return {"cli-argument", "unexpected argument '" + own.front() + "' for " + command_name(sub) + help};
    if (!top.empty()) return {"cli-argument", "unexpected argument '" + top.front() + "'" + help};
  }
  if (dynamic_cast<const CLI::RequiresError*>(&e) != nullptr || dynamic_cast<const CLI::ExcludesError*>(&e) != nullptr)
    return {"cli-option", std::string(e.what()) + help};
  // A value that does not fit its option. CLI11's messages for the common cases, reworded. Plain string
  // matching, not <regex>: GCC 12's -Wmaybe-uninitialized fires inside <regex> under -fsanitize=address.
  const std::string what = e.what();
  const std::string convert = "Could not convert: ";
  if (what.rfind(convert, 0) == 0) {
    const std::string rest = what.substr(convert.size());
    const std::size_t eq = rest.find(" = ");
    if (eq != std::string::npos && eq > 0 && rest.substr(0, eq).find(' ') == std::string::npos)
      return {"cli-argument", rest.substr(0, eq) + " cannot take the value '" + rest.substr(eq + 3) + "'" + help};
  }
  const std::size_t colon = what.find(": ");
  if (colon != std::string::npos && colon > 0 && what.find(' ') > colon) {
    const std::string name = what.substr(0, colon);
    const std::string rest = what.substr(colon + 2);
    const std::size_t digits = rest.find_first_not_of("0123456789");
    if (digits > 0 && digits != std::string::npos && rest.compare(digits, 10, " required ") == 0 &&
        rest.size() >= 7 && rest.compare(rest.size() - 7, 7, "missing") == 0)
      return {"cli-argument", name + " needs a value" + help};
    if (rest.rfind("At Most ", 0) == 0 && rest.find(" required but received ") != std::string::npos)
      return {"cli-argument", name + " is given more than once" + help};
  }
  return {"cli-argument", what + help};
}

}  // namespace qheat::cli
