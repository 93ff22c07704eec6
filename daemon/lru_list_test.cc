#include "daemon/lru_list.h"

#include <gtest/gtest.h>

#include <vector>

namespace tierkv {
namespace {

struct Item : LruHook {
  explicit Item(int v) : value(v) {}
  int value;
};

std::vector<int> BackToFront(const LruList<Item>& l) {
  std::vector<int> out;
  for (Item* i = l.Back(); i; i = l.Newer(i)) out.push_back(i->value);
  return out;
}

TEST(LruListTest, BackIsLeastRecentlyUsed) {
  Item a(1), b(2), c(3);
  LruList<Item> l;
  l.PushFront(&a);
  l.PushFront(&b);
  l.PushFront(&c);
  EXPECT_EQ(BackToFront(l), (std::vector<int>{1, 2, 3}));
  l.PushFront(&a);  // touch
  EXPECT_EQ(BackToFront(l), (std::vector<int>{2, 3, 1}));
  EXPECT_EQ(l.size(), 3u);
}

TEST(LruListTest, UnlinkFromMiddleAndEnds) {
  Item a(1), b(2), c(3);
  LruList<Item> l;
  for (Item* i : {&a, &b, &c}) l.PushFront(i);
  l.Unlink(&b);
  EXPECT_FALSE(b.linked());
  EXPECT_EQ(BackToFront(l), (std::vector<int>{1, 3}));
  l.Unlink(&a);
  l.Unlink(&c);
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(l.Back(), nullptr);
}

}  // namespace
}  // namespace tierkv
