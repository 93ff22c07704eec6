#include "tiers/nvme/testing/power_loss.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <span>
#include <utility>

namespace tierkv::nvme::testing {
namespace {

// One spelling per file, whatever path it was opened or removed by.
std::string Normalize(const std::string& path) {
  return std::filesystem::weakly_canonical(path).string();
}

// The path a descriptor was opened with.
std::string PathOf(int fd) {
  std::error_code ec;
  const auto path = std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
  if (ec) {
    std::fprintf(stderr, "power_loss: no path for fd %d: %s\n", fd, ec.message().c_str());
    std::abort();
  }
  return Normalize(path.string());
}

// Buffered (not O_DIRECT) whole-range IO on a path, for the test's own
// bookkeeping; aborts the test binary on failure, which is a broken test
// environment rather than a finding.
class PlainFile {
 public:
  PlainFile(const std::string& path, int flags) : fd_(::open(path.c_str(), flags | O_CLOEXEC)) {
    if (fd_ < 0) Die("open " + path);
  }
  ~PlainFile() { ::close(fd_); }
  // Reads [offset, offset + out.size()); bytes past the end read as zero.
  void Read(uint64_t offset, std::span<std::byte> out) {
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, offset + done);
      if (n < 0) Die("pread");
      if (n == 0) break;
      done += size_t(n);
    }
    std::fill(out.begin() + done, out.end(), std::byte{0});
  }
  void Write(uint64_t offset, std::span<const std::byte> bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, offset + done);
      if (n <= 0) Die("pwrite");
      done += size_t(n);
    }
  }
  void Sync() {
    if (::fsync(fd_) != 0) Die("fsync");
  }

 private:
  [[noreturn]] static void Die(const std::string& what) {
    std::perror(("power_loss: " + what).c_str());
    std::abort();
  }
  int fd_;
};

}  // namespace

class PowerLossFileSystem final : public FileSystemWrapper {
 public:
  PowerLossFileSystem(FileSystem* target, PowerLoss* loss)
      : FileSystemWrapper(target), loss_(loss) {}

  Result<UniqueFd> OpenDirect(const std::string& path, bool create) override {
    const bool existed = std::filesystem::exists(path);
    Result<UniqueFd> fd = target()->OpenDirect(path, create);
    if (fd.ok() && !existed) loss_->FileCreated(path);
    return fd;
  }
  Status DataSync(int fd) override {
    const std::vector<uint64_t> covered = loss_->CompletedUnsynced(fd);
    Status s = target()->DataSync(fd);
    if (s.ok()) loss_->MarkDurable(covered);
    return s;
  }
  Status SyncDir(const std::string& dir) override {
    Status s = target()->SyncDir(dir);
    if (s.ok()) loss_->DirSynced(dir);
    return s;
  }
  Status Unlink(const std::string& path) override {
    Status s = target()->Unlink(path);
    if (s.ok()) loss_->FileRemoved(path);
    return s;
  }

 private:
  PowerLoss* loss_;
};

class PowerLossIoEngine final : public IoEngine {
 public:
  PowerLossIoEngine(std::unique_ptr<IoEngine> target, PowerLoss* loss)
      : target_(std::move(target)), loss_(loss) {}
  ~PowerLossIoEngine() override {
    if (loss_->engine_ == this) loss_->engine_ = nullptr;
  }

  void SubmitWrite(IoTarget target, const std::byte* src, size_t len, IoCallback done) override {
    const uint64_t id = loss_->BeginWrite(target.fd, target.offset, RoundUpToIo(len));
    target_->SubmitWrite(target, src, len, [loss = loss_, id, done = std::move(done)](Status s) {
      loss->EndWrite(id, s.ok());
      done(std::move(s));
    });
  }
  void SubmitRead(IoTarget target, std::byte* dst, size_t len, IoCallback done) override {
    target_->SubmitRead(target, dst, len, std::move(done));
  }
  void SubmitSync(int fd, IoCallback done) override {
    ++loss_->syncs_submitted_;
    if (loss_->hold_syncs_) {
      held_.push_back({fd, std::move(done)});
      return;
    }
    Forward(fd, std::move(done));
  }
  void ReleaseSyncs() {
    std::vector<Held> held = std::move(held_);
    held_.clear();
    for (Held& h : held) Forward(h.fd, std::move(h.done));
  }
  size_t held_syncs() const { return held_.size(); }

