// An open-addressing hash table of pointers to elements that carry their own
// block key (`Key128 key`), as the BlockIndex's entries do. It owns nothing:
// elements live elsewhere and only their pointers are kept here.
//
// Layout: `capacity` slots (a power of two) in two parallel arrays, one tag
// byte per slot (0: empty; otherwise 0x80 | 7 bits of the key's hash) and one
// element pointer. Linear probing from the key's home slot: a lookup scans
// tag bytes, 64 to a cache line, and follows a pointer only when the tag
// matches (one slot in 128 matches by chance), so a hit costs one tag line,
// one pointer and the element itself, which the caller reads anyway.
//
// Erase shifts the rest of the probe run back instead of leaving a tombstone,
// so runs do not grow with churn (an index that evicts all day keeps its
// lookup cost).
//
// Hashing: block keys are XXH3 outputs the daemon has verified, but a client
// can grind tokens until many keys share their low bits. Each table mixes
// keys with its own random seed, so such keys land on unrelated slots.
//
// Load: at most kMaxLoadNum / kMaxLoadDen; the table doubles past it. Memory:
// 9 bytes a slot, so 11 to 22 bytes per element.
//
// Invariants: every element's slot is reachable from its home slot through
// full slots only; no key is in the table twice.
//
// Thread safety: none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>

#include "tierkv/keys.h"

namespace tierkv {

template <typename T>
class KeyTable {
 public:
  KeyTable() : seed_(RandomSeed()) { Allocate(kMinCapacity); }
  KeyTable(const KeyTable&) = delete;
  KeyTable& operator=(const KeyTable&) = delete;

  size_t size() const { return size_; }
  size_t capacity() const { return mask_ + 1; }

  T* Find(const Key128& key) const {
    const uint64_t h = Hash(key);
    const uint8_t tag = TagOf(h);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const uint8_t t = tags_[i];
      if (t == kEmpty) return nullptr;
      if (t == tag && slots_[i]->key == key) return slots_[i];
    }
  }

  // Starts loading the cache lines a Find of `key` reads first (its home tag
  // and slot), so that several lookups' misses overlap.
  void Prefetch(const Key128& key) const {
    const size_t i = Hash(key) & mask_;
    __builtin_prefetch(&tags_[i]);
    __builtin_prefetch(&slots_[i]);
  }

  // Adds `element`, whose key must not be in the table yet.
  void Insert(T* element) {
    if ((size_ + 1) * kMaxLoadDen > capacity() * kMaxLoadNum) Grow();
    Place(element, Hash(element->key));
    ++size_;
  }

  // Removes the element with `key`; returns it, or nullptr when absent.
  T* Erase(const Key128& key) {
    const uint64_t h = Hash(key);
    const uint8_t tag = TagOf(h);
    size_t i = h & mask_;
    for (;; i = (i + 1) & mask_) {
      if (tags_[i] == kEmpty) return nullptr;
      if (tags_[i] == tag && slots_[i]->key == key) break;
    }
    T* erased = slots_[i];
    // Shift back every later element of the run that may move into the hole
    // without ending up before its home slot.
    for (size_t j = (i + 1) & mask_; tags_[j] != kEmpty; j = (j + 1) & mask_) {
      const size_t home = Hash(slots_[j]->key) & mask_;
      // Distances going forward (cyclically): the hole must not lie before home.
      if (((j - home) & mask_) >= ((j - i) & mask_)) {
        tags_[i] = tags_[j];
        slots_[i] = slots_[j];
        i = j;
      }
    }
    tags_[i] = kEmpty;
    slots_[i] = nullptr;
    --size_;
    return erased;
  }

  // Calls visit(T*) on every element, in no particular order. `visit` must not
  // insert or erase.
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    for (size_t i = 0; i <= mask_; ++i) {
      if (tags_[i] != kEmpty) visit(slots_[i]);
    }
  }

 private:
  static constexpr uint8_t kEmpty = 0;
  static constexpr size_t kMinCapacity = 64;
  static constexpr size_t kMaxLoadNum = 7;
  static constexpr size_t kMaxLoadDen = 8;

  struct Seed {
    uint64_t lo;
    uint64_t hi;
  };

  static Seed RandomSeed() {
    std::random_device device;
    auto draw = [&] { return (uint64_t{device()} << 32) | device(); };
    return {draw(), draw()};
  }

  uint64_t Hash(const Key128& key) const {
    // The seeded halves folded into one word, then the murmur3 finalizer.
    uint64_t x = (key.lo ^ seed_.lo) + (key.hi ^ seed_.hi) * 0x9E3779B97F4A7C15ull;
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ull;
    x ^= x >> 33;
    return x;
  }
  // The top 7 bits (the slot comes from the low ones), never kEmpty.
  static uint8_t TagOf(uint64_t h) { return static_cast<uint8_t>(0x80 | (h >> 57)); }

  void Allocate(size_t capacity) {
    tags_ = std::make_unique<uint8_t[]>(capacity);  // zeroed: every slot empty
    slots_ = std::make_unique<T*[]>(capacity);
    mask_ = capacity - 1;
  }

  void Place(T* element, uint64_t h) {
    size_t i = h & mask_;
    while (tags_[i] != kEmpty) i = (i + 1) & mask_;
    tags_[i] = TagOf(h);
    slots_[i] = element;
  }

  void Grow() {
    std::unique_ptr<uint8_t[]> old_tags = std::move(tags_);
    std::unique_ptr<T*[]> old_slots = std::move(slots_);
    const size_t old_capacity = capacity();
    Allocate(old_capacity * 2);
    for (size_t i = 0; i < old_capacity; ++i) {
      if (old_tags[i] != kEmpty) Place(old_slots[i], Hash(old_slots[i]->key));
    }
  }

  Seed seed_;
  std::unique_ptr<uint8_t[]> tags_;
  std::unique_ptr<T*[]> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace tierkv
