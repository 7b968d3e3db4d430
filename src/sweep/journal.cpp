#include "qheat/sweep/journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace qheat {

std::string fnv_hex(const std::string& bytes) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

namespace {

double parse_number(const nlohmann::json& j) {
  if (!j.is_string()) throw Error("journal", "a number is not a string");
  const std::string s = j.get<std::string>();
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0') throw Error("journal", "'" + s + "' is not a number");
  return v;
}

SteadyStatus status_of(const std::string& name) {
  for (const SteadyStatus s : {SteadyStatus::converged, SteadyStatus::not_unique, SteadyStatus::ill_conditioned,
                               SteadyStatus::not_converged})
    if (status_name(s) == name) return s;
  return SteadyStatus::converged;  // "error" rows: no solution
}

std::string identity_line(const SweepIdentity& identity) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& [k, v] : identity) j.push_back({k, v});
  return nlohmann::json{{"qheat-sweep-journal", 1}, {"identity", j}}.dump();
}

[[noreturn]] void io_error_text(const std::string& what, const std::string& path, const std::string& why) {
  throw Error("journal", what + " '" + path + "': " + why);
}
[[noreturn]] void io_error(const std::string& what, const std::string& path) {
  io_error_text(what, path, std::strerror(errno));
}

}  // namespace

std::string file_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("file", "cannot read '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return fnv_hex(ss.str());
}

std::string encode_point(std::size_t p, const std::vector<SweepRow>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const SweepRow& r : rows) {
    nlohmann::json j = {{"m", method_name(r.method)}, {"s", r.status}};
    if (r.status == "error") {
      j["r"] = r.error_rule;
      j["e"] = r.error;
    } else {
      const Thermodynamics& th = r.solution.thermo;
      j["ls"] = r.solution.lamb_shift;
      j["b"] = r.solution.bath_names;
      nlohmann::json J = nlohmann::json::array();
      for (const double v : th.currents) J.push_back(sweep_number(v));
      j["J"] = J;
      j["dp"] = sweep_number(th.drive_power);
      j["ep"] = sweep_number(th.entropy_production);
      j["fl"] = sweep_number(th.first_law_residual);
      j["gf"] = sweep_number(th.gross_flow);
      nlohmann::json T = nlohmann::json::array();
      for (const double v : r.solution.temperatures) T.push_back(sweep_number(v));
      j["T"] = T;
      nlohmann::json d = nlohmann::json::array();
      for (const Diagnostic& x : th.diagnostics) d.push_back({x.level, x.code});
      j["d"] = d;
      nlohmann::json o = nlohmann::json::array();
      for (const cplx& v : r.observables) o.push_back({sweep_number(v.real()), sweep_number(v.imag())});
      j["o"] = o;
    }
    out.push_back(j);
  }
  const std::string body = nlohmann::json{{"p", p}, {"rows", out}}.dump();
  return body + "\t" + fnv_hex(body);
}

