#include "daemon/remote_mover.h"

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace tierkv {
namespace {

// The outcomes of one batch of reads, gathered until the last completes.
struct ReadBatch {
  std::vector<Status> results;
  size_t pending = 0;

  // How many results, from the first, are OK.
  size_t LeadingOk() const {
    size_t n = 0;
    while (n < results.size() && results[n].ok()) ++n;
    return n;
  }
};

}  // namespace

std::string_view RemoteWritePolicyName(RemoteWritePolicy policy) {
  switch (policy) {
    case RemoteWritePolicy::kThrough:
      return "through";
    case RemoteWritePolicy::kEvict:
      return "evict";
  }
  return "unknown";
}

Result<RemoteWritePolicy> ParseRemoteWritePolicy(std::string_view text) {
  if (text == "through") return RemoteWritePolicy::kThrough;
  if (text == "evict") return RemoteWritePolicy::kEvict;
  return Status::InvalidArgument("remote_write must be 'through' or 'evict', not '" +
                                 std::string(text) + "'");
}

RemoteMover::RemoteMover(remote::RemoteStore* remote, BlockIndex* index, HostPlacement* host,
                         StoreCounters* counters, RemoteMoverOptions options)
    : remote_(remote), index_(index), host_(host), counters_(counters), options_(options) {}

remote::RemoteBlock RemoteMover::Describe(const RemoteRange& range, size_t i) {
  const wire::BlockChain& chain = *range.chain;
  remote::RemoteBlock block;
  block.namespace_id = range.ns_id;
  block.key = chain.keys[i];
  block.parent = i == 0 ? chain.parent : chain.keys[i - 1];
  const auto tokens = std::span(chain.tokens).subspan(i * range.block_tokens, range.block_tokens);
  block.tokens.assign(tokens.begin(), tokens.end());
  return block;
}

void RemoteMover::StartWrite(BlockEntry* e) {
  if (e->residency.remote() != Residency::Remote::kNone || writing_.contains(e->key)) return;
  if (write_bytes_in_flight_ + e->bytes > options_.max_write_bytes) {
    ++counters_->remote_write_overflows;
    return;
  }
  remote::RemoteBlock block;
  block.namespace_id = e->ns_id;
  block.key = e->key;
  block.parent = e->parent;
  block.tokens.assign(e->tokens().begin(), e->tokens().end());
  // The copy is the write's own: the host slot may be freed before it ends.
  const std::span<const std::byte> source = host_->Payload(*e);
  auto payload = std::make_shared<std::vector<std::byte>>(source.begin(), source.end());
  e->residency.BeginRemoteWrite();
  writing_.insert(e->key);
  write_bytes_in_flight_ += e->bytes;
  remote::RemoteStore::Batch batch;
  batch.Put(block, *payload, [this, key = e->key, bytes = e->bytes, payload](Status s) {
    OnWritten(key, bytes, s);
  });
  remote_->Submit(std::move(batch));
}

void RemoteMover::OnWritten(const Key128& key, uint64_t bytes, const Status& s) {
  writing_.erase(key);
  write_bytes_in_flight_ -= bytes;
  if (s.ok()) {
    counters_->remote.bytes_in += bytes;
  } else {
    spdlog::debug("remote write of block {}: {}", ToHex(key), s.ToString());
  }
  // The block may have been dropped (and even stored again) meanwhile; while
  // its key is in writing_ no other write starts, so a block still marked
  // writing is this write's.
  BlockEntry* e = index_->Find(key);
  if (e && e->residency.remote() == Residency::Remote::kWriting)
    e->residency.EndRemoteWrite(s.ok());
}

void RemoteMover::Probe(const RemoteRange& range, Probed done) {
  auto state = std::make_shared<ReadBatch>();
  state->results.resize(range.to - range.from);
  state->pending = state->results.size();
  remote::RemoteStore::Batch batch;
  for (size_t i = range.from; i < range.to; ++i) {
    batch.Probe(Describe(range, i), range.block_bytes,
                [state, at = i - range.from, done](Status s) {
                  state->results[at] = std::move(s);
                  if (--state->pending == 0) done(state->LeadingOk());
                });
  }
  remote_->Submit(std::move(batch));
}

void RemoteMover::Fetch(const RemoteRange& range, Fetched done) {
  struct FetchBatch : ReadBatch {
    std::vector<uint8_t> payload;
  };
  auto state = std::make_shared<FetchBatch>();
  state->results.resize(range.to - range.from);
  state->pending = state->results.size();
  state->payload.resize(state->results.size() * range.block_bytes);
  remote::RemoteStore::Batch batch;
  for (size_t i = range.from; i < range.to; ++i) {
    const size_t at = i - range.from;
    const std::span<std::byte> dst(
        reinterpret_cast<std::byte*>(state->payload.data()) + at * range.block_bytes,
        range.block_bytes);
    batch.Get(Describe(range, i), dst,
              [this, state, at, bytes = range.block_bytes, done](Status s) {
                state->results[at] = std::move(s);
                if (--state->pending > 0) return;
                const size_t n = state->LeadingOk();
                counters_->remote.bytes_out += n * bytes;
                state->payload.resize(n * bytes);
                done(n, std::move(state->payload));
              });
  }
  remote_->Submit(std::move(batch));
}

}  // namespace tierkv
