#include "qheat/core/resources.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>
#include <vector>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

extern "C" void openblas_set_num_threads(int num_threads);  // OpenBLAS (cblas.h declares them too)
extern "C" int openblas_get_num_threads();
extern "C" int blas_thread_shutdown_(void);  // OpenBLAS: joins its workers (a later threaded call restarts them)
extern "C" void openblas_read_env(void);       // OpenBLAS: reads its OPENBLAS_* variables (again)

namespace qheat {
namespace {
std::atomic<std::size_t> g_limit{0};
std::atomic<int> g_sharers{1};                  // MemoryShare in force
std::atomic<std::size_t> g_shared_available{0};  // available_memory() when it began

std::size_t read_meminfo_available() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::size_t value = 0;
  std::string unit;
  while (in >> key >> value) {
    std::getline(in, unit);
    if (key == "MemAvailable:") return value * 1024;
  }
  return 0;
}

std::size_t read_number_file(const char* path) {
  std::ifstream in(path);
  std::string text;
  if (in >> text && !text.empty() && std::isdigit(static_cast<unsigned char>(text[0])) != 0) {
    try {
      return static_cast<std::size_t>(std::stoull(text));
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

// A key's value in a cgroup memory.stat file (0 when absent).
std::size_t read_stat_key(const char* path, const std::string& key) {
  std::ifstream in(path);
  std::string k;
  std::size_t v = 0;
  while (in >> k >> v)
    if (k == key) return v;
  return 0;
}

// What the cgroup (a Slurm job's, a container's) still allows: its limit less its working set (usage less the
// inactive file cache, which the kernel reclaims first) -- the model's own matrices and everything else the job
// holds count against it (the limit alone let a solve through that fitted only an empty cgroup). 0: no limit.
std::size_t read_cgroup_limit() {
  struct Files {
    const char *max, *current, *stat, *inactive;
  };
  const Files files[] = {
      {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current", "/sys/fs/cgroup/memory.stat", "inactive_file"},
      {"/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes",
       "/sys/fs/cgroup/memory/memory.stat", "total_inactive_file"}};
  for (const Files& f : files) {
    const std::size_t limit = read_number_file(f.max);
    if (limit == 0) continue;
    const std::size_t usage = read_number_file(f.current), inactive = read_stat_key(f.stat, f.inactive);
    const std::size_t used = usage > inactive ? usage - inactive : 0;
    return limit > used ? limit - used : 1;
  }
  return 0;
}
// What the process may still map under its address-space limit (`ulimit -v`, RLIMIT_AS): the limit less
// the virtual size it has now (/proc/self/statm); 0 when there is no limit. Under `ulimit -v 4000000` a
// 6 GiB solve otherwise passed the check against MemAvailable and ended in std::bad_alloc.
std::size_t address_space_headroom() {
#if defined(__linux__)
  rlimit rl{};
  if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 0;
  std::ifstream in("/proc/self/statm");
  std::size_t pages = 0;
  in >> pages;
  const std::size_t used = pages * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const auto limit = static_cast<std::size_t>(rl.rlim_cur);
  return limit > used ? limit - used : 1;
#else
  return 0;
#endif
}
}  // namespace

std::size_t available_memory() {
  std::size_t avail = read_meminfo_available();
  const std::size_t cg = read_cgroup_limit();
  if (cg > 0 && (avail == 0 || cg < avail)) avail = cg;
  const std::size_t as = address_space_headroom();
  if (as > 0 && (avail == 0 || as < avail)) avail = as;
  return avail > 0 ? avail : (std::size_t{8} << 30);
}

std::size_t memory_limit() {
  const std::size_t set = g_limit.load();
  const auto sharers = static_cast<std::size_t>(std::max(1, g_sharers.load()));
  if (set > 0) return set / sharers;
  // /proc/meminfo read at most every 0.2 s: a sweep checks its estimate at every point, and opening the
  // files each time cost ~30 us per point of P1 (measured with perf: __libc_open).
  static std::atomic<std::size_t> cached{0};
  static std::atomic<long long> stamp{0};
  const long long now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now().time_since_epoch()).count();
  if (cached.load() == 0 || now - stamp.load() > 200) {
    cached.store(available_memory());
    stamp.store(now);
  }
  // A share: of the memory available when it began (the other solves' memory is not available now), and
  // never more than is available now (other processes may have taken some since).
  if (sharers > 1) return std::min(cached.load(), g_shared_available.load() / sharers);
  return cached.load();
}

void set_memory_limit(std::size_t bytes) { g_limit.store(bytes); }

MemoryShare::MemoryShare(int sharers)
    : previous_sharers_(g_sharers.load()), previous_available_(g_shared_available.load()) {
  g_shared_available.store(available_memory());
  g_sharers.store(std::max(1, sharers));
}

MemoryShare::~MemoryShare() {
  g_sharers.store(previous_sharers_);
  g_shared_available.store(previous_available_);
}

int memory_sharers() { return std::max(1, g_sharers.load()); }

std::size_t parse_memory_size(const std::string& text) {
  std::size_t pos = 0;
  double value = 0.0;
  try {
    value = std::stod(text, &pos);
  } catch (const std::exception&) {
    pos = 0;
  }
  std::string unit = text.substr(pos);
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::tolower(c); });
  double mult = 0.0;
  if (unit.empty() || unit == "b") mult = 1.0;
  else if (unit == "k" || unit == "kb" || unit == "kib") mult = 1024.0;
  else if (unit == "m" || unit == "mb" || unit == "mib") mult = 1024.0 * 1024.0;
  else if (unit == "g" || unit == "gb" || unit == "gib") mult = 1024.0 * 1024.0 * 1024.0;
  else if (unit == "t" || unit == "tb" || unit == "tib") mult = 1024.0 * 1024.0 * 1024.0 * 1024.0;
  // At least one byte: below, the size would round to 0, which means "no limit set".
  if (pos == 0 || mult == 0.0 || !std::isfinite(value) || value * mult < 1.0 || value * mult > 1e18)
    throw Error("memory-size", "a memory size is a positive number of at least one byte with an optional unit K, "
                               "M, G or T (powers of 1024), e.g. 12G; got '" + text + "'");
  return static_cast<std::size_t>(value * mult);
}

std::string format_bytes(std::size_t bytes) {
  const double b = static_cast<double>(bytes);
  char buf[64];
  if (b >= 1024.0 * 1024.0 * 1024.0) std::snprintf(buf, sizeof buf, "%.1f GiB", b / (1024.0 * 1024.0 * 1024.0));
  else if (b >= 1024.0 * 1024.0) std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1024.0 * 1024.0));
  else std::snprintf(buf, sizeof buf, "%.0f KiB", b / 1024.0);
  return buf;
}

