// Process-level settings of core/resources.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include <malloc.h>

#include "qheat/core/resources.hpp"

extern "C" int openblas_thread_timeout(void);  // OpenBLAS: the OPENBLAS_THREAD_TIMEOUT it read (0: unset)

namespace {

int nodelay(int fd) {
  int v = -1;
  socklen_t len = sizeof v;
  if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) != 0) return -1;
  return v;
}

}  // namespace

// A loopback TCP connection as PMIx's client and server hold one (Nagle on: the kernel's default) and a
// Unix socket pair: the TCP ends get TCP_NODELAY, the Unix sockets are left alone.
TEST(Resources, TurnsOffNagleOnTcpSocketsOnly) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int client = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const int server = accept(listener, nullptr, nullptr);
  ASSERT_GE(server, 0);
  int unix_pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, unix_pair), 0);

  EXPECT_EQ(nodelay(client), 0);  // the premise: Nagle is on until someone turns it off
  EXPECT_EQ(nodelay(server), 0);
  EXPECT_GE(qheat::turn_off_nagle_on_tcp_sockets(), 3);  // listener, client, server (and any other TCP socket)
  EXPECT_EQ(nodelay(client), 1);
  EXPECT_EQ(nodelay(server), 1);
  EXPECT_EQ(nodelay(unix_pair[0]), -1);  // not a TCP socket: the option does not exist there
  int type = 0;
  len = sizeof type;
  EXPECT_EQ(getsockopt(unix_pair[0], SOL_SOCKET, SO_TYPE, &type, &len), 0);  // and it is still intact
  EXPECT_EQ(type, SOCK_STREAM);
  for (int fd : {listener, client, server, unix_pair[0], unix_pair[1]}) close(fd);
}

// glibc's huge-page tunable is added only where it helps (the kernel's "madvise" mode) and never over
// the user's own glibc.malloc.hugetlb; other tunables are kept.
TEST(Resources, HugePageTunablesOnlyWhereTheyHelp) {
  EXPECT_EQ(qheat::huge_page_tunables(nullptr, "madvise"), "glibc.malloc.hugetlb=1");
  EXPECT_EQ(qheat::huge_page_tunables("", "madvise"), "glibc.malloc.hugetlb=1");
  EXPECT_EQ(qheat::huge_page_tunables("glibc.malloc.arena_max=2", "madvise"),
            "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1");
  EXPECT_EQ(qheat::huge_page_tunables("glibc.malloc.hugetlb=0", "madvise"), std::nullopt);  // the user's choice
  EXPECT_EQ(qheat::huge_page_tunables("glibc.malloc.hugetlb=1", "madvise"), std::nullopt);  // after the restart
  EXPECT_EQ(qheat::huge_page_tunables(nullptr, "always"), std::nullopt);  // the kernel backs the heap already
  EXPECT_EQ(qheat::huge_page_tunables(nullptr, "never"), std::nullopt);
  EXPECT_EQ(qheat::huge_page_tunables(nullptr, ""), std::nullopt);  // unknown: no sysfs
}

// OpenBLAS's idle workers get qheat's spin time (2^20 cycles) unless the user chose one; the variable is not
// left in the environment; threaded products still run and give the same numbers afterwards.
TEST(Resources, BlasWorkersSpinBrieflyUnlessTheUserChose) {
  const int threads = qheat::thread_count();
  qheat::set_thread_count(2);
  const Eigen::MatrixXcd a = Eigen::MatrixXcd::Random(300, 300), b = Eigen::MatrixXcd::Random(300, 300);
  const Eigen::MatrixXcd reference = a.lazyProduct(b);  // Eigen's own loops, not BLAS

  setenv("OPENBLAS_THREAD_TIMEOUT", "25", 1);
  const int at_load = openblas_thread_timeout();
  qheat::settle_blas_workers();
  EXPECT_EQ(openblas_thread_timeout(), at_load);  // the user's variable: not read again, not changed
  EXPECT_STREQ(std::getenv("OPENBLAS_THREAD_TIMEOUT"), "25");

  unsetenv("OPENBLAS_THREAD_TIMEOUT");
  qheat::settle_blas_workers();
  EXPECT_EQ(openblas_thread_timeout(), qheat::kBlasWorkerSpinLog2);
  EXPECT_EQ(std::getenv("OPENBLAS_THREAD_TIMEOUT"), nullptr);
  EXPECT_EQ(qheat::thread_count(), 2);

  // A product through OpenBLAS's zgemm (EIGEN_USE_BLAS; its workers restart with the new timeout) against
  // Eigen's loops: both sum 300 products per element in different orders, 1e-12 relative covers the round-off.
  const Eigen::MatrixXcd c = a * b;
  EXPECT_LT((c - reference).norm(), 1e-12 * reference.norm());
  qheat::set_thread_count(threads);
}

