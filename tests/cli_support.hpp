// Running the qheat binary from tests: exit code, stdout and stderr of one invocation.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace qheat::test {

struct CliRun {
  int code = -1;  // exit code; -1 when killed by a signal
  std::string out, err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream f(path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// The scratch directory of one test in this process (ctest runs tests in parallel). Removed when the test
// passes (tests/scratch_cleanup.cpp); a failed test's stays for inspection.
inline std::filesystem::path scratch_path(const ::testing::TestInfo& info) {
  return std::filesystem::temp_directory_path() /
         ("qheat_cli_" + std::to_string(::getpid()) + "_" + info.test_suite_name() + "_" + info.name());
}

inline std::filesystem::path scratch_dir() {
  const auto dir = scratch_path(*::testing::UnitTest::GetInstance()->current_test_info());
  std::filesystem::create_directories(dir);
  return dir;
}

// Runs `QHEAT_CLI args` through the shell (args are shell words); `shell` runs before it in the same shell
// (e.g. a `ulimit`).
inline CliRun run_cli(const std::string& args, const std::string& shell = "") {
  const auto dir = scratch_dir();
  const std::string out = (dir / "out").string(), err = (dir / "err").string();
  const std::string cmd = shell + std::string(QHEAT_CLI) + " " + args + " >" + out + " 2>" + err;
  const int status = std::system(cmd.c_str());
  CliRun r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

}  // namespace qheat::test
