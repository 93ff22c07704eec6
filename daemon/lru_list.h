// An intrusive doubly linked LRU list: O(1) push, unlink and pop, no allocation.
//
// Elements derive from LruHook and are linked by pointer; the list never owns
// them. The front is the most recently used element, the back the least.
// An element is in at most one list per hook at a time (linked() says
// whether). An element that must sit in two lists at once derives from two
// hooks with different tags and names the hook as the list's second argument.
#pragma once

#include <cassert>
#include <cstddef>

namespace tierkv {

template <typename Tag>
struct BasicLruHook {
  BasicLruHook* lru_prev = nullptr;
  BasicLruHook* lru_next = nullptr;
  bool linked() const { return lru_prev != nullptr; }
};

using LruHook = BasicLruHook<struct DefaultLruTag>;

template <typename T, typename Hook = LruHook>
class LruList {
 public:
  LruList() { head_.lru_prev = head_.lru_next = &head_; }
  LruList(const LruList&) = delete;
  LruList& operator=(const LruList&) = delete;

  bool empty() const { return head_.lru_next == &head_; }
  size_t size() const { return size_; }

  // Links `t` as the most recently used element (unlinking it first if needed).
  void PushFront(T* t) {
    Hook* h = t;
    if (h->linked()) Unlink(t);
    h->lru_next = head_.lru_next;
    h->lru_prev = &head_;
    head_.lru_next->lru_prev = h;
    head_.lru_next = h;
    ++size_;
  }

  void Unlink(T* t) {
    Hook* h = t;
    assert(h->linked());
    h->lru_prev->lru_next = h->lru_next;
    h->lru_next->lru_prev = h->lru_prev;
    h->lru_prev = h->lru_next = nullptr;
    --size_;
  }

  // The least recently used element, or nullptr.
  T* Back() const { return empty() ? nullptr : static_cast<T*>(head_.lru_prev); }
  T* Front() const { return empty() ? nullptr : static_cast<T*>(head_.lru_next); }
  // The next element towards the front (more recent), or nullptr.
  T* Newer(T* t) const {
    Hook* h = static_cast<Hook*>(t)->lru_prev;
    return h == &head_ ? nullptr : static_cast<T*>(h);
  }

 private:
  Hook head_;
  size_t size_ = 0;
};

}  // namespace tierkv
