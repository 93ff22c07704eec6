#include "tiers/nvme/slab_set.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <limits>

namespace tierkv::nvme {
namespace {

constexpr std::string_view kPrefix = "slab-";
constexpr std::string_view kSuffix = ".dat";
constexpr uint64_t kMaxSlotBytes = uint64_t{1} << 32;
constexpr uint32_t kBitsPerWord = 64;

// Parses "slab-<slot_bytes>-<index>.dat".
bool ParseFileName(std::string_view name, uint32_t* slot_bytes, uint32_t* index) {
  if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) return false;
  name.remove_prefix(kPrefix.size());
  name.remove_suffix(kSuffix.size());
  size_t dash = name.find('-');
  if (dash == std::string_view::npos) return false;
  auto parse = [](std::string_view s, uint32_t* out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    return ec == std::errc() && end == s.data() + s.size() && !s.empty();
  };
  return parse(name.substr(0, dash), slot_bytes) && parse(name.substr(dash + 1), index) &&
         *slot_bytes > 0 && *slot_bytes % kIoAlignment == 0;
}

}  // namespace

SlabSet::SlabSet(FileSystem* fs, std::string dir, const SlabOptions& options)
    : fs_(fs), dir_(std::move(dir)), options_(options) {}

Result<std::unique_ptr<SlabSet>> SlabSet::Open(FileSystem* fs, const std::string& dir,
                                               const SlabOptions& options) {
  if (options.capacity_bytes == 0 || options.slab_bytes == 0) {
    return Status::InvalidArgument("nvme slabs: capacity_bytes and slab_bytes must be > 0");
  }
  TIERKV_RETURN_IF_ERROR(fs->CreateDirIfMissing(dir));
  std::unique_ptr<SlabSet> set(new SlabSet(fs, dir, options));
  TIERKV_RETURN_IF_ERROR(set->Scan());
  return set;
}

std::string SlabSet::FilePath(uint32_t slot_bytes, uint32_t index) const {
  return dir_ + "/" + std::string(kPrefix) + std::to_string(slot_bytes) + "-" +
         std::to_string(index) + std::string(kSuffix);
}

uint32_t SlabSet::SlotsPerFile(uint32_t slot_bytes) const {
  uint64_t slots = std::max<uint64_t>(1, options_.slab_bytes / slot_bytes);
  return uint32_t(std::min<uint64_t>(slots, std::numeric_limits<uint32_t>::max()));
}

Status SlabSet::Scan() {
  TIERKV_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(dir_));
  for (const std::string& name : names) {
    uint32_t slot_bytes, index;
    if (!ParseFileName(name, &slot_bytes, &index)) continue;
    TIERKV_ASSIGN_OR_RETURN(UniqueFd fd, fs_->OpenDirect(dir_ + "/" + name, /*create=*/false));
    TIERKV_ASSIGN_OR_RETURN(uint64_t size, fs_->FileSize(fd.get()));
    SizeClass& cls = classes_[slot_bytes];
    cls.slot_bytes = slot_bytes;
    File& file = cls.files[index];
    file.fd = std::move(fd);
    file.bytes = size;
    // Every whole slot counts, whatever slab_bytes says now: a file cut short
    // by a crash while it was being allocated, or made under another
    // slab_bytes, keeps the slots its records may name.
    file.slots = uint32_t(std::min<uint64_t>(size / slot_bytes, UINT32_MAX));
    file.bitmap.assign((file.slots + kBitsPerWord - 1) / kBitsPerWord, 0);
    file_bytes_ += size;
    if (file.slots > 0) cls.files_with_room.insert(index);
  }
  return Status::Ok();
}

Status SlabSet::AddFile(SizeClass& cls, uint32_t index) {
  const uint64_t size = uint64_t(SlotsPerFile(cls.slot_bytes)) * cls.slot_bytes;
  const std::string path = FilePath(cls.slot_bytes, index);
  TIERKV_ASSIGN_OR_RETURN(UniqueFd fd, fs_->OpenDirect(path, /*create=*/true));
  Status s = fs_->Allocate(fd.get(), 0, size);
  if (s.ok()) s = fs_->SyncDir(dir_);
  if (!s.ok()) {
    fd = UniqueFd();
    if (Status u = fs_->Unlink(path); !u.ok()) {
      spdlog::warn("nvme: could not remove half-made slab file: {}", u.ToString());
    }
    if (s.IsResourceExhausted()) {
      return Status::ResourceExhausted("nvme tier: disk full while creating slab file " + path +
                                       " (" + std::string(s.message()) + ")");
    }
    return s;
  }
  File& file = cls.files[index];
  file.fd = std::move(fd);
  file.bytes = size;
  file.slots = SlotsPerFile(cls.slot_bytes);
  file.bitmap.assign((file.slots + kBitsPerWord - 1) / kBitsPerWord, 0);
  file_bytes_ += size;
  cls.files_with_room.insert(index);
  return Status::Ok();
}

bool SlabSet::ReclaimEmptyFile(uint32_t except) {
  for (auto& [slot_bytes, cls] : classes_) {
    if (slot_bytes == except) continue;
    for (auto it = cls.files.begin(); it != cls.files.end(); ++it) {
      if (it->second.used != 0) continue;
      if (!fs_->Unlink(FilePath(slot_bytes, it->first)).ok()) continue;
      file_bytes_ -= it->second.bytes;
      cls.files_with_room.erase(it->first);
      cls.files.erase(it);
      return true;
    }
  }
  return false;
}

