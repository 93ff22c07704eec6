#include "daemon/store_counters.h"

namespace tierkv {

void StoreCounters::CountLookup(const Key128& ns_id, const LookupTally& t, bool gpu_enabled) {
  const uint64_t found = t.on_gpu + t.on_host + t.on_nvme;
  if (gpu_enabled) {
    gpu.hits += t.on_gpu;
    gpu.misses += t.asked - t.on_gpu;
  }
  host.hits += t.on_host;
  host.misses += t.asked - t.on_gpu - t.on_host;
  nvme.hits += t.on_nvme;
  nvme.misses += t.asked - found;
  NamespaceCounters& ns = namespaces_[ns_id];
  ns.hits += found;
  ns.misses += t.asked - found;
}

void StoreCounters::CountRemoteLookup(const Key128& ns_id, uint64_t asked, uint64_t found) {
  remote.hits += found;
  remote.misses += asked - found;
  NamespaceCounters& ns = namespaces_[ns_id];
  ns.hits += found;
  ns.misses -= found;
}

void StoreCounters::CountReady(const Key128& ns_id, int delta) {
  namespaces_[ns_id].blocks += delta;
}

NamespaceCounters StoreCounters::ForNamespace(const Key128& ns_id) const {
  auto it = namespaces_.find(ns_id);
  return it == namespaces_.end() ? NamespaceCounters{} : it->second;
}

}  // namespace tierkv