std::pair<std::size_t, std::vector<SweepRow>> decode_point(const std::string& line, const SweepResult& skeleton) {
  const auto tab = line.rfind('\t');
  if (tab == std::string::npos || fnv_hex(line.substr(0, tab)) != line.substr(tab + 1))
    throw Error("journal", "a journal line is incomplete or corrupt (checksum)");
  std::size_t p = 0;
  std::vector<SweepRow> rows;
  try {
    const nlohmann::json j = nlohmann::json::parse(line.substr(0, tab));
    p = j.at("p").get<std::size_t>();
    if (p >= sweep_points(skeleton)) throw Error("journal", "point " + std::to_string(p) + " is outside the grid");
    const nlohmann::json& rs = j.at("rows");
    if (rs.size() != skeleton.methods.size()) throw Error("journal", "a point has the wrong number of rows");
    std::vector<double> point(skeleton.axes.size());
    for (std::size_t a = skeleton.axes.size(), q = p; a-- > 0;) {
      point[a] = skeleton.axes[a].values[q % skeleton.axes[a].values.size()];
      q /= skeleton.axes[a].values.size();
    }
    for (std::size_t m = 0; m < rs.size(); ++m) {
      const nlohmann::json& x = rs[m];
      SweepRow r;
      r.point = point;
      r.method = parse_method(x.at("m").get<std::string>());
      if (r.method != skeleton.methods[m]) throw Error("journal", "a row's method differs from the sweep's");
      r.status = x.at("s").get<std::string>();
      if (r.status == "error") {
        r.error_rule = x.at("r").get<std::string>();
        r.error = x.at("e").get<std::string>();
      } else {
        Thermodynamics& th = r.solution.thermo;
        r.solution.status = status_of(r.status);
        r.solution.method = method_name(r.method);
        r.solution.lamb_shift = x.at("ls").get<bool>();
        r.solution.bath_names = x.at("b").get<std::vector<std::string>>();
        for (const auto& v : x.at("J")) th.currents.push_back(parse_number(v));
        th.drive_power = parse_number(x.at("dp"));
        th.entropy_production = parse_number(x.at("ep"));
        th.first_law_residual = parse_number(x.at("fl"));
        if (x.contains("gf")) th.gross_flow = parse_number(x.at("gf"));  // absent in journals before 2026-12-05
        if (x.contains("T"))  // absent in journals before 2026-12-06
          for (const auto& v : x.at("T")) r.solution.temperatures.push_back(parse_number(v));
        for (const auto& d : x.at("d")) th.diagnostics.push_back({d.at(0).get<std::string>(), d.at(1).get<std::string>(), ""});
        for (const auto& o : x.at("o")) r.observables.emplace_back(parse_number(o.at(0)), parse_number(o.at(1)));
      }
      rows.push_back(std::move(r));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error("journal", std::string("a journal line does not hold a point: ") + e.what());
  } catch (const MethodError&) {
    throw Error("journal", "a journal line names an unknown method");
  }
  return {p, std::move(rows)};
}

namespace {
// An exclusive lock on the open journal for the life of the process (released by the kernel when it
// dies), so that two runs never write one journal; returns why there is none when the file system has no
// locks (empty: locked). flock fails with EWOULDBLOCK when another process holds the lock; ENOSYS, EOPNOTSUPP,
// ENOLCK or EINVAL come from file systems without lock support (Lustre mounted noflock, NFS without its lock
// daemon), where refusing would leave no way to run with --out: the run goes on without the guard.
std::string lock_journal(int fd, const std::string& path) {
  int rc = 0;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return {};
  if (errno == EWOULDBLOCK) {
    ::close(fd);
    throw Error("journal-busy", "'" + path + "' is being written by another qheat sweep (still running?)");
  }
  return std::strerror(errno);
}
}  // namespace

// The background flush: waits for written lines, keeps at least sync_interval between two flushes, and
// records the first failure for append()/close() to throw on the sweep's thread.
struct SweepJournal::Flusher {
  using Clock = std::chrono::steady_clock;
  Flusher(int file, std::size_t size) : fd(file), written(size), synced(size) {}
  void run() {
    std::unique_lock<std::mutex> lock(mutex);
    while (true) {
      wake.wait(lock, [this] { return stop || written > synced_target; });
      if (stop) return;  // close() flushes what is left
      const auto due = last + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(sync_interval));
      if (wake.wait_until(lock, due, [this] { return stop; })) return;
      const std::size_t target = written;
      synced_target = target;
      lock.unlock();
      const int rc = ::fdatasync(fd);
      const int err = errno;
      lock.lock();
      last = Clock::now();
      if (rc != 0 && failure.empty()) failure = std::strerror(err);
      if (rc == 0) synced = target;
    }
  }
  // Stops the thread (close() and the destructor; a second call does nothing).
  void finish() {
    {
      const std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    wake.notify_one();
    if (thread.joinable()) thread.join();
  }
  // Everything written is on the disk (after an fdatasync of the caller's).
  void all_synced() {
    const std::lock_guard<std::mutex> lock(mutex);
    synced = written;
  }
  int fd;
  std::mutex mutex;
  std::condition_variable wake;
  std::size_t written, synced;
  std::size_t synced_target = written;  // the bytes the last flush started with
  Clock::time_point last = Clock::now();  // the file was just flushed (create, resume)
  bool stop = false;
  std::string failure;
  std::thread thread;
};

SweepJournal::SweepJournal(std::string path, int fd, std::size_t size)
    : path_(std::move(path)), fd_(fd), flusher_(std::make_unique<Flusher>(fd, size)) {
  try {
    flusher_->thread = std::thread([f = flusher_.get()] { f->run(); });
  } catch (const std::system_error& e) {
    ::close(fd_);
    throw Error("journal", "cannot start the journal's flush thread for '" + path_ + "': " + e.what());
  }
}

SweepJournal::SweepJournal(SweepJournal&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), flusher_(std::move(other.flusher_)),
      unlocked_(std::move(other.unlocked_)) {
  other.fd_ = -1;
}

SweepJournal SweepJournal::create(const std::string& path, const SweepIdentity& identity) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) io_error("cannot create the journal", path);
  std::string unlocked = lock_journal(fd, path);
  SweepJournal j(path, fd, 0);
  j.unlocked_ = std::move(unlocked);
  if (::ftruncate(fd, 0) != 0) io_error("cannot empty the journal", path);
  j.write_line(identity_line(identity) + "\n");
  if (::fdatasync(fd) != 0) io_error("cannot flush the journal", path);
  j.flusher_->all_synced();
  return j;
}

