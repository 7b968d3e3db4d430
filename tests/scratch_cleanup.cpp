// Scratch files of the CLI tests (cli_support.hpp, scratch_dir): each test's directory is removed when the
// test passes; a failed test's stays in the temporary directory for inspection.
#include <gtest/gtest.h>

#include <filesystem>
#include <system_error>

#include "cli_support.hpp"

namespace {

class ScratchCleanup : public ::testing::EmptyTestEventListener {
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (info.result() != nullptr && info.result()->Failed()) return;
    std::error_code ignored;  // nothing to remove is the common case (tests without scratch files)
    std::filesystem::remove_all(qheat::test::scratch_path(info), ignored);
  }
};

// gtest_main is the test binary's main: the listener is appended while static objects are initialised.
[[maybe_unused]] const bool kRegistered = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new ScratchCleanup);  // gtest owns it
  return true;
}();

}  // namespace
