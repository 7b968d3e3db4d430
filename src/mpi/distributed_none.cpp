// Builds without MPI (QHEAT_MPI off or Open MPI not found): one rank.
#include "qheat/sweep/distributed.hpp"

namespace qheat {

MpiSession::MpiSession(int& /*argc*/, char**& /*argv*/) {}
// NOLINTNEXTLINE(performance-trivially-destructible): the MPI build's destructor calls MPI_Finalize
MpiSession::~MpiSession() = default;
int mpi_rank() { return 0; }
int mpi_size() { return 1; }
bool mpi_all_ok(bool ok) { return ok; }

std::optional<SweepResult> run_sweep_distributed(const PointModel& model_at, const std::vector<SweepAxis>& axes,
                                                 const SweepOptions& options) {
  return run_sweep(model_at, axes, options);
}

}  // namespace qheat
