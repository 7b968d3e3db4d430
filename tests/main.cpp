// The test programme's start. It begins as the command line (cli/main.cpp) and the Python module do: glibc keeps
// freed memory and OpenBLAS's idle workers sleep after 2^20 cycles (core/resources.hpp). With gtest's own main
// they spun ~0.1 s after every threaded BLAS call, on the core where ctest runs its other test (bench/README.md,
// "CI time"). Scratch files of the CLI tests (cli_support.hpp, scratch_dir): each test's directory is removed
// when the test passes; a failed test's stays in the temporary directory for inspection.
#include <gtest/gtest.h>

#include <filesystem>
#include <system_error>

#include "cli_support.hpp"
#include "qheat/core/resources.hpp"

namespace {

class ScratchCleanup : public ::testing::EmptyTestEventListener {
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (info.result() != nullptr && info.result()->Failed()) return;
    std::error_code ignored;  // nothing to remove is the common case (tests without scratch files)
    std::filesystem::remove_all(qheat::test::scratch_path(info), ignored);
  }
};

}  // namespace

int main(int argc, char** argv) {
  qheat::keep_freed_memory();
  qheat::settle_blas_workers();
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::UnitTest::GetInstance()->listeners().Append(new ScratchCleanup);  // gtest owns it
  return RUN_ALL_TESTS();
}