  size_t ReapCompletions() override { return target_->ReapCompletions(); }
  size_t WaitAndReap() override { return target_->WaitAndReap(); }
  int event_fd() const override { return target_->event_fd(); }
  size_t outstanding() const override { return target_->outstanding() + held_.size(); }
  size_t in_flight() const override { return target_->in_flight(); }
  size_t max_io_bytes() const override { return target_->max_io_bytes(); }

 private:
  struct Held {
    int fd = -1;
    IoCallback done;
  };

  // What a sync covers is fixed when it is submitted to the target.
  void Forward(int fd, IoCallback done) {
    target_->SubmitSync(fd, [loss = loss_, covered = loss_->CompletedUnsynced(fd),
                             done = std::move(done)](Status s) {
      if (s.ok()) loss->MarkDurable(covered);
      done(std::move(s));
    });
  }

  std::unique_ptr<IoEngine> target_;
  PowerLoss* loss_;
  std::vector<Held> held_;
};

PowerLoss::PowerLoss(FileSystem* target)
    : fs_(std::make_unique<PowerLossFileSystem>(target, this)) {}

PowerLoss::~PowerLoss() = default;

std::unique_ptr<IoEngine> PowerLoss::WrapEngine(std::unique_ptr<IoEngine> target) {
  auto engine = std::make_unique<PowerLossIoEngine>(std::move(target), this);
  engine_ = engine.get();
  return engine;
}

FileSystem* PowerLoss::file_system() { return fs_.get(); }

void PowerLoss::ReleaseSyncs() {
  hold_syncs_ = false;
  if (engine_ != nullptr) engine_->ReleaseSyncs();
}

size_t PowerLoss::held_syncs() const { return engine_ != nullptr ? engine_->held_syncs() : 0; }

size_t PowerLoss::unsynced_writes() const { return unsynced_.size(); }

uint64_t PowerLoss::BeginWrite(int fd, uint64_t offset, size_t len) {
  Write w;
  w.path = PathOf(fd);
  w.offset = offset;
  w.before.resize(len);
  PlainFile(w.path, O_RDONLY).Read(offset, w.before);
  const uint64_t id = next_id_++;
  unsynced_.emplace(id, std::move(w));
  return id;
}

void PowerLoss::EndWrite(uint64_t id, bool ok) {
  auto it = unsynced_.find(id);
  if (it != unsynced_.end()) it->second.completed = ok;
}

std::vector<uint64_t> PowerLoss::CompletedUnsynced(int fd) const {
  const std::string path = PathOf(fd);
  std::vector<uint64_t> ids;
  for (const auto& [id, w] : unsynced_) {
    if (w.completed && w.path == path) ids.push_back(id);
  }
  return ids;
}

void PowerLoss::MarkDurable(const std::vector<uint64_t>& ids) {
  for (uint64_t id : ids) unsynced_.erase(id);
}

void PowerLoss::FileCreated(const std::string& path) { created_unsynced_.insert(Normalize(path)); }

void PowerLoss::DirSynced(const std::string& dir) {
  const std::filesystem::path synced = Normalize(dir);
  std::erase_if(created_unsynced_, [&](const std::string& path) {
    return std::filesystem::path(path).parent_path() == synced;
  });
}

void PowerLoss::FileRemoved(const std::string& path) {
  const std::string normalized = Normalize(path);
  created_unsynced_.erase(normalized);
  std::erase_if(unsynced_, [&](const auto& entry) { return entry.second.path == normalized; });
}

void PowerLoss::Crash(LostWrites mode, uint64_t seed) {
  if (crashed_ || engine_ != nullptr) {
    std::fprintf(stderr, "power_loss: Crash() twice, or while the store's engine lives\n");
    std::abort();
  }
  crashed_ = true;
  std::mt19937_64 rng(seed);
  // Later writes first, so a range written twice ends as it was before both.
  for (auto it = unsynced_.rbegin(); it != unsynced_.rend(); ++it) {
    const Write& w = it->second;
    if (created_unsynced_.contains(w.path)) continue;  // the whole file goes
    PlainFile file(w.path, O_WRONLY);
    for (size_t page = 0; page < w.before.size(); page += kIoAlignment) {
      if (mode == LostWrites::kTorn && rng() % 2 == 0) continue;  // this page landed
      file.Write(w.offset + page, std::span(w.before).subspan(page, kIoAlignment));
    }
    file.Sync();
  }
  unsynced_.clear();
  for (const std::string& path : created_unsynced_) std::filesystem::remove(path);
  created_unsynced_.clear();
}

}  // namespace tierkv::nvme::testing
