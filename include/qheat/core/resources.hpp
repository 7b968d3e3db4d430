// Machine resources a computation may use: threads for dense linear algebra and the memory limit that
// every solver checks its estimate against before it allocates (docs/conventions.md, "--threads",
// "--max-memory").
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "qheat/core/types.hpp"

namespace qheat {

// A computation would need more memory than allowed: `estimate` and `limit` in bytes; the message
// says what would fit (another method, a smaller Krylov space).
class MemoryLimitError : public Error {
public:
  MemoryLimitError(const std::string& message, std::size_t estimate, std::size_t limit)
      : Error("memory-limit", message), estimate_(estimate), limit_(limit) {}
  [[nodiscard]] std::size_t estimate() const noexcept { return estimate_; }
  [[nodiscard]] std::size_t limit() const noexcept { return limit_; }

private:
  std::size_t estimate_;
  std::size_t limit_;
};

// Physical memory available to this process now (MemAvailable of /proc/meminfo, bounded by a cgroup
// limit when one is set).
std::size_t available_memory();

// The memory limit in force for one solve: set_memory_limit()'s value, else available_memory(); while a
// MemoryShare of n > 1 is in force, an n-th of it (of the memory available when the share began, and never
// more than is available now).
std::size_t memory_limit();
void set_memory_limit(std::size_t bytes);  // 0: back to available_memory()

// Solves that run at once share the limit equally: a sweep's --jobs worker threads, and the MPI ranks of one
// node (docs/conventions.md, "--max-memory"). Each solve checks its own estimate, so without the share n
// points that each fit alone would together ask for up to n times the memory and the machine's OOM killer,
// not a memory-limit error, would end the run. Process-wide while the object lives (the sweep holds it
// around its solves); the share before it comes back on destruction.
class MemoryShare {
public:
  explicit MemoryShare(int sharers);  // sharers < 1 count as 1
  ~MemoryShare();
  MemoryShare(const MemoryShare&) = delete;
  MemoryShare& operator=(const MemoryShare&) = delete;

private:
  int previous_sharers_;
  std::size_t previous_available_;
};
// The number of solves sharing the limit now (1 outside a MemoryShare).
int memory_sharers();

// "512M", "12G", "1.5GiB", "800000000": bytes. Throws Error("memory-size") otherwise.
std::size_t parse_memory_size(const std::string& text);
// 1.2 GiB style, for messages.
std::string format_bytes(std::size_t bytes);
// Two sizes as format_bytes, or as exact byte counts when format_bytes would print them alike (an estimate
// just above a limit: "1.2 GiB, more than the limit of 1.2 GiB").
std::pair<std::string, std::string> format_bytes_apart(std::size_t a, std::size_t b);

// Throws MemoryLimitError when `estimate` exceeds memory_limit(); `what` names the computation and
// `advice` says what would fit.
void check_memory(std::size_t estimate, const std::string& what, const std::string& advice);

// Threads used by one dense linear-algebra call (OpenBLAS; its default: every core, or
// OPENBLAS_NUM_THREADS). Process-wide.
void set_thread_count(int threads);
int thread_count();
// OpenBLAS's idle worker threads spin in sched_yield for 2^OPENBLAS_THREAD_TIMEOUT cycles (its default 28,
// ~0.1 s) after every threaded call before they sleep: with --threads 2 that took 1.8-2.2 s of system time
// from the cores qheat's own kernels run on in a 2.2-2.8 s Bloch-Redfield solve (bench/README.md, "OpenBLAS's
// idle workers"). qheat sets 2^kBlasWorkerSpinLog2 cycles instead, unless the user set OPENBLAS_THREAD_TIMEOUT,
// and stops the workers (with one BLAS thread they stay stopped; above one the next threaded call starts them
// with the new timeout). Only while no BLAS call runs and no other thread reads the environment (the command
// line before it solves, the Python module when it is imported).
inline constexpr int kBlasWorkerSpinLog2 = 20;
void settle_blas_workers();
int hardware_threads();

// Allocations of at least this many bytes are mapped on their own and given back when freed (glibc's largest mmap
// threshold, which keep_freed_memory fixes); smaller ones come from the heap, which keeps them once freed.
inline constexpr std::size_t kMappedBlockBytes = std::size_t{32} << 20;

// Makes the process's allocator (glibc) keep freed memory for reuse: blocks up to 32 MiB come from the
// heap, and up to 256 MiB free at its top stays mapped. A sweep builds problems of one size point after
// point, and with glibc's defaults every point's matrices were fresh mappings whose pages faulted in again
// (bench/README.md, "Issue 13"). All threads allocate from that one heap (glibc's main arena) unless the user
// chose a number of arenas (user_chose_malloc_arenas): a thread's own arena lives in 64 MiB heaps that glibc
// unmaps as they empty, so a --jobs worker or MPI rank 0's solver thread faulted its matrices in afresh
// (bench/README.md, "One malloc arena"). Called once by the command line before it starts threads of its
// own; no-op elsewhere.
void keep_freed_memory();
// Whether the environment sets glibc's number of malloc arenas (MALLOC_ARENA_MAX, or glibc.malloc.arena_max
// in GLIBC_TUNABLES); null pointers are unset variables.
bool user_chose_malloc_arenas(const char* arena_max, const char* tunables);

// Transparent huge pages through glibc (glibc.malloc.hugetlb=1, glibc >= 2.35: malloc advises the kernel
// to back its heap and every block it maps on its own with 2 MiB pages). With the kernel's THP mode
// "madvise" (Debian's default) nothing else does: a first N = 8 Bloch-Redfield point faulted ~10 000 4 KiB
// pages in (8 us each in this virtual machine) and an N = 10 solve spent its time in TLB misses
// (bench/README.md, "Huge pages"). glibc reads its tunables only when a program starts, so the command line
// re-executes itself once with them (restart_with_huge_pages).
//
// The kernel's THP mode: the bracketed word of /sys/kernel/mm/transparent_hugepage/enabled ("always",
// "madvise", "never"); empty when it cannot be read.
std::string transparent_huge_page_mode();
// True in a build under AddressSanitizer (GCC defines __SANITIZE_ADDRESS__, clang has the feature), which
// replaces malloc: glibc's tunables do not reach it, and the tests run fewer cases.
#if defined(__SANITIZE_ADDRESS__)
#define QHEAT_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QHEAT_ADDRESS_SANITIZER 1
#endif
#endif
#ifdef QHEAT_ADDRESS_SANITIZER
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
// The GLIBC_TUNABLES value that adds glibc.malloc.hugetlb=1 to `current` (null: unset), or nothing when
// no change would help: THP mode other than "madvise" ("always" backs the heap already, "never" cannot),
// or `current` already sets glibc.malloc.hugetlb (the user's choice stands; =0 turns this off).
std::optional<std::string> huge_page_tunables(const char* current, const std::string& thp_mode);
// The command line's first act (from .preinit_array, before any library starts): when huge_page_tunables()
// of the environment `envp` gives a value (and glibc has the tunable, no sanitizer replaces malloc and
// Valgrind is not running the program), executes the program again (/proc/self/exe: the same process,
// arguments and environment, GLIBC_TUNABLES set, QHEAT_RESTARTED=huge-pages marking that it happened and
// must not again); returns when nothing changes or exec fails.
void restart_with_huge_pages(char** argv, char** envp);

// Sets TCP_NODELAY on every TCP stream socket the process has open (Linux; elsewhere nothing) and returns
// how many. For MPI ranks right after MPI_Init: PMIx 4.2 (Debian's) talks to the launcher over loopback TCP
// with Nagle's algorithm on, so when a rank sends small messages back to back (MPI_Finalize sends five)
// each waits for the delayed ACK of the one before, 40 ms on Linux (bench/README.md, "Issue 13").
int turn_off_nagle_on_tcp_sockets();

}  // namespace qheat
