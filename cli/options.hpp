// Options shared by the subcommands and the one error format of the command line
// (docs/conventions.md, "Exit codes"): validators that throw qheat::Error with the rule of the broken
// rule, the resource options --threads and --max-memory, and the translation of CLI11's parse errors.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qheat/hierarchy/heom.hpp"

namespace qheat::cli {

// FILE arguments: throws Error("cli-file") when the path does not exist, is a directory or cannot be
// read. `what` names the file in the message ("model file").
CLI::Validator existing_file(const std::string& what);
// Enumerated options: throws Error("cli-option") for a value not in `choices`.
CLI::Validator one_of(const std::string& option, const std::vector<std::string>& choices);
// A method name (parse_method): throws MethodError("unknown-method"), the same rule as `sweep --method`.
CLI::Validator method_name_check();
// Positive integers (--jobs, --threads): throws Error(rule) for anything else.
CLI::Validator positive_count(const std::string& option, const std::string& rule);
// A positive finite number (--validity, --progress-every): Error("cli-argument") when the text is not a number,
// Error("cli-option") when it is not positive and finite (docs/conventions.md, "Exit codes"). `what` says what
// the number is ("a relative tolerance such as 0.05"); `name` is the help's placeholder.
CLI::Validator positive_number(const std::string& option, const std::string& what, const std::string& name);
// --lamb-shift on | off | auto of ness, sweep and response (docs/conventions.md).
void add_lamb_shift_option(CLI::App* cmd, std::string& target);
// --max-memory: throws Error("memory-size") (qheat::parse_memory_size).
CLI::Validator memory_size();

// The value of a positive_count option; 0 when the option was not given (empty text).
int count_value(const std::string& text);

// --threads and --max-memory of ness, gibbs, sweep and response.
struct ResourceArgs {
  std::string threads;     // empty: the command's default
  std::string max_memory;  // empty: the memory available to the process
};
void add_resource_options(CLI::App* cmd, ResourceArgs& args, const std::string& threads_help);
// Sets the memory limit and the BLAS threads (`threads` > 0) for the computation that follows.
void apply_resources(const ResourceArgs& args, int threads);

// The HEOM method's options of ness and sweep (docs/conventions.md, "HEOM").
struct HeomArgs {
  std::string depth, terms, tol;  // empty: not given
  std::string decomposition = "pade";
  std::string terminator = "on";
  std::string schur = "auto";
};
void add_heom_options(CLI::App* cmd, HeomArgs& args);
// The hierarchy these options ask for: fixed when --heom-depth or --heom-terms is given without --heom-tol
// (the other takes its default), else automatic from depth 2 and 1 term (or the given ones) to --heom-tol
// (default 1e-4). Throws Error("heom-depth" | "heom-terms" | "heom-tol") for values out of range.
HeomOptions heom_options(const HeomArgs& args);

// Writes a command's JSON document to stdout, indented by 2 (nlohmann's dump(2)), streamed: a 4096-level
// density matrix is ~750 MB of text that is never held as one string.
void print_json(const nlohmann::json& document);

// Rule and message for a CLI11 parse error of `app` (after app.parse threw it).
struct CliFailure {
  std::string rule, message;
};
CliFailure describe_parse_error(const CLI::ParseError& e, const CLI::App& app);

}  // namespace qheat::cli
