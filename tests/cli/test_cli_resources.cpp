// --threads and --max-memory (docs/conventions.md, "Resources"): a solve whose estimated peak exceeds the
// limit stops at once with exit code 2 and one line naming the memory, the estimate and the limit; in a
// sweep such a point is a row with status error; --threads does not change the numbers.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "../cli_support.hpp"
#include "qheat/core/resources.hpp"

namespace {

using qheat::test::CliRun;
using qheat::test::run_cli;

const std::string kChain = std::string(QHEAT_SOURCE_DIR) + "/examples/chain/xx_chain.toml";
const std::string kZhang = std::string(QHEAT_SOURCE_DIR) + "/examples/zhang2025/two_qubits.toml";
const std::string kKerr = std::string(QHEAT_SOURCE_DIR) + "/examples/kong2026/kerr.toml";

TEST(CliResources, MemoryLimitStopsALargeSolveAtOnce) {
  const CliRun r = run_cli("ness " + kChain + " --method redfield --set N=10 --max-memory 10M");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("qheat: error [memory-limit]: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("memory"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("needs an estimated "), std::string::npos) << r.err;  // the estimate
  EXPECT_NE(r.err.find("MiB"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the limit of 10.0 MiB"), std::string::npos) << r.err;
  // Before any heavy computation: the 1024-dimensional model and its eigenbasis only. Measured 2026-12-05: 62 MB
  // peak for the refusal, 389 MB for the solve itself (estimate 320 MiB); the bound is half the estimate.
  EXPECT_LT(r.peak_kib, 160 * 1024) << r.err;
}

// Observables are dense d x d operators: they are counted before they are built (response: with the
// perturbation; sweep: per point). An independent audit saw response with 8 observables of a 12-site chain reach
// 3.1 GB under --max-memory 100M before the solver's estimate refused it.
TEST(CliResources, ObservablesAreCountedBeforeTheyAreBuilt) {
  const CliRun r = run_cli("response " + kChain + " --set N=8 --perturbation 'sx(q4)' --observable 'sz(q1)' "
                           "--observable 'sz(q2)' --observable 'sz(q3)' --max-memory 3M");
  EXPECT_EQ(r.code, 2) << r.err;
  // (1 + 3) x 256^2 complex numbers = 4 MiB.
  EXPECT_EQ(r.err.rfind("qheat: error [memory-limit]: holding the perturbation and 3 observables as dense operators "
                        "needs an estimated 4.0 MiB, more than the limit of 3.0 MiB",
                        0),
            0u)
      << r.err;
  const CliRun s = run_cli("sweep " + kChain + " --set N=6 --vary T_hot=1,2 --observable 'sz(q1)' --observable 'sz(q2)' "
                           "--max-memory 100K --quiet");
  EXPECT_EQ(s.code, 0) << s.err;  // failed points are rows
  EXPECT_NE(s.out.find("[memory-limit] holding 2 observables as dense operators needs an estimated 128 KiB, more than the limit of 100 KiB"),
            std::string::npos)
      << s.out;
}

// The HEOM's preconditioner holds dense d^2 x d^2 matrices (d^4 complex numbers each): a ten-qubit chain
// (d^2 = 1048576) needs ~100 TiB and stopped with "internal error: std::bad_alloc" (exit 3) before the estimate
// counted them. Refused now from the estimate on any machine, and at a size that would allocate (six qubits,
// ADO 0's preconditioner real for these Drude baths, in two charge classes of 2048 coordinates: 2 x 2048^2
// single-precision numbers, 16 MiB a block, each counted twice as the heap keeps such blocks once freed) when the
// limit is below it. (Above six qubits the automatic choice solves with B0 by GMRES instead: --heom-schur dense.)
TEST(CliResources, HeomEstimateCountsThePreconditionersDenseMatrices) {
  const CliRun big = run_cli("ness " + kChain + " --method heom --set N=10 --heom-schur dense");
  EXPECT_EQ(big.code, 2) << big.err;
  EXPECT_EQ(big.out, "");
  EXPECT_EQ(big.err.rfind("qheat: error [memory-limit]: the HEOM steady state", 0), 0u) << big.err;
  EXPECT_EQ(std::count(big.err.begin(), big.err.end(), '\n'), 1) << big.err;
  EXPECT_NE(big.err.find("ADO 0's preconditioner: 2 dense real blocks, 549755813888 single-precision numbers in all"), std::string::npos)
      << big.err;
  EXPECT_NE(big.err.find("needs an estimated "), std::string::npos) << big.err;

  const CliRun six = run_cli("ness " + kChain + " --method heom --set N=6 --heom-depth 1 --heom-terms 0 --max-memory 50M");
  EXPECT_EQ(six.code, 2) << six.err;
  EXPECT_EQ(six.err.rfind("qheat: error [memory-limit]: ", 0), 0u) << six.err;
  // 2 x 2 x 2048^2 single-precision numbers (64 MiB) and the hierarchy's 3 x 3 vectors of 4096 elements
  EXPECT_NE(six.err.find("needs an estimated 64.6 MiB, more than the limit of 50.0 MiB"), std::string::npos) << six.err;

  // GMRES on B0 (the automatic choice at ten qubits) keeps no d^2 x d^2 matrix: B0 on at most 4096 slow elements
  // (256 MiB complex), GMRES's 72 vectors of d^2 = 1048576 elements (1.1 GiB) and the hierarchy's 15 auxiliary
  // operators (depth 2, one Pade term) in three work arrays (720 MiB): 2.1 GiB, refused under 1 GiB.
  const CliRun iterative = run_cli("ness " + kChain + " --method heom --set N=10 --max-memory 1G");
  EXPECT_EQ(iterative.code, 2) << iterative.err;
  EXPECT_NE(iterative.err.find("ADO 0's preconditioner: GMRES on its Schur complement, at most 4096 elements kept "
                               "exactly) needs an estimated 2.1 GiB, more than the limit of 1.0 GiB"),
            std::string::npos)
      << iterative.err;
}

// What the estimate counted is what the solve built: the XX chain's sx baths keep the parity of q_i - q_j, so ADO 0's
// preconditioner is real in two charge classes, in single precision (its refinement contracts), and the JSON's structure
// line says so (docs/conventions.md).
TEST(CliResources, HeomStructureNamesThePreconditionersClasses) {
  const CliRun r = run_cli("ness " + kChain + " --method heom --set N=3 --heom-depth 1 --heom-terms 0");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["steady_state"]["structure"],
            "hierarchy of 3 auxiliary operators (depth 1, 0 pade terms per bath); ADO 0's preconditioner real, single "
            "precision, 2 charge classes");
}

// The local method on one mode of many levels: its Bohr components are single elements when H_loc is
// diagonal (a Kerr mode), and they are held sparse. As dense d x d matrices, one per component, they took
// d^3 memory: 1 GB at 401 levels (the command then stopped with std::bad_alloc under this address-space
// limit), and at 3001 levels the kernel killed it for memory. Under the limit a regression fails with
// bad_alloc instead of exhausting the machine. AddressSanitizer reserves terabytes of address space.
TEST(CliResources, LocalMethodOnAModeOfManyLevelsStaysSparse) {
  if (qheat::kAddressSanitizer) GTEST_SKIP() << "AddressSanitizer reserves terabytes of address space";
  const std::string limit = "ulimit -v 409600; ";  // 400 MiB of address space (the command needs < 100 MB)
  const CliRun r = run_cli("ness " + kKerr + " --set nmax=400 --method local", limit);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["steady_state"]["status"], "converged");
  EXPECT_EQ(j["steady_state"]["structure"], "site basis, sparse, 401 charge blocks (largest 1), matrix-free");
  // The estimate counts the dense local matrices (7 of 1001^2 complex numbers: 107 MiB) before building them.
  const CliRun big = run_cli("ness " + kKerr + " --set nmax=1000 --method local --max-memory 50M", "ulimit -v 2097152; ");
  EXPECT_EQ(big.code, 2) << big.err;
  EXPECT_EQ(big.err.rfind("qheat: error [memory-limit]: the local master equation (1001 levels", 0), 0u) << big.err;
}

TEST(CliResources, MemoryLimitInASweepIsARowWithStatusError) {
  const auto dir = qheat::test::scratch_dir();
  const std::string csv = (dir / "s.csv").string();
  // 16 KiB: the table of 2 rows (~2.5 KiB, checked first) fits, a point of the N = 6 chain (448 KiB) does not.
  const CliRun r =
      run_cli("sweep " + kChain + " --set N=6 --vary T_hot=1,2 --method global --max-memory 16K --quiet --out " + csv);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("2 of 2 rows failed"), std::string::npos) << r.err;
  const std::string text = qheat::test::slurp(csv);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4 + 1 + 2) << text;  // comments, header, 2 rows
  std::size_t rows = 0;
  for (std::size_t pos = 0; (pos = text.find(",error,", pos)) != std::string::npos; ++pos) ++rows;
  EXPECT_EQ(rows, 2u) << text;
  EXPECT_NE(text.find("[memory-limit]"), std::string::npos) << text;
}