bool SlabSet::disk_full() const {
  return disk_full_at_ &&
         std::chrono::steady_clock::now() - *disk_full_at_ < options_.disk_full_retry;
}

Status SlabSet::DiskFullError(uint32_t slot_bytes) const {
  return Status::ResourceExhausted(
      "nvme tier: disk full under " + dir_ + ": " + std::to_string(file_bytes_) + " of " +
      std::to_string(options_.capacity_bytes) + " bytes usable, no free " +
      std::to_string(slot_bytes) + "-byte slot");
}

Result<SlotId> SlabSet::Allocate(uint64_t block_bytes) {
  if (block_bytes == 0 || block_bytes > kMaxSlotBytes - kIoAlignment) {
    return Status::InvalidArgument("nvme slabs: block of " + std::to_string(block_bytes) +
                                   " bytes");
  }
  const uint32_t slot_bytes = uint32_t(RoundUpToIo(block_bytes));
  SizeClass& cls = classes_[slot_bytes];
  cls.slot_bytes = slot_bytes;
  if (cls.files_with_room.empty()) {
    const uint64_t size = uint64_t(SlotsPerFile(slot_bytes)) * slot_bytes;
    while (file_bytes_ + size > options_.capacity_bytes) {
      if (!ReclaimEmptyFile(slot_bytes)) {
        return Status::ResourceExhausted("nvme tier full: " + std::to_string(file_bytes_) + " of " +
                                         std::to_string(options_.capacity_bytes) +
                                         " bytes in slab files, no free " +
                                         std::to_string(slot_bytes) + "-byte slot");
      }
    }
    if (disk_full()) return DiskFullError(slot_bytes);
    uint32_t index = cls.files.empty() ? 0 : cls.files.rbegin()->first + 1;
    Status added = AddFile(cls, index);
    if (added.IsResourceExhausted()) {
      disk_full_at_ = std::chrono::steady_clock::now();
      spdlog::warn(
          "nvme tier: {}; {} of the {} configured bytes are usable, no new slab file is tried "
          "for {} ms and blocks that need one are not written to NVMe (write_errors)",
          added.message(), file_bytes_, options_.capacity_bytes, options_.disk_full_retry.count());
      return DiskFullError(slot_bytes);
    }
    TIERKV_RETURN_IF_ERROR(added);
    disk_full_at_.reset();
  }
  const uint32_t file_index = *cls.files_with_room.begin();
  File& file = cls.files.at(file_index);
  for (uint32_t w = file.first_free_word; w < file.bitmap.size(); ++w) {
    if (file.bitmap[w] == ~uint64_t{0}) continue;
    uint32_t slot = w * kBitsPerWord + uint32_t(std::countr_one(file.bitmap[w]));
    if (slot >= file.slots) break;
    file.first_free_word = w;
    MarkUsed(cls, file_index, file, slot);
    return SlotId{slot_bytes, file_index, slot};
  }
  return Status::Internal("nvme slabs: file listed with room has no free slot");
}

void SlabSet::MarkUsed(SizeClass& cls, uint32_t file_index, File& file, uint32_t slot) {
  file.bitmap[slot / kBitsPerWord] |= uint64_t{1} << (slot % kBitsPerWord);
  ++file.used;
  ++used_slots_;
  used_bytes_ += cls.slot_bytes;
  if (file.used == file.slots) cls.files_with_room.erase(file_index);
}

Status SlabSet::Claim(const SlotId& slot) {
  File* file = FindFile(slot);
  if (file == nullptr || slot.index >= file->slots) {
    return Status::InvalidArgument("nvme slabs: no slot " + std::to_string(slot.index) +
                                   " in slab file " + FilePath(slot.slot_bytes, slot.file));
  }
  if (file->bitmap[slot.index / kBitsPerWord] & (uint64_t{1} << (slot.index % kBitsPerWord))) {
    return Status::AlreadyExists("nvme slabs: slot claimed twice");
  }
  MarkUsed(classes_.at(slot.slot_bytes), slot.file, *file, slot.index);
  return Status::Ok();
}

void SlabSet::Free(const SlotId& slot) {
  File* file = FindFile(slot);
  if (file == nullptr || slot.index >= file->slots) return;
  uint64_t& word = file->bitmap[slot.index / kBitsPerWord];
  const uint64_t bit = uint64_t{1} << (slot.index % kBitsPerWord);
  if ((word & bit) == 0) return;
  word &= ~bit;
  --file->used;
  --used_slots_;
  used_bytes_ -= slot.slot_bytes;
  file->first_free_word = std::min(file->first_free_word, slot.index / kBitsPerWord);
  classes_.at(slot.slot_bytes).files_with_room.insert(slot.file);
}

Result<IoTarget> SlabSet::Target(const SlotId& slot) const {
  const File* file = FindFile(slot);
  if (file == nullptr || slot.index >= file->slots) {
    return Status::InvalidArgument("nvme slabs: no such slot");
  }
  return IoTarget{file->fd.get(), uint64_t(slot.index) * slot.slot_bytes};
}

SlabSet::File* SlabSet::FindFile(const SlotId& slot) {
  return const_cast<File*>(static_cast<const SlabSet*>(this)->FindFile(slot));
}

const SlabSet::File* SlabSet::FindFile(const SlotId& slot) const {
  auto cls = classes_.find(slot.slot_bytes);
  if (cls == classes_.end()) return nullptr;
  auto file = cls->second.files.find(slot.file);
  return file == cls->second.files.end() ? nullptr : &file->second;
}

}  // namespace tierkv::nvme
