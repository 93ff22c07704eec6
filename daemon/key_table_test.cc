#include "daemon/key_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <unordered_map>
#include <vector>

namespace tierkv {
namespace {

struct Item {
  Key128 key;
};

class KeyTableTest : public ::testing::Test {
 protected:
  Item* Make(uint64_t lo, uint64_t hi) {
    items_.push_back(std::make_unique<Item>(Item{{lo, hi}}));
    return items_.back().get();
  }
  // Every item the reference holds is found, and nothing else is.
  void ExpectSameAs(const std::unordered_map<Key128, Item*, Key128Hash>& want) {
    EXPECT_EQ(table_.size(), want.size());
    for (const auto& [key, item] : want) EXPECT_EQ(table_.Find(key), item);
    size_t visited = 0;
    table_.ForEach([&](Item* item) {
      ++visited;
      EXPECT_EQ(want.at(item->key), item);
    });
    EXPECT_EQ(visited, want.size());
  }

  std::vector<std::unique_ptr<Item>> items_;
  KeyTable<Item> table_;
};

TEST_F(KeyTableTest, FindsWhatWasInsertedAndNothingElse) {
  Item* a = Make(1, 2);
  table_.Insert(a);
  EXPECT_EQ(table_.Find({1, 2}), a);
  EXPECT_EQ(table_.Find({2, 1}), nullptr);
  EXPECT_EQ(table_.Find({1, 3}), nullptr);
  EXPECT_EQ(table_.Erase({9, 9}), nullptr);
  EXPECT_EQ(table_.Erase({1, 2}), a);
  EXPECT_EQ(table_.Find({1, 2}), nullptr);
  EXPECT_EQ(table_.size(), 0u);
}

TEST_F(KeyTableTest, GrowsPastItsLoadLimitAndKeepsEveryElement) {
  std::unordered_map<Key128, Item*, Key128Hash> want;
  const size_t initial = table_.capacity();
  for (uint64_t i = 0; i < 10 * initial; ++i) {
    Item* item = Make(i, ~i);
    table_.Insert(item);
    want[item->key] = item;
    ASSERT_LE(table_.size() * 8, table_.capacity() * 7);
  }
  EXPECT_GT(table_.capacity(), initial);
  ExpectSameAs(want);
}

// Random inserts and erases in a table kept small and nearly full, so probe
// runs are long and wrap around the end: each erase's back-shift must leave
// every other element reachable.
TEST_F(KeyTableTest, ChurnAtFullLoadLeavesEveryElementReachable) {
  std::mt19937_64 rng(42);
  std::unordered_map<Key128, Item*, Key128Hash> want;
  std::vector<Key128> keys;
  const size_t target = table_.capacity() * 7 / 8;
  for (int step = 0; step < 20000; ++step) {
    if (want.size() < target && (want.empty() || rng() % 2 == 0)) {
      Item* item = Make(rng(), rng());
      table_.Insert(item);
      want[item->key] = item;
      keys.push_back(item->key);
    } else {
      const size_t pick = rng() % keys.size();
      std::swap(keys[pick], keys.back());
      const Key128 key = keys.back();
      keys.pop_back();
      ASSERT_EQ(table_.Erase(key), want.at(key));
      want.erase(key);
      ASSERT_EQ(table_.Find(key), nullptr);
    }
    if (step % 1000 == 0) ExpectSameAs(want);
  }
  ExpectSameAs(want);
}

// Each table seeds its hash, so keys a client chose to share their low bits
// land on slots another daemon (or table) cannot predict: the same keys are
// laid out differently in two tables.
TEST_F(KeyTableTest, EachTableSeedsItsOwnLayout) {
  KeyTable<Item> other;
  for (uint64_t i = 0; i < 100; ++i) {
    Item* item = Make(i << 40, 0);
    table_.Insert(item);
    other.Insert(item);
  }
  std::vector<Item*> order, other_order;
  table_.ForEach([&](Item* item) { order.push_back(item); });
  other.ForEach([&](Item* item) { other_order.push_back(item); });
  ASSERT_EQ(order.size(), 100u);
  ASSERT_EQ(other_order.size(), 100u);
  EXPECT_NE(order, other_order);
}

}  // namespace
}  // namespace tierkv
