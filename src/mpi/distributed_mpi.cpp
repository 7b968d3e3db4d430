// Sweeps over MPI ranks (Open MPI): dynamic scheduling from rank 0, rows carried as journal lines
// (encode_point / decode_point, exact numbers), the result assembled in grid order on rank 0.
#include <mpi.h>

#include <atomic>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

#include "qheat/core/resources.hpp"
#include "qheat/sweep/distributed.hpp"
#include "qheat/sweep/journal.hpp"

namespace qheat {
namespace {

constexpr int kTagRequest = 1;  // worker -> 0: the rows of its last point (empty: the first request)
constexpr int kTagPoint = 2;    // 0 -> worker: the next grid point (uint64)
constexpr int kTagStop = 3;     // 0 -> worker: no point left

bool g_active = false;

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(v) != nullptr) return true;
  return false;
}

[[noreturn]] void abort_all(const std::string& why) {
  std::fprintf(stderr, "qheat: rank %d: %s; stopping every rank\n", mpi_rank(), why.c_str());
  MPI_Abort(MPI_COMM_WORLD, 3);
  std::abort();
}

// All ranks on one node (Open MPI's launcher says so before MPI_Init): ask for the ob1 PML (shared memory),
// unless the user chose one. It is the PML such a job uses anyway (Debian's Open MPI excludes UCX), but
// without the choice Open MPI also opens the cm PML and its MTLs (PSM, PSM2), which added 0.2 s to every
// rank's MPI_Init (bench/README.md, "Issue 13"). Jobs over several nodes keep Open MPI's own choice.
void prefer_shared_memory_on_one_node() {
  const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  if (size != nullptr && local != nullptr && std::string(size) == local) setenv("OMPI_MCA_pml", "ob1", 0);
}

// The sum of `mine` over the ranks that share this rank's node (MPI-3 shared-memory split; collective).
int solves_on_this_node(int mine) {
  MPI_Comm node = MPI_COMM_NULL;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, mpi_rank(), MPI_INFO_NULL, &node);
  int sum = mine;
  if (node != MPI_COMM_NULL) {
    MPI_Allreduce(&mine, &sum, 1, MPI_INT, MPI_SUM, node);
    MPI_Comm_free(&node);
  }
  return sum;
}

}  // namespace

MpiSession::MpiSession(int& argc, char**& argv) {
  if (!launched_by_mpi()) return;
  prefer_shared_memory_on_one_node();
  int provided = 0;
  // Only the main thread calls MPI (rank 0's solver threads hand their rows to it).
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  g_active = true;
  // qheat opens no socket of its own: the TCP sockets now open are the MPI library's (its connection to
  // the launcher among them; Open MPI's TCP BTL sets TCP_NODELAY on its own ones already).
  turn_off_nagle_on_tcp_sockets();
}

MpiSession::~MpiSession() {
  if (g_active) MPI_Finalize();
  g_active = false;
}