std::pair<std::string, std::string> format_bytes_apart(std::size_t a, std::size_t b) {
  // Both rounded alike (an estimate just above a limit): the exact byte counts instead.
  if (format_bytes(a) != format_bytes(b)) return {format_bytes(a), format_bytes(b)};
  return {std::to_string(a) + " bytes", std::to_string(b) + " bytes"};
}

void check_memory(std::size_t estimate, const std::string& what, const std::string& advice) {
  const std::size_t limit = memory_limit();
  if (estimate <= limit) return;
  const int sharers = memory_sharers();
  const std::string source = g_limit.load() > 0 ? "--max-memory" : "memory available";
  const std::string shared = " shared by " + std::to_string(sharers) + " solves at once on this machine";
  const auto [est, lim] = format_bytes_apart(estimate, limit);
  throw MemoryLimitError(what + " needs an estimated " + est + ", more than the limit of " + lim + " (" + source + (sharers > 1 ? shared : "") + ")" +
                             (advice.empty() ? std::string() : "; " + advice) +
                             (sharers > 1 ? "; or solve fewer points at once (--jobs, MPI ranks per node)" : ""),
                         estimate, limit);
}

void set_thread_count(int threads) {
  openblas_set_num_threads(std::max(1, threads));
}

int thread_count() { return openblas_get_num_threads(); }

void settle_blas_workers() {
  if (std::getenv("OPENBLAS_THREAD_TIMEOUT") == nullptr) {  // else the user's choice stands
    setenv("OPENBLAS_THREAD_TIMEOUT", std::to_string(kBlasWorkerSpinLog2).c_str(), 1);
    openblas_read_env();
    unsetenv("OPENBLAS_THREAD_TIMEOUT");  // not passed on to child processes
  }
  // The workers take the timeout when they start: the next threaded call starts them again (never with one thread).
  blas_thread_shutdown_();
}