// The user's number of malloc arenas stands, whichever way glibc was told.
TEST(Resources, UserChoosesMallocArenasByEitherVariable) {
  EXPECT_FALSE(qheat::user_chose_malloc_arenas(nullptr, nullptr));
  EXPECT_FALSE(qheat::user_chose_malloc_arenas(nullptr, "glibc.malloc.hugetlb=1"));  // qheat's own restart
  EXPECT_TRUE(qheat::user_chose_malloc_arenas("4", nullptr));
  EXPECT_TRUE(qheat::user_chose_malloc_arenas(nullptr, "glibc.malloc.hugetlb=1:glibc.malloc.arena_max=4"));
}

// Once keep_freed_memory ran, threads allocate from glibc's main arena: two threads alive at once, each
// holding a 1 MiB block (below the 32 MiB mmap threshold, so from an arena's heap), leave one heap in
// malloc_info's report. Without the setting each thread's first allocation makes an arena of its own (three).
TEST(Resources, ThreadsShareOneMallocArena) {
#ifdef QHEAT_ADDRESS_SANITIZER
  GTEST_SKIP() << "AddressSanitizer replaces glibc's malloc";
#else
  if (qheat::user_chose_malloc_arenas(std::getenv("MALLOC_ARENA_MAX"), std::getenv("GLIBC_TUNABLES")))
    GTEST_SKIP() << "the environment sets glibc's malloc arenas";
  qheat::keep_freed_memory();
  std::latch both(2);
  auto work = [&both] {
    const std::vector<char> block(std::size_t{1} << 20, 1);
    both.arrive_and_wait();
  };
  std::thread first(work), second(work);
  first.join();
  second.join();
  char* text = nullptr;
  std::size_t size = 0;
  FILE* report = open_memstream(&text, &size);
  ASSERT_NE(report, nullptr);
  ASSERT_EQ(malloc_info(0, report), 0);
  std::fclose(report);
  const std::string xml(text, size);
  std::free(text);
  std::size_t heaps = 0;
  for (std::size_t at = xml.find("<heap nr="); at != std::string::npos; at = xml.find("<heap nr=", at + 1)) ++heaps;
  EXPECT_EQ(heaps, 1U) << xml;
#endif
}

TEST(Resources, TransparentHugePageModeIsTheKernelsBracketedWord) {
  const std::string mode = qheat::transparent_huge_page_mode();
  EXPECT_TRUE(mode == "always" || mode == "madvise" || mode == "never" || mode.empty()) << mode;
  if (access("/sys/kernel/mm/transparent_hugepage/enabled", R_OK) == 0) {
    EXPECT_FALSE(mode.empty());
  }
}

// Solves that run at once share the limit equally (a sweep's --jobs, MPI ranks on a node): an explicit
// limit is divided exactly; the memory available is divided as it was when the share began; the message
// names the share; the limit before comes back when the share ends, also when shares nest.
TEST(Resources, MemoryShareDividesTheLimitAmongSolvesAtOnce) {
  using qheat::MemoryShare;
  qheat::set_memory_limit(std::size_t{3} << 30);
  {
    const MemoryShare share(3);
    EXPECT_EQ(qheat::memory_sharers(), 3);
    EXPECT_EQ(qheat::memory_limit(), std::size_t{1} << 30);
    try {
      qheat::check_memory(std::size_t{2} << 30, "a solve", "");
      ADD_FAILURE() << "2 GiB passed a 1 GiB share";
    } catch (const qheat::MemoryLimitError& e) {
      EXPECT_EQ(e.limit(), std::size_t{1} << 30);
      const std::string m = e.what();
      EXPECT_NE(m.find("more than the limit of 1.0 GiB (--max-memory shared by 3 solves at once on this machine)"),
                std::string::npos) << m;
      EXPECT_NE(m.find("fewer points at once (--jobs, MPI ranks per node)"), std::string::npos) << m;
    }
    {
      const MemoryShare inner(1);  // a sweep of one job inside: the whole limit
      EXPECT_EQ(qheat::memory_limit(), std::size_t{3} << 30);
    }
    EXPECT_EQ(qheat::memory_limit(), std::size_t{1} << 30);
  }
  EXPECT_EQ(qheat::memory_sharers(), 1);
  EXPECT_EQ(qheat::memory_limit(), std::size_t{3} << 30);
  EXPECT_NO_THROW(qheat::check_memory(std::size_t{2} << 30, "a solve", ""));

  qheat::set_memory_limit(0);  // the memory available: a quarter of it with four solves at once
  const double before = static_cast<double>(qheat::available_memory());
  double shared = 0.0;
  {
    const MemoryShare share(4);
    shared = static_cast<double>(qheat::memory_limit());
  }
  const double after = static_cast<double>(qheat::available_memory());
  // MemAvailable moves while other tests run (ctest -j2); the share is of the value at its start, which lies
  // within the range seen around it up to what other processes allocate or free meanwhile: 20 % of slack
  // either way. Without the share the limit would be ~4 times this.
  EXPECT_LE(shared, 1.2 * std::max(before, after) / 4) << before << " " << after;
  EXPECT_GE(shared, 0.8 * std::min(before, after) / 4) << before << " " << after;
  EXPECT_GE(static_cast<double>(qheat::memory_limit()), 0.5 * std::min(before, after));  // the whole again
}
