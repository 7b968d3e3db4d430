// Sweeps over the ranks of an MPI job (`mpirun -np K qheat sweep ...`, docs/cluster.md): rank 0 hands out grid
// points one at a time to whichever rank asks (dynamic scheduling: point costs differ by orders of magnitude
// across a map), solves points itself with its --jobs worker threads, collects every other rank's rows, and
// alone writes the journal and the CSV in grid order. Built with Open MPI when CMake finds it (QHEAT_MPI);
// without it, and in a process not started by mpirun/srun, there is one rank and nothing of MPI is used.
#pragma once

#include <optional>

#include "qheat/sweep/sweep.hpp"

namespace qheat {

// Starts MPI when this process was launched by an MPI launcher (mpirun, srun: OMPI_COMM_WORLD_SIZE,
// PMIX_RANK or PMI_RANK in the environment) and the build has MPI; ends it on destruction. Elsewhere it
// does nothing and rank() = 0, size() = 1.
class MpiSession {
public:
  MpiSession(int& argc, char**& argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
};

// This process's rank and the number of ranks (0 and 1 without MPI).
int mpi_rank();
int mpi_size();
// Every rank says whether its setup worked; true when all did (a collective call; true at once with one rank).
bool mpi_all_ok(bool ok);

// The sweep over every rank (mpi_size() > 1; with one rank it is run_sweep). Collective: every rank calls it
// with the same axes and options. Rank 0 gets the whole result (known points included, on_point and progress
// called for every point solved anywhere); the other ranks get nullopt when the grid is done.
std::optional<SweepResult> run_sweep_distributed(const PointModel& model_at, const std::vector<SweepAxis>& axes,
                                                 const SweepOptions& options);

}  // namespace qheat
