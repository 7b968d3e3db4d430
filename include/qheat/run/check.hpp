// `qheat check`: computed values next to published or closed-form ones, one row per (check, grid point).
// Check files: examples/<paper>/checks.toml (format in docs/gallery.md, "qheat check").
#pragma once

#include <cmath>
#include <string>
#include <vector>

namespace qheat {

struct CheckRow {
  std::string file, ref, quantity;
  std::string point;                                  // "NAME=value ..." of the grid point
  double computed = std::nan(""), expected = std::nan(""), deviation = std::nan("");  // |c - e| / |e|
  // "pass", "FAIL", "FAIL (...)", "differs as documented" (a known_discrepancy reproduced)
  std::string result;
  bool failed = false;
  bool discrepancy_reproduced = false;
  bool first_of_check = false;  // the first grid point of its [[check]]
};

struct CheckReport {
  std::vector<std::string> files;
  std::vector<CheckRow> rows;
  int failed = 0;
  int discrepancies = 0;  // documented discrepancies reproduced
};

// Every checks.toml below `directory`, sorted. Throws Error("check-file") when it is not a directory.
std::vector<std::string> find_check_files(const std::string& directory);
// Evaluates every check of the files. Throws ModelError("check-file", line) for a malformed check file.
CheckReport run_checks(const std::vector<std::string>& files);

}  // namespace qheat
