// The journal of a sweep (docs/cluster.md, "Checkpoints and resume"): every finished grid point is one line
// appended to FILE.journal next to the CSV, so that a killed `qheat sweep --out FILE` can be resumed with
// `--resume` and produce the same CSV as an uninterrupted run. The same one-line encoding of a point carries
// results between MPI ranks.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "qheat/sweep/sweep.hpp"

namespace qheat {

// What decides a sweep's rows, as (name, value) pairs in a fixed order: the model file and a hash of its
// contents, the axes, methods, --set values, and every option that changes a result. --jobs, --threads,
// --quiet and MPI ranks are not part of it (rows are identical for any of them).
using SweepIdentity = std::vector<std::pair<std::string, std::string>>;

// FNV-1a 64-bit hash of bytes, as 16 hex digits: a journal line's checksum.
std::string fnv_hex(const std::string& bytes);
// The same of a file's bytes (Error("file") if it cannot be read).
std::string file_hash(const std::string& path);

// One line (no newline) with the rows of grid point p: exact numbers (%.17g), statuses, diagnostics codes,
// observables, errors, and a checksum of the line. decode_point checks the checksum and the row count and
// fills the rows' points from the skeleton's axes; throws Error("journal") for a line that is not one.
std::string encode_point(std::size_t p, const std::vector<SweepRow>& rows);
std::pair<std::size_t, std::vector<SweepRow>> decode_point(const std::string& line, const SweepResult& skeleton);

class SweepJournal {
public:
  // A new journal at `path` (replacing any file there) that starts with the identity line.
  static SweepJournal create(const std::string& path, const SweepIdentity& identity);
  // Continues the journal at `path`: its identity must equal `identity` (Error("journal-mismatch") naming the
  // first item that differs), every complete line is a known point (a point on several lines: its last
  // line); an incomplete or corrupt last line (a kill during its write) is dropped and the file cut back
  // before it. Without a journal (or with only part of its first line: killed before any point was
  // solved) it is create().
  static SweepJournal resume(const std::string& path, const SweepIdentity& identity, const SweepResult& skeleton,
                             std::map<std::size_t, std::vector<SweepRow>>& known, std::size_t& dropped_lines);

  SweepJournal(SweepJournal&& other) noexcept;
  SweepJournal& operator=(SweepJournal&&) = delete;
  SweepJournal(const SweepJournal&) = delete;
  SweepJournal& operator=(const SweepJournal&) = delete;
  ~SweepJournal();

  // Appends one point with a single write(2) (a killed process loses no line it has written). The line is on
  // the disk (fdatasync) within `sync_interval` seconds of its write: at once when the last flush is older
  // than that, otherwise a background thread flushes it `sync_interval` after the last flush (points that
  // finish many per second share one flush). Throws Error("journal") for a failed write or an earlier
  // failed flush.
  void append(std::size_t p, const std::vector<SweepRow>& rows);
  // Flushes what is left and closes; throws Error("journal") if a flush failed.
  void close();
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  // Bytes of the journal known to be on the disk (the last completed flush) and written so far.
  [[nodiscard]] std::size_t synced_bytes() const;
  [[nodiscard]] std::size_t written_bytes() const;

  // Why the journal is not locked against a second run (the file system has no flock: Lustre mounted
  // noflock, NFS without its lock daemon; strerror's text); empty when it is locked.
  [[nodiscard]] const std::string& unlocked() const noexcept { return unlocked_; }

  static constexpr double sync_interval = 1.0;

private:
  struct Flusher;
  SweepJournal(std::string path, int fd, std::size_t size);
  void write_line(const std::string& line);
  std::string path_;
  int fd_ = -1;
  std::unique_ptr<Flusher> flusher_;
  std::string unlocked_;
};

// The journal next to a CSV: FILE.journal.
inline std::string journal_path(const std::string& csv_path) { return csv_path + ".journal"; }

}  // namespace qheat
