#include "tiers/remote/slot_map.h"

#include <hiredis/hiredis.h>

#include <algorithm>

namespace tierkv::remote {
namespace {

// A CLUSTER SLOTS node entry: [ip, port, id, ...].
Result<HostPort> NodeOf(const redisReply& entry, const HostPort& queried) {
  if (entry.type != REDIS_REPLY_ARRAY || entry.elements < 2 ||
      entry.element[0]->type != REDIS_REPLY_STRING ||
      entry.element[1]->type != REDIS_REPLY_INTEGER) {
    return Status::ProtocolError("CLUSTER SLOTS: a node entry is not [ip, port, ...]");
  }
  const long long port = entry.element[1]->integer;
  if (port <= 0 || port > 65535) {
    return Status::ProtocolError("CLUSTER SLOTS: node port " + std::to_string(port));
  }
  HostPort node;
  node.host = std::string(entry.element[0]->str, entry.element[0]->len);
  if (node.host.empty() || node.host == "?") node.host = queried.host;
  node.port = static_cast<uint16_t>(port);
  return node;
}

}  // namespace

SlotMap::SlotMap() { owner_.fill(kUnassigned); }

SlotMap SlotMap::SingleNode(const HostPort& node) {
  SlotMap map;
  map.masters_.push_back(node);
  map.owner_.fill(0);
  map.covered_ = kClusterSlots;
  return map;
}

Result<SlotMap> SlotMap::FromClusterSlots(const redisReply& reply, const HostPort& queried) {
  if (reply.type == REDIS_REPLY_ERROR) {
    return Status::Unavailable(std::string(reply.str, reply.len));
  }
  if (reply.type != REDIS_REPLY_ARRAY) {
    return Status::ProtocolError("CLUSTER SLOTS: reply is not an array");
  }
  SlotMap map;
  for (size_t i = 0; i < reply.elements; ++i) {
    const redisReply& range = *reply.element[i];
    if (range.type != REDIS_REPLY_ARRAY || range.elements < 3 ||
        range.element[0]->type != REDIS_REPLY_INTEGER ||
        range.element[1]->type != REDIS_REPLY_INTEGER) {
      return Status::ProtocolError("CLUSTER SLOTS: a range is not [start, end, master, ...]");
    }
    const long long start = range.element[0]->integer;
    const long long end = range.element[1]->integer;
    if (start < 0 || end < start || end >= kClusterSlots) {
      return Status::ProtocolError("CLUSTER SLOTS: range " + std::to_string(start) + "-" +
                                   std::to_string(end));
    }
    TIERKV_ASSIGN_OR_RETURN(HostPort master, NodeOf(*range.element[2], queried));
    const int16_t index = map.IndexOf(master);
    for (long long slot = start; slot <= end; ++slot) {
      if (map.owner_[slot] == kUnassigned) ++map.covered_;
      map.owner_[slot] = index;
    }
    for (size_t r = 3; r < range.elements; ++r) {
      TIERKV_ASSIGN_OR_RETURN(HostPort replica, NodeOf(*range.element[r], queried));
      if (std::find(map.replicas_.begin(), map.replicas_.end(), replica) == map.replicas_.end()) {
        map.replicas_.push_back(std::move(replica));
      }
    }
  }
  return map;
}

const HostPort* SlotMap::MasterOf(uint16_t slot) const {
  const int16_t index = owner_[slot];
  return index == kUnassigned ? nullptr : &masters_[index];
}

void SlotMap::Assign(uint16_t slot, const HostPort& master) {
  const int16_t index = IndexOf(master);
  if (owner_[slot] == kUnassigned) ++covered_;
  owner_[slot] = index;
}

uint32_t SlotMap::SlotsOf(const HostPort& master) const {
  const auto it = std::find(masters_.begin(), masters_.end(), master);
  if (it == masters_.end()) return 0;
  const auto index = static_cast<int16_t>(it - masters_.begin());
  return static_cast<uint32_t>(std::count(owner_.begin(), owner_.end(), index));
}

int16_t SlotMap::IndexOf(const HostPort& master) {
  const auto it = std::find(masters_.begin(), masters_.end(), master);
  if (it != masters_.end()) return static_cast<int16_t>(it - masters_.begin());
  masters_.push_back(master);
  return static_cast<int16_t>(masters_.size() - 1);
}

}  // namespace tierkv::remote