int mpi_rank() {
  int r = 0;
  if (g_active) MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int mpi_size() {
  int s = 1;
  if (g_active) MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

bool mpi_all_ok(bool ok) {
  if (!g_active) return ok;
  int mine = ok ? 1 : 0, all = 0;
  MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return all == 1;
}

std::optional<SweepResult> run_sweep_distributed(const PointModel& model_at, const std::vector<SweepAxis>& axes,
                                                 const SweepOptions& options) {
  if (mpi_size() <= 1) return run_sweep(model_at, axes, options);
  // The ranks of one node share its memory: each solve checks its estimate against an equal share among all
  // the solves the node's ranks run at once (rank 0's --jobs workers, one on every other rank).
  const MemoryShare share(solves_on_this_node(mpi_rank() == 0 ? std::max(1, options.jobs) : 1));
  SweepResult result = prepare_sweep(axes, options);
  const std::size_t nm = options.methods.size();

  if (mpi_rank() != 0) {  // a worker: ask, solve, send back, until told to stop
    SolveWorkspace ws;
    std::string payload;
    while (true) {
      MPI_Send(payload.data(), static_cast<int>(payload.size()), MPI_CHAR, 0, kTagRequest, MPI_COMM_WORLD);
      MPI_Status st;
      std::uint64_t p = 0;
      MPI_Recv(&p, 1, MPI_UINT64_T, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
      if (st.MPI_TAG == kTagStop) break;
      try {
        payload = encode_point(p, solve_point(model_at, result, options, p, ws));
      } catch (const std::exception& e) {
        abort_all(e.what());
      }
    }
    return std::nullopt;
  }

  // Rank 0: its own solver threads and the other ranks draw from one list of points not yet known.
  const std::size_t points = sweep_points(result);
  const std::size_t total = points * nm;
  const std::vector<std::size_t> todo = place_known_points(result, options);
  std::atomic<std::size_t> next{0};
  auto claim = [&]() -> std::optional<std::size_t> {
    const std::size_t i = next.fetch_add(1);
    return i < todo.size() ? std::optional<std::size_t>(todo[i]) : std::nullopt;
  };
  std::mutex mutex;  // rows, on_point, progress
  std::size_t done = (points - todo.size()) * nm;
  auto store = [&](std::size_t p, std::vector<SweepRow>&& rows) {
    const std::lock_guard<std::mutex> lock(mutex);
    if (options.on_point) options.on_point(p, rows);
    std::move(rows.begin(), rows.end(), result.rows.begin() + static_cast<long>(p * nm));
    done += nm;
    if (options.progress) options.progress(done, total);
  };
  std::exception_ptr failure;
  std::atomic<bool> failed{false};
  auto worker = [&]() {
    SolveWorkspace ws;
    try {
      while (const auto p = claim()) store(*p, solve_point(model_at, result, options, *p, ws));
    } catch (...) {
      const std::lock_guard<std::mutex> lock(mutex);
      if (!failure) failure = std::current_exception();
      failed = true;
    }
  };
  std::vector<std::thread> pool;
  for (int j = 0; j < std::max(1, options.jobs); ++j) pool.emplace_back(worker);

  int running = mpi_size() - 1;
  std::string buffer;
  // Idle polls back off from 50 us to 2 ms: answers come fast while ranks ask often (cheap points) and rank
  // 0's solver thread keeps its core while they do not (a poll costs a wake-up and an MPI progress call).
  auto pause = std::chrono::microseconds(50);
  while (running > 0) {
    if (failed) {
      for (auto& t : pool) t.join();
      try {
        std::rethrow_exception(failure);
      } catch (const std::exception& e) {
        abort_all(e.what());
      }
    }
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, kTagRequest, MPI_COMM_WORLD, &flag, &st);
    if (flag == 0) {  // nothing to do: do not spin on a core the solvers need
      std::this_thread::sleep_for(pause);
      pause = std::min(2 * pause, std::chrono::microseconds(2000));
      continue;
    }
    pause = std::chrono::microseconds(50);
    int count = 0;
    MPI_Get_count(&st, MPI_CHAR, &count);
    buffer.resize(static_cast<std::size_t>(count));
    MPI_Recv(buffer.data(), count, MPI_CHAR, st.MPI_SOURCE, kTagRequest, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (count > 0) {
      try {
        auto [p, rows] = decode_point(buffer, result);
        store(p, std::move(rows));
      } catch (const std::exception& e) {
        abort_all(std::string("a rank's rows could not be read: ") + e.what());
      }
    }
    if (const auto p = claim()) {
      const std::uint64_t v = *p;
      MPI_Send(&v, 1, MPI_UINT64_T, st.MPI_SOURCE, kTagPoint, MPI_COMM_WORLD);
    } else {
      const std::uint64_t v = 0;
      MPI_Send(&v, 1, MPI_UINT64_T, st.MPI_SOURCE, kTagStop, MPI_COMM_WORLD);
      --running;
    }
  }
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  finish_sweep(result, options);
  return result;
}

}  // namespace qheat
