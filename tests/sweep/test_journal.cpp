// The sweep journal's durability (include/qheat/sweep/journal.hpp): every appended line reaches the disk
// (fdatasync) within SweepJournal::sync_interval of its write, without waiting for another point or close().
// The kill tests (tests/cluster/test_resume.py) show that a killed process loses no written line; this shows
// that a machine that dies loses at most the last sync_interval of them, also when the next point is hours
// away.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <unistd.h>

#include "qheat/sweep/journal.hpp"

namespace qheat {
namespace {

std::vector<SweepRow> error_row(const std::string& message) {
  SweepRow r;
  r.point = {1.0};
  r.status = "error";
  r.error_rule = "negative-temperature";
  r.error = message;
  return {r};
}

std::string temp_journal(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("qheat-journal-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

// Polls until the journal's flushed length reaches its written length; the bound is generous (a loaded CI
// machine may delay the flush thread), the property is "without another append or close()".
bool synced_within(const SweepJournal& j, std::chrono::seconds bound) {
  const auto end = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < end) {
    if (j.synced_bytes() == j.written_bytes()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return j.synced_bytes() == j.written_bytes();
}

TEST(SweepJournal, EveryLineReachesTheDiskWithoutAnotherAppend) {
  const std::string path = temp_journal("a.journal");
  SweepJournal created = SweepJournal::create(path, {{"model", "m.toml"}});
  EXPECT_EQ(created.synced_bytes(), created.written_bytes());  // the identity line, flushed by create
  EXPECT_EQ(created.written_bytes(), std::filesystem::file_size(path));
  SweepJournal j(std::move(created));  // as std::optional<SweepJournal>::emplace holds it in qheat sweep
  // Lines in quick succession (cheap points): written at once, then flushed together, with no later append.
  for (int k = 0; k < 50; ++k) j.append(static_cast<std::size_t>(k), error_row("point " + std::to_string(k)));
  EXPECT_EQ(j.written_bytes(), std::filesystem::file_size(path));
  EXPECT_TRUE(synced_within(j, std::chrono::seconds(10))) << j.synced_bytes() << " of " << j.written_bytes();
  // A line long after the last flush (an expensive point) is flushed as well, again with nothing after it.
  std::this_thread::sleep_for(std::chrono::duration<double>(SweepJournal::sync_interval));
  j.append(50, error_row("point 50"));
  EXPECT_TRUE(synced_within(j, std::chrono::seconds(10))) << j.synced_bytes() << " of " << j.written_bytes();
  j.append(51, error_row("point 51"));
  j.close();  // flushes the rest at once
  EXPECT_EQ(j.synced_bytes(), j.written_bytes());
  EXPECT_EQ(j.written_bytes(), std::filesystem::file_size(path));
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST(SweepJournal, ResumedJournalFlushesItsNewLines) {
  const std::string path = temp_journal("b.journal");
  SweepResult skeleton = prepare_sweep({SweepAxis{"T", {1.0, 2.0, 3.0}}}, SweepOptions{});
  const SweepIdentity identity{{"model", "m.toml"}};
  {
    SweepJournal j = SweepJournal::create(path, identity);
    j.append(0, error_row("first"));
  }  // dropped without close(), as a killed run leaves it
  std::map<std::size_t, std::vector<SweepRow>> known;
  std::size_t dropped = 0;
  SweepJournal j = SweepJournal::resume(path, identity, skeleton, known, dropped);
  EXPECT_EQ(known.size(), 1U);
  EXPECT_EQ(dropped, 0U);
  EXPECT_EQ(j.written_bytes(), std::filesystem::file_size(path));
  j.append(1, error_row("second"));
  EXPECT_TRUE(synced_within(j, std::chrono::seconds(10))) << j.synced_bytes() << " of " << j.written_bytes();
  j.close();
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

// A point on several lines (refused for memory, then solved again on resume, cli/sweep.cpp) is its last
// line; the journal is locked against a second run while one holds it.
TEST(SweepJournal, APointWrittenTwiceIsItsLastLine) {
  const std::string path = temp_journal("c.journal");
  SweepResult skeleton = prepare_sweep({SweepAxis{"T", {1.0, 2.0}}}, SweepOptions{});
  const SweepIdentity identity{{"model", "m.toml"}};
  {
    SweepJournal j = SweepJournal::create(path, identity);
    EXPECT_EQ(j.unlocked(), "");  // this file system has flock
    j.append(0, error_row("refused"));
    j.append(1, error_row("other"));
    j.append(0, error_row("solved again"));
    std::map<std::size_t, std::vector<SweepRow>> known;
    std::size_t dropped = 0;
    try {
      (void)SweepJournal::resume(path, identity, skeleton, known, dropped);
      ADD_FAILURE() << "a journal in use was opened twice";
    } catch (const Error& e) {
      EXPECT_EQ(e.rule(), "journal-busy");
    }
  }
  std::map<std::size_t, std::vector<SweepRow>> known;
  std::size_t dropped = 0;
  SweepJournal j = SweepJournal::resume(path, identity, skeleton, known, dropped);
  ASSERT_EQ(known.size(), 2U);
  EXPECT_EQ(known.at(0).at(0).error, "solved again");
  EXPECT_EQ(known.at(1).at(0).error, "other");
  j.close();
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

// A solved row's numbers survive the journal exactly, its gross-flow scale and temperatures included (the
// --reference deviations of a resumed sweep depend on them); a line without gf (journals before 2026-12-05) reads
// as 0.
TEST(SweepJournal, SolvedRowsRoundTripExactly) {
  SweepResult skeleton = prepare_sweep({SweepAxis{"T", {1.0, 2.0}}}, SweepOptions{});
  SweepRow row;
  row.method = skeleton.methods.front();
  row.status = "converged";
  row.solution.bath_names = {"hot", "cold"};
  row.solution.thermo.currents = {0.1 + 1e-17, -1.0 / 3.0};
  row.solution.thermo.gross_flow = 2.0 / 3.0;
  row.solution.thermo.drive_power = 0.0;
  row.solution.temperatures = {0.1, 1.0 / 3.0};
  const std::string line = encode_point(1, {row});
  const auto [p, rows] = decode_point(line, skeleton);
  EXPECT_EQ(p, 1U);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].solution.thermo.currents, row.solution.thermo.currents);
  EXPECT_EQ(rows[0].solution.thermo.gross_flow, 2.0 / 3.0);
  EXPECT_EQ(rows[0].solution.temperatures, row.solution.temperatures);
  std::string body = line.substr(0, line.rfind('\t'));
  const std::size_t at = body.find(",\"gf\":");
  ASSERT_NE(at, std::string::npos) << body;
  body.erase(at, body.find_first_of(",}", at + 1) - at);
  const auto [q, old] = decode_point(body + "\t" + fnv_hex(body), skeleton);
  EXPECT_EQ(old.at(0).solution.thermo.gross_flow, 0.0);
  EXPECT_EQ(old.at(0).solution.thermo.currents, row.solution.thermo.currents);
}

}  // namespace
}  // namespace qheat
