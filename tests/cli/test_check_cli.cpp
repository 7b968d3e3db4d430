// `qheat check`: a wrong expected value fails with exit code 1, a documented discrepancy that is not
// reproduced fails too, and a malformed check file is one clear error (exit 2).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "../cli_support.hpp"

namespace {

std::string write_check(const std::string& body) {
  const auto dir = qheat::test::scratch_dir();
  const std::string model = std::string(QHEAT_SOURCE_DIR) + "/examples/fogedby2023/single_qubit.toml";
  const auto path = dir / "checks.toml";
  std::ofstream(path) << "[[check]]\nref = \"test\"\nmodel = \"" << model << "\"\nquantity = \"J_A\"\n"
                      << "reason = \"test\"\n" << body;
  return path.string();
}

const char* kClosedForm =
    "where = { nA = \"1/(exp(w0/TA) - 1)\", nB = \"1/(exp(w0/TB) - 1)\" }\n"
    "expected = \"gA*gB*w0*(nA - nB)/(gA*(1 + 2*nA) + gB*(1 + 2*nB))\"\n";

TEST(CheckCli, PassesFailsAndReportsDiscrepancies) {
  auto ok = qheat::test::run_cli("check " + write_check(std::string(kClosedForm) + "rtol = 1e-9\nvary = [\"TA=2,3\"]\n"));
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("2 rows, 0 failed"), std::string::npos) << ok.out;
  // The same closed form scaled by 1.01 must fail: the check is able to fail.
  auto wrong = qheat::test::run_cli(
      "check " + write_check("where = { nA = \"1/(exp(w0/TA) - 1)\", nB = \"1/(exp(w0/TB) - 1)\" }\n"
                             "expected = \"1.01*gA*gB*w0*(nA - nB)/(gA*(1 + 2*nA) + gB*(1 + 2*nB))\"\nrtol = 1e-3\n"));
  EXPECT_EQ(wrong.code, 1) << wrong.out;
  EXPECT_NE(wrong.out.find("FAIL"), std::string::npos);
  // A documented discrepancy that the numbers do not show is a failure.
  auto notdiff = qheat::test::run_cli(
      "check " + write_check(std::string(kClosedForm) + "rtol = 1e-6\nknown_discrepancy = \"none\"\n"));
  EXPECT_EQ(notdiff.code, 1) << notdiff.out;
}

TEST(CheckCli, MalformedFileIsOneClearError) {
  for (const std::string body : {"expected = \"1\"\n", "expected = \"1\"\nrtol = -1\n", "expected = \"1\"\nrtol = 1\nbogus = 2\n"}) {
    auto r = qheat::test::run_cli("check " + write_check(body));
    EXPECT_EQ(r.code, 2) << body << r.err;
    EXPECT_EQ(r.err.rfind("qheat: error [check-file]", 0), 0u) << r.err;
  }
}

TEST(CheckCli, WhatACheckNamesIsCheckedBeforeAnythingRuns) {
  // A good check first, then one that names something its model does not have: one error with the rule, the
  // file and the check's line, exit 2 and no table (a check's rows used to be FAIL rows with exit 1 for an unknown
  // site in <O>, and a bath that does not exist stopped the run after the first check's points, table printed).
  const std::string model = std::string(QHEAT_SOURCE_DIR) + "/examples/fogedby2023/single_qubit.toml";
  const std::string good = "[[check]]\nref = \"good\"\nmodel = \"" + model +
                           "\"\nquantity = \"J_A\"\nreason = \"r\"\nexpected = \"0\"\natol = 1\n";
  struct Bad {
    std::string body, rule, text;
  };
  const std::vector<Bad> cases{
      {"quantity = \"<sz(q9)>\"\nexpected = \"0\"\n", "expression", "quantity '<sz(q9)>': unknown site 'q9'"},
      {"quantity = \"J_nope\"\nexpected = \"0\"\n", "check-file", "no such bath (J_A, J_B)"},
      {"quantity = \"Jhot\"\nexpected = \"0\"\n", "check-file", "unknown quantity 'Jhot'"},
      {"quantity = \"J_A\"\nexpected = \"0\"\nmethod = \"globl\"\n", "unknown-method", "globl"},
      {"quantity = \"J_A\"\nexpected = \"1 + nope\"\n", "expression", "nope"},
      {"quantity = \"J_A\"\nexpected = \"0\"\nvary = [\"nope = 1, 2\"]\n", "unknown-parameter", "nope"},
      {"quantity = \"J_A\"\nexpected = \"0\"\nset = [\"TA = 3\"]\nvary = [\"TA = 1, 2\"]\n", "vary-duplicate",
       "'TA' is both fixed"},
  };
  for (const Bad& c : cases) {
    const auto path = qheat::test::scratch_dir() / "checks.toml";
    std::ofstream(path) << good << "\n[[check]]\nref = \"bad\"\nmodel = \"" << model
                        << "\"\nreason = \"r\"\natol = 1\n" << c.body;
    const auto r = qheat::test::run_cli("check " + path.string());
    EXPECT_EQ(r.code, 2) << c.body << r.out << r.err;
    EXPECT_EQ(r.out, "") << c.body;
    const std::string head = "qheat: error [" + c.rule + "]: " + path.string() + ":9: ";  // the second [[check]]
    EXPECT_EQ(r.err.rfind(head, 0), 0u) << head << "\n" << r.err;
    EXPECT_NE(r.err.find(c.text), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  // A model that fails at a grid point (the first one, here) is that point's FAIL row, as before.
  const auto path = qheat::test::scratch_dir() / "checks.toml";
  std::ofstream(path) << "[[check]]\nref = \"t\"\nmodel = \"" << model
                      << "\"\nreason = \"r\"\natol = 1\nquantity = \"J_A\"\nexpected = \"0\"\nvary = [\"TA = -1, 2\"]\n";
  const auto r = qheat::test::run_cli("check " + path.string());
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 rows, 1 failed"), std::string::npos) << r.out;
}

}  // namespace