int hardware_threads() { return std::max(1U, std::thread::hardware_concurrency()); }

void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMappedBlockBytes));  // glibc's largest; fixed (glibc's own moves with every free)
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  // Before any thread's first allocation needs an arena: glibc reads the limit when it makes one.
  if (!user_chose_malloc_arenas(std::getenv("MALLOC_ARENA_MAX"), std::getenv("GLIBC_TUNABLES"))) mallopt(M_ARENA_MAX, 1);
#endif
}

bool user_chose_malloc_arenas(const char* arena_max, const char* tunables) {
  return arena_max != nullptr || (tunables != nullptr && std::string_view(tunables).find("glibc.malloc.arena_max") !=
                                                             std::string_view::npos);
}

std::string transparent_huge_page_mode() {
  std::string line;
#if defined(__linux__)
  // POSIX reads, no iostreams: restart_with_huge_pages may run before the C++ library is initialised.
  const int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buffer[256];
    const ssize_t n = read(fd, buffer, sizeof buffer);
    close(fd);
    if (n > 0) line.assign(buffer, static_cast<std::size_t>(n));
  }
#endif
  const std::size_t left = line.find('['), right = line.find(']');
  return left != std::string::npos && right != std::string::npos && right > left ? line.substr(left + 1, right - left - 1)
                                                                                 : std::string();
}

std::optional<std::string> huge_page_tunables(const char* current, const std::string& thp_mode) {
  if (thp_mode != "madvise") return std::nullopt;
  const std::string now = current != nullptr ? current : "";
  if (now.find("glibc.malloc.hugetlb") != std::string::npos) return std::nullopt;
  return now.empty() ? std::string("glibc.malloc.hugetlb=1") : now + ":glibc.malloc.hugetlb=1";
}

void restart_with_huge_pages(char** argv, char** envp) {
#if defined(__linux__) && defined(__GLIBC__) && __GLIBC_PREREQ(2, 35) && !defined(QHEAT_ADDRESS_SANITIZER)  // it replaces malloc
  // Only envp, not getenv/setenv: before libc's own start-up the process's `environ` is not set yet.
  const std::string_view tunables_key = "GLIBC_TUNABLES=", preload_key = "LD_PRELOAD=", restarted = "QHEAT_RESTARTED=";
  const char* current = nullptr;
  std::vector<char*> env;
  for (char** e = envp; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    // At most once, even if a C library dropped GLIBC_TUNABLES from the environment it passes on.
    if (entry.starts_with(restarted)) return;
    // Under Valgrind (its preloaded core) an exec would leave Valgrind behind and run the program natively.
    if (entry.starts_with(preload_key) && entry.find("vgpreload") != std::string_view::npos) return;
    if (entry.starts_with(tunables_key)) {
      current = *e + tunables_key.size();
    } else {
      env.push_back(*e);
    }
  }
  const std::optional<std::string> tunables = huge_page_tunables(current, transparent_huge_page_mode());
  if (!tunables) return;
  std::string entry = std::string(tunables_key) + *tunables, mark = std::string(restarted) + "huge-pages";
  env.push_back(entry.data());
  env.push_back(mark.data());
  env.push_back(nullptr);
  execve("/proc/self/exe", argv, env.data());  // returns only when it failed (no /proc): run on without
#else
  (void)argv;
  (void)envp;
#endif
}

int turn_off_nagle_on_tcp_sockets() {
  int changed = 0;
#if defined(__linux__)
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  const int own = dirfd(dir);
  while (const dirent* e = readdir(dir)) {
    char* end = nullptr;
    const long n = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || n == own) continue;
    const int fd = static_cast<int>(n);
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    int domain = 0, type = 0;
    socklen_t len = sizeof domain;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || (domain != AF_INET && domain != AF_INET6)) continue;
    len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) continue;
    const int on = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0) ++changed;
  }
  closedir(dir);
#endif
  return changed;
}

}  // namespace qheat
