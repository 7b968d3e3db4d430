// The command line runs with glibc's transparent huge pages where the kernel's THP mode is "madvise"
// (core/resources.hpp, restart_with_huge_pages): the running sweep's environment carries the tunable and
// its memory holds huge pages; glibc.malloc.hugetlb=0 from the user stands and gives none; the rows are
// byte-identical either way (the pages change where memory comes from, not the arithmetic); and a process
// marked as restarted (QHEAT_RESTARTED) does not restart again.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "../cli_support.hpp"
#include "qheat/core/resources.hpp"

extern char** environ;

namespace {

struct Observed {
  int code = -1;
  bool tunable_in_environment = false;  // /proc/PID/environ held the wanted GLIBC_TUNABLES entry
  bool marked_restarted = false;        // and QHEAT_RESTARTED=huge-pages
  long most_huge_kib = 0;               // largest AnonHugePages of /proc/PID/smaps_rollup seen
};

long anon_huge_kib(pid_t pid) {
  const std::string text = qheat::test::slurp("/proc/" + std::to_string(pid) + "/smaps_rollup");
  const std::size_t at = text.find("AnonHugePages:");
  return at == std::string::npos ? 0 : std::atol(text.c_str() + at + std::strlen("AnonHugePages:"));
}

// Runs QHEAT_CLI with `args` and GLIBC_TUNABLES = `tunables` (unset when empty), watching its /proc entries
// every 2 ms until it exits.
Observed watch(const std::vector<std::string>& args, const std::string& tunables, const std::string& wanted,
              const std::string& extra_environment = "") {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "GLIBC_TUNABLES=", 15) != 0 && std::strncmp(*e, "QHEAT_RESTARTED=", 16) != 0) env.emplace_back(*e);
  if (!tunables.empty()) env.push_back("GLIBC_TUNABLES=" + tunables);
  if (!extra_environment.empty()) env.push_back(extra_environment);
  std::vector<std::string> argv{QHEAT_CLI};
  argv.insert(argv.end(), args.begin(), args.end());
  auto pointers = [](std::vector<std::string>& v) {
    std::vector<char*> p;
    for (auto& s : v) p.push_back(s.data());
    p.push_back(nullptr);
    return p;
  };
  std::vector<char*> a = pointers(argv), e = pointers(env);
  Observed o;
  pid_t pid = 0;
  if (posix_spawn(&pid, QHEAT_CLI, nullptr, nullptr, a.data(), e.data()) != 0) return o;
  const std::string entry = "GLIBC_TUNABLES=" + wanted;
  while (true) {
    int status = 0;
    const std::string environment = qheat::test::slurp("/proc/" + std::to_string(pid) + "/environ");
    if (environment.find(entry + '\0') != std::string::npos) o.tunable_in_environment = true;
    if (environment.find(std::string("QHEAT_RESTARTED=huge-pages") + '\0') != std::string::npos) o.marked_restarted = true;
    o.most_huge_kib = std::max(o.most_huge_kib, anon_huge_kib(pid));
    if (waitpid(pid, &status, WNOHANG) == pid) {
      o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      return o;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace

TEST(CliHugePages, SweepRunsWithGlibcHugePagesUnlessTheUserSaysNo) {
  if (qheat::kAddressSanitizer) GTEST_SKIP() << "AddressSanitizer replaces malloc; the command line does not restart under it";
  if (qheat::transparent_huge_page_mode() != "madvise") GTEST_SKIP() << "the kernel's THP mode is not madvise";
  const auto dir = qheat::test::scratch_dir();
  const std::string with = (dir / "with.csv").string(), without = (dir / "without.csv").string();
  // Four points of the 9-site chain (~1 s): a 512-level Bloch-Redfield problem whose Krylov basis (two charge
  // sectors, 131072 coordinates x 81 vectors, 85 MiB) is above glibc's mmap threshold of 32 MiB.
  const std::vector<std::string> sweep{"sweep", std::string(QHEAT_SOURCE_DIR) + "/examples/chain/xx_chain.toml",
                                       "--set", "N=9", "--vary", "T_hot=1.5:3:4", "--method", "redfield",
                                       "--threads", "1", "--quiet", "--out"};
  auto with_args = sweep, without_args = sweep;
  with_args.push_back(with);
  without_args.push_back(without);

  const Observed on = watch(with_args, "", "glibc.malloc.hugetlb=1");
  EXPECT_EQ(on.code, 0);
  EXPECT_TRUE(on.tunable_in_environment);
  EXPECT_TRUE(on.marked_restarted);
  EXPECT_GT(on.most_huge_kib, 0);  // at least one 2 MiB page (a point's matrices and Krylov basis: tens of MiB)

  const Observed off = watch(without_args, "glibc.malloc.hugetlb=0", "glibc.malloc.hugetlb=0");
  EXPECT_EQ(off.code, 0);
  EXPECT_TRUE(off.tunable_in_environment);  // left as the user set it
  EXPECT_FALSE(off.marked_restarted);       // and no restart
  EXPECT_EQ(off.most_huge_kib, 0);          // nothing in the process asks for huge pages then

  const std::string a = qheat::test::slurp(with), b = qheat::test::slurp(without);
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);

  // Already restarted once (the mark is there): no second restart, even without the tunable.
  auto again_args = sweep;
  again_args.push_back((dir / "again.csv").string());
  const Observed again = watch(again_args, "", "glibc.malloc.hugetlb=1", "QHEAT_RESTARTED=huge-pages");
  EXPECT_EQ(again.code, 0);
  EXPECT_FALSE(again.tunable_in_environment);
  EXPECT_EQ(again.most_huge_kib, 0);
}
