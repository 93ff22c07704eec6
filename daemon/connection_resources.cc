#include "daemon/connection_resources.h"

#include "daemon/loop_phase.h"

namespace tierkv {

ConnectionResources::~ConnectionResources() {
  for (auto& [id, entries] : leases_) store_->Unpin(entries);
  for (auto& [id, entries] : reservations_) store_->Abort(entries);
}

void ConnectionResources::DeliverDeferred(std::vector<uint8_t> reply) {
  CheckNotInRequest("a deferred reply");
  if (deliver_) deliver_(std::move(reply));
}

uint64_t ConnectionResources::AddLease(std::vector<BlockEntry*> entries) {
  store_->Pin(entries);
  const uint64_t id = next_id_++;
  leases_.emplace(id, std::move(entries));
  return id;
}

bool ConnectionResources::ReleaseLease(uint64_t lease_id) {
  auto it = leases_.find(lease_id);
  if (it == leases_.end()) return false;
  store_->Unpin(it->second);
  leases_.erase(it);
  return true;
}

uint64_t ConnectionResources::AddReservation(std::vector<BlockEntry*> entries,
                                             bool copy_up_to_gpu) {
  const uint64_t id = next_id_++;
  reservations_.emplace(id, std::move(entries));
  if (copy_up_to_gpu) gpu_reservations_.insert(id);
  return id;
}

bool ConnectionResources::TakeReservation(uint64_t reservation_id,
                                          std::vector<BlockEntry*>* entries,
                                          bool* copy_up_to_gpu) {
  auto it = reservations_.find(reservation_id);
  if (it == reservations_.end()) return false;
  *entries = std::move(it->second);
  reservations_.erase(it);
  const bool gpu = gpu_reservations_.erase(reservation_id) > 0;
  if (copy_up_to_gpu) *copy_up_to_gpu = gpu;
  return true;
}

}  // namespace tierkv