SweepJournal SweepJournal::resume(const std::string& path, const SweepIdentity& identity, const SweepResult& skeleton,
                                  std::map<std::size_t, std::vector<SweepRow>>& known, std::size_t& dropped_lines) {
  dropped_lines = 0;
  // Locked before it is read: a second run resuming at the same time is journal-busy, and when the other run
  // finished in between (and removed the journal) there is none, so this one starts afresh. (Read first, a
  // journal removed between the read and the open was "[journal] cannot open the journal": 2 of 20 trials.)
  struct Held {  // the locked descriptor until the journal object takes it
    int fd;
    ~Held() {
      if (fd >= 0) ::close(fd);
    }
  } held{::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC)};
  if (held.fd < 0) {
    if (errno == ENOENT) return create(path, identity);
    io_error("cannot open the journal", path);
  }
  std::string unlocked;
  try {
    unlocked = lock_journal(held.fd, path);
  } catch (...) {
    held.fd = -1;  // lock_journal closed it
    throw;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  if (in) ss << in.rdbuf();
  const std::string text = ss.str();
  in.close();
  // The identity line; none, or cut by a kill during its write: nothing was solved yet, start afresh.
  const auto first = text.find('\n');
  if (first == std::string::npos) {
    ::close(held.fd);  // create() locks the file again, through a descriptor of its own
    held.fd = -1;
    return create(path, identity);
  }
  // Any first line that is not {"identity": [[key, value], ...]} (JSON of another shape included) is no journal.
  SweepIdentity theirs;
  try {
    const nlohmann::json head = nlohmann::json::parse(text.substr(0, first));
    if (!head.is_object() || !head.contains("identity") || !head["identity"].is_array()) throw std::invalid_argument("");
    for (const auto& kv : head["identity"]) {
      if (!kv.is_array() || kv.size() != 2) throw std::invalid_argument("");
      theirs.emplace_back(kv.at(0).get<std::string>(), kv.at(1).get<std::string>());
    }
  } catch (const std::exception&) {  // nlohmann::json's parse and type errors, and the shape checks above
    throw Error("journal-mismatch", "'" + path + "' is not a qheat sweep journal (its first line is not a journal's identity)");
  }
  for (std::size_t i = 0; i < std::max(theirs.size(), identity.size()); ++i) {
    const std::string key = i < identity.size() ? identity[i].first : theirs[i].first;
    const std::string a = i < theirs.size() && theirs[i].first == key ? theirs[i].second : "(none)";
    const std::string b = i < identity.size() ? identity[i].second : "(none)";
    if (a != b) {
      std::string msg = "--resume: the journal '" + path + "' is of another sweep: ";
      msg += key;
      msg += " was '" + a + "', now '";
      msg += b;
      msg += "' (run without --resume to start over)";
      throw Error("journal-mismatch", msg);
    }
  }
  // Points; the valid prefix ends before the first bad line.
  std::size_t keep = first + 1;
  for (std::size_t pos = first + 1; pos < text.size();) {
    const auto nl = text.find('\n', pos);
    const std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    bool ok = nl != std::string::npos;  // a line without its newline was cut by a kill
    if (ok) {
      try {
        auto [p, rows] = decode_point(line, skeleton);
        known[p] = std::move(rows);  // a point written twice (refused for memory, solved on resume): the last
      } catch (const Error&) {
        ok = false;
      }
    }
    if (!ok) {
      for (std::size_t q = pos; q < text.size(); ++q) dropped_lines += text[q] == '\n' ? 1 : 0;
      dropped_lines += text.back() != '\n' ? 1 : 0;
      break;
    }
    keep = nl + 1;
    pos = nl + 1;
  }
  const int fd = held.fd;
  held.fd = -1;
  SweepJournal j(path, fd, keep);
  j.unlocked_ = std::move(unlocked);
  if (::ftruncate(fd, static_cast<off_t>(keep)) != 0) io_error("cannot cut the journal", path);
  if (::fdatasync(fd) != 0) io_error("cannot flush the journal", path);
  return j;
}

SweepJournal::~SweepJournal() {
  if (flusher_) flusher_->finish();
  if (fd_ >= 0) ::close(fd_);
}

void SweepJournal::write_line(const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      io_error("cannot write the journal", path_);
    }
    off += static_cast<std::size_t>(n);
  }
  bool idle = false;  // the flusher waits for a first unflushed line (else it already has one to flush)
  {
    const std::lock_guard<std::mutex> lock(flusher_->mutex);
    idle = flusher_->written == flusher_->synced_target;
    flusher_->written += data.size();
  }
  if (idle) flusher_->wake.notify_one();
}

void SweepJournal::append(std::size_t p, const std::vector<SweepRow>& rows) {
  {
    const std::lock_guard<std::mutex> lock(flusher_->mutex);
    if (!flusher_->failure.empty()) io_error_text("cannot flush the journal", path_, flusher_->failure);
  }
  write_line(encode_point(p, rows) + "\n");
}

void SweepJournal::close() {
  if (fd_ < 0) return;
  flusher_->finish();
  if (!flusher_->failure.empty()) io_error_text("cannot flush the journal", path_, flusher_->failure);
  if (::fdatasync(fd_) != 0) io_error("cannot flush the journal", path_);
  flusher_->all_synced();
  ::close(fd_);
  fd_ = -1;
}

std::size_t SweepJournal::synced_bytes() const {
  const std::lock_guard<std::mutex> lock(flusher_->mutex);
  return flusher_->synced;
}

std::size_t SweepJournal::written_bytes() const {
  const std::lock_guard<std::mutex> lock(flusher_->mutex);
  return flusher_->written;
}

}  // namespace qheat
