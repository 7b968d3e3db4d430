// Running the qheat binary from tests: exit code, stdout and stderr of one invocation.
#pragma once

#include <gtest/gtest.h>
#include <sys/resource.h>
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
  long peak_kib = 0;  // the largest resident set of the shell and qheat (getrusage's ru_maxrss of wait4)
};

inline std::string slurp(const std::string& path) {
  std::ifstream f(path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// The scratch directory of one test in this process (ctest runs tests in parallel). Removed when the test
// passes (tests/main.cpp); a failed test's stays for inspection.
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
  CliRun r;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  struct rusage usage {};
  if (pid < 0 || ::wait4(pid, &status, 0, &usage) != pid) {
    ADD_FAILURE() << "could not run " << cmd;
    return r;
  }
  r.peak_kib = usage.ru_maxrss;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

}  // namespace qheat::test