TEST(CliResources, ThreadsDoNotChangeTheNumbers) {
  const CliRun a = run_cli("ness " + kZhang + " --method redfield --threads 1 --max-memory 1G");
  const CliRun b = run_cli("ness " + kZhang + " --method redfield --threads 2");
  ASSERT_EQ(a.code, 0) << a.err;
  ASSERT_EQ(b.code, 0) << b.err;
  const auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  EXPECT_DOUBLE_EQ(ja["currents"]["hot"].get<double>(), jb["currents"]["hot"].get<double>());

  const CliRun s1 = run_cli("sweep " + kZhang + " --vary T1=5:15:3 --method redfield,global --quiet --threads 1");
  const CliRun s2 = run_cli("sweep " + kZhang + " --vary T1=5:15:3 --method redfield,global --quiet --jobs 2 --threads 1");
  const CliRun s3 = run_cli("sweep " + kZhang + " --vary T1=5:15:3 --method redfield,global --quiet --threads 2");
  ASSERT_EQ(s1.code, 0) << s1.err;
  EXPECT_EQ(s1.out, s2.out);
  EXPECT_EQ(s1.out, s3.out);

  const CliRun resp = run_cli("response " + std::string(QHEAT_SOURCE_DIR) +
                              "/examples/levy/two_qubits.toml --perturbation V_xy --threads 1 --max-memory 512M");
  EXPECT_EQ(resp.code, 0) << resp.err;
}

}  // namespace
