// Command-line errors: every kind (file, option, argument, command, typed option values) is one line
// `qheat: error [RULE]: message` on stderr and exit code 2, like bad model input; --help and --version
// print to stdout and exit 0 (docs/conventions.md, "Exit codes").
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "../cli_support.hpp"

namespace {

using qheat::test::CliRun;
using qheat::test::run_cli;

const std::string kZhang = std::string(QHEAT_SOURCE_DIR) + "/examples/zhang2025/two_qubits.toml";

struct Case {
  std::string args, rule, needle;  // needle: a part of the message
};

void expect_rule(const CliRun& r, const Case& c) {
  EXPECT_EQ(r.code, 2) << c.args << "\n" << r.err;
  EXPECT_EQ(r.out, "") << c.args;
  EXPECT_EQ(r.err.rfind("qheat: error [" + c.rule + "]: ", 0), 0u) << c.args << "\n" << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.args << "\n" << r.err;
  EXPECT_EQ(r.err.back(), '\n') << c.args;
  EXPECT_NE(r.err.find(c.needle), std::string::npos) << c.args << "\n" << r.err;
}

void expect_all(const std::vector<Case>& cases) {
  for (const Case& c : cases) expect_rule(run_cli(c.args), c);
}

TEST(CliParseErrors, MissingOrUnreadableFileIsCliFile) {
  const auto dir = qheat::test::scratch_dir();
  expect_all({{"ness /nonexistent/model.toml", "cli-file", "model file '/nonexistent/model.toml' does not exist"},
              {"ness " + dir.string(), "cli-file", "is a directory"},
              {"sweep /nonexistent/m.toml --vary T1=1,2", "cli-file", "does not exist"},
              {"response /nonexistent/m.toml --perturbation V", "cli-file", "does not exist"},
              {"gibbs /nonexistent/m.toml", "cli-file", "does not exist"},
              {"plot /nonexistent/s.csv --out s.png", "cli-file", "CSV file '/nonexistent/s.csv'"},
              {"check /nonexistent/checks.toml", "cli-file", "check file"}});
}

TEST(CliParseErrors, UnknownOptionOrBadChoiceIsCliOption) {
  expect_all({{"ness " + kZhang + " --nope", "cli-option", "unknown option '--nope' for qheat ness"},
              {"ness " + kZhang + " --nope=3", "cli-option", "'--nope'"},
              {"sweep " + kZhang + " --vary T1=1,2 -z", "cli-option", "'-z'"},
              {"--nope ness " + kZhang, "cli-option", "'--nope'"},
              {"ness " + kZhang + " --format xml", "cli-option", "--format must be one of json, table; got 'xml'"},
              {"ness " + kZhang + " --lamb-shift maybe", "cli-option", "--lamb-shift"},
              {"response " + kZhang + " --perturbation V --format csv", "cli-option", "--format"},
              {"gibbs " + kZhang + " --order 1", "cli-option", "--order must be one of 0, 2"}});
}

TEST(CliParseErrors, UnknownMethodIsTheSameRuleForNessAndSweep) {
  expect_all({{"ness " + kZhang + " --method nope", "unknown-method", "'nope'"},
              {"sweep " + kZhang + " --vary T1=1,2 --method nope --quiet", "unknown-method", "'nope'"}});
}

TEST(CliParseErrors, MissingExtraOrBadArgumentIsCliArgument) {
  expect_all({{"ness", "cli-argument", "qheat ness needs FILE"},
              {"sweep " + kZhang, "cli-argument", "qheat sweep needs --vary"},
              {"response " + kZhang, "cli-argument", "needs --perturbation"},
              {"ness " + kZhang + " " + kZhang, "cli-argument", "unexpected argument"},
              {"ness " + kZhang + " --method", "cli-argument", "--method"},
              {"ness " + kZhang + " --state=maybe", "cli-argument", "--state cannot take the value 'maybe'"}});
}

TEST(CliParseErrors, MissingOrUnknownCommandIsCliCommand) {
  expect_all({{"", "cli-command", "no command given"}, {"nope", "cli-command", "unknown command 'nope'"}});
}

TEST(CliParseErrors, CountsAndSizesAreTypedErrors) {
  expect_all({{"sweep " + kZhang + " --vary T1=1,2 --jobs abc", "jobs", "--jobs expects a whole number"},
              {"sweep " + kZhang + " --vary T1=1,2 --jobs -1", "jobs", "'-1'"},
              {"ness " + kZhang + " --threads 0", "threads", "--threads expects a whole number"},
              {"ness " + kZhang + " --threads abc", "threads", "'abc'"},
              {"ness " + kZhang + " --threads 1.5", "threads", "'1.5'"},
              {"sweep " + kZhang + " --vary T1=1,2 --threads 0", "threads", "--threads"},
              {"response " + kZhang + " --perturbation V --threads x", "threads", "--threads"},
              {"ness " + kZhang + " --max-memory 0", "memory-size", "'0'"},
              {"ness " + kZhang + " --max-memory abc", "memory-size", "'abc'"},
              {"sweep " + kZhang + " --vary T1=1,2 --max-memory 12X", "memory-size", "'12X'"},
              {"response " + kZhang + " --perturbation V --max-memory -1G", "memory-size", "'-1G'"}});
}

TEST(CliParseErrors, HelpAndVersionGoToStdoutWithExitZero) {
  for (const std::string args : {"--help", "ness --help", "sweep --help", "response -h"}) {
    const CliRun r = run_cli(args);
    EXPECT_EQ(r.code, 0) << args << r.err;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << args << r.out;
    EXPECT_EQ(r.err, "") << args;
  }
  const CliRun v = run_cli("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_EQ(v.out.rfind("qheat ", 0), 0u) << v.out;
  EXPECT_EQ(v.err, "");
  const CliRun h = run_cli("ness --help");
  for (const char* opt : {"--threads", "--max-memory"}) EXPECT_NE(h.out.find(opt), std::string::npos) << opt;
}

}  // namespace
