#include "python/src/handles.h"

#include <string>
#include <utility>

#include "python/src/buffers.h"

namespace tierkv::python {
namespace {

// Runs `f` with the GIL released, when this thread holds it (a destructor may
// also run where it does not, e.g. at interpreter exit).
template <typename F>
void WithoutGil(F&& f) {
  if (PyGILState_Check()) {
    py::gil_scoped_release release;
    f();
  } else {
    f();
  }
}

Status Closed() { return Status::Unavailable("this tierkv client was closed"); }

}  // namespace

// ---- ClientHandle ----

std::shared_ptr<ClientHandle> ClientHandle::Connect(const ConnectOptions& options,
                                                    std::string tenant) {
  Result<std::unique_ptr<Client>> client = Status::Internal("not connected");
  {
    py::gil_scoped_release release;
    client = Client::Connect(options);
  }
  return std::shared_ptr<ClientHandle>(
      new ClientHandle(ValueOrThrow(std::move(client)), std::move(tenant)));
}

ClientHandle::~ClientHandle() {
  // Everything that referred to the client held this handle, so nothing is left open.
  WithoutGil([&] { client_.reset(); });
}

Client& ClientHandle::client() {
  if (closed()) throw StatusError(Closed());
  return *client_;
}

bool ClientHandle::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

void ClientHandle::Close() {
  py::gil_scoped_release release;
  std::lock_guard lock(mu_);
  closed_ = true;
  for (LeaseHandle* lease : leases_) lease->ReleaseLocked();
  for (ReservationHandle* reservation : reservations_) reservation->AbortLocked();
}

void ClientHandle::Track(LeaseHandle* lease) {
  std::lock_guard lock(mu_);
  leases_.insert(lease);
}

void ClientHandle::Untrack(LeaseHandle* lease) {
  std::lock_guard lock(mu_);
  leases_.erase(lease);
}

void ClientHandle::Track(ReservationHandle* reservation) {
  std::lock_guard lock(mu_);
  reservations_.insert(reservation);
}

void ClientHandle::Untrack(ReservationHandle* reservation) {
  std::lock_guard lock(mu_);
  reservations_.erase(reservation);
}

// ---- Chain ----

Chain Chain::Slice(size_t begin, size_t end) const {
  if (begin > end || end > keys.size()) {
    ThrowInvalidArgument("blocks [" + std::to_string(begin) + ", " + std::to_string(end) +
                         ") of a chain of " + std::to_string(keys.size()));
  }
  Chain out;
  out.root = root;
  out.parent = begin == 0 ? parent : keys[begin - 1];
  out.block_tokens = block_tokens;
  out.keys.assign(keys.begin() + begin, keys.begin() + end);
  out.tokens.assign(tokens.begin() + begin * block_tokens, tokens.begin() + end * block_tokens);
  return out;
}

// ---- NamespaceHandle ----

Chain NamespaceHandle::MakeChain(py::handle tokens) const {
  Chain chain;
  chain.root = ns_.id;
  chain.parent = ns_.id;
  chain.block_tokens = ns_.block_tokens;
  chain.tokens = TokensFrom(tokens);
  chain.tokens.resize(chain.tokens.size() / ns_.block_tokens * ns_.block_tokens);
  {
    py::gil_scoped_release release;
    chain.keys = ChainBlockKeys(ns_.id, chain.tokens, ns_.block_tokens);
  }
  return chain;
}

void NamespaceHandle::CheckSameNamespace(const Chain& chain) const {
  if (!(chain.root == ns_.id) || chain.block_tokens != ns_.block_tokens) {
    ThrowInvalidArgument("this chain was made by another namespace");
  }
}

void NamespaceHandle::CheckRooted(const Chain& chain, const char* operation) const {
  CheckSameNamespace(chain);
  if (!chain.starts_at_root()) {
    ThrowInvalidArgument(std::string(operation) +
                         " needs a chain from a prompt's first block; this one starts after it");
  }
}

uint32_t NamespaceHandle::Lookup(const Chain& chain, bool prefetch) {
  CheckRooted(chain, "lookup");
  Client& client = owner_->client();
  Result<LookupResult> r = Status::Internal("not looked up");
  {
    py::gil_scoped_release release;
    r = client.Lookup(ns_, chain.keys, chain.tokens, {.prefetch = prefetch});
  }
  return ValueOrThrow(std::move(r)).matched_blocks;
}

void NamespaceHandle::Put(const Chain& chain, py::handle data) {
  CheckSameNamespace(chain);
  Client& client = owner_->client();
  ByteRange bytes = ByteRange::From(data, /*writable=*/false, "data");
  Status s;
  {
    py::gil_scoped_release release;
    s = client.Put(ns_, chain.parent, chain.keys, chain.tokens, {bytes.data(), bytes.size()});
  }
  ThrowIfError(s);
}

uint32_t NamespaceHandle::Get(const Chain& chain, py::handle out) {
  CheckRooted(chain, "get");
  Client& client = owner_->client();
  ByteRange bytes = ByteRange::From(out, /*writable=*/true, "out");
  Result<uint32_t> r = Status::Internal("not read");
  {
    py::gil_scoped_release release;
    r = client.Get(ns_, chain.keys, chain.tokens, {bytes.data(), bytes.size()});
  }
  return ValueOrThrow(std::move(r));
}

std::shared_ptr<LeaseHandle> NamespaceHandle::Acquire(const Chain& chain, uint32_t max_blocks,
                                                      bool gpu) {
  CheckRooted(chain, "acquire");
  Client& client = owner_->client();
  Result<Lease> r = Status::Internal("not acquired");
  {
    py::gil_scoped_release release;
    r = client.Acquire(ns_, chain.keys, chain.tokens, max_blocks, {.gpu = gpu});
  }
  return std::make_shared<LeaseHandle>(owner_, ValueOrThrow(std::move(r)), ns_.block_bytes);
}

std::shared_ptr<ReservationHandle> NamespaceHandle::Reserve(const Chain& chain, bool gpu) {
  CheckSameNamespace(chain);
  Client& client = owner_->client();
  Result<Reservation> r = Status::Internal("not reserved");
  {
    py::gil_scoped_release release;
    r = client.Reserve(ns_, chain.parent, chain.keys, chain.tokens, {.gpu = gpu});
  }
  return std::make_shared<ReservationHandle>(owner_, ValueOrThrow(std::move(r)), ns_.block_bytes);
}

// ---- LeaseHandle ----

LeaseHandle::LeaseHandle(std::shared_ptr<ClientHandle> owner, Lease lease, uint64_t block_bytes)
    : owner_(std::move(owner)),
      size_(lease.size()),
      block_bytes_(block_bytes),
      lease_(std::move(lease)) {
  owner_->Track(this);
}

LeaseHandle::~LeaseHandle() {
  owner_->Untrack(this);
  WithoutGil([&] { ReleaseLocked(); });
}

void LeaseHandle::CheckBlock(size_t i) const {
  if (released_) ThrowInvalidArgument("this lease was released");
  if (i >= size_) {
    ThrowInvalidArgument("block " + std::to_string(i) + " of a lease of " +
                         std::to_string(size_));
  }
}

TierKind LeaseHandle::location(size_t i) const {
  std::lock_guard lock(mu_);
  CheckBlock(i);
  return lease_.location(i);
}

uint64_t LeaseHandle::gpu_offset(size_t i) const {
  std::lock_guard lock(mu_);
  CheckBlock(i);
  return lease_.gpu_offset(i);
}

py::object LeaseHandle::View(size_t i) {
  BlockBuffer buffer;
  {
    std::lock_guard lock(mu_);
    CheckBlock(i);
    if (lease_.location(i) != TierKind::kHost) {
      ThrowInvalidArgument("block " + std::to_string(i) +
                           " is on the GPU tier (gpu_offset), not in host memory");
    }
    buffer.data = const_cast<std::byte*>(lease_.payload(i).data());
  }
  buffer.owner = shared_from_this();
  buffer.size = block_bytes_;
  buffer.readonly = true;
  return MemoryViewOf(std::move(buffer));
}

uintptr_t LeaseHandle::Address(size_t i) {
  std::lock_guard lock(mu_);
  CheckBlock(i);
  return reinterpret_cast<uintptr_t>(lease_.payload(i).data());
}

bool LeaseHandle::released() const {
  std::lock_guard lock(mu_);
  return released_;
}

void LeaseHandle::Release() {
  py::gil_scoped_release release;
  ReleaseLocked();
}

void LeaseHandle::ReleaseLocked() {
  std::lock_guard lock(mu_);
  if (released_) return;
  released_ = true;
  // Over TCP nothing is pinned and the bytes are the lease's own: they stay
  // until the last view of them is gone.
  if (owner_->local()) (void)lease_.Release();
}

// ---- ReservationHandle ----

ReservationHandle::ReservationHandle(std::shared_ptr<ClientHandle> owner,
                                     Reservation reservation, uint64_t block_bytes)
    : owner_(std::move(owner)),
      size_(reservation.size()),
      block_bytes_(block_bytes),
      reservation_(std::move(reservation)) {
  owner_->Track(this);
}

ReservationHandle::~ReservationHandle() {
  owner_->Untrack(this);
  WithoutGil([&] { AbortLocked(); });
}

void ReservationHandle::CheckOpenBlock(size_t i) const {
  if (!open_) ThrowInvalidArgument("this reservation was committed or aborted");
  if (i >= size_) {
    ThrowInvalidArgument("block " + std::to_string(i) + " of a reservation of " +
                         std::to_string(size_));
  }
}

py::object ReservationHandle::View(size_t i) {
  BlockBuffer buffer;
  {
    std::lock_guard lock(mu_);
    CheckOpenBlock(i);
    Span<std::byte> payload = reservation_.payload(i);
    if (payload.empty()) return py::none();
    buffer.data = payload.data();
  }
  buffer.owner = shared_from_this();
  buffer.size = block_bytes_;
  buffer.readonly = false;
  return MemoryViewOf(std::move(buffer));
}

uintptr_t ReservationHandle::Address(size_t i) {
  std::lock_guard lock(mu_);
  CheckOpenBlock(i);
  return reinterpret_cast<uintptr_t>(reservation_.payload(i).data());
}

bool ReservationHandle::open() const {
  std::lock_guard lock(mu_);
  return open_;
}

void ReservationHandle::Commit() {
  // Checked before taking mu_: Close() takes the client's lock, then ours.
  if (owner_->closed()) throw StatusError(Closed());
  Status s;
  {
    py::gil_scoped_release release;
    std::lock_guard lock(mu_);
    if (!open_) {
      s = Status::InvalidArgument("this reservation was already committed or aborted");
    } else {
      open_ = false;
      // Commit keeps the Reservation's staging memory allocated (it only
      // clears it), so views of a TCP reservation stay valid memory.
      s = reservation_.Commit();
    }
  }
  ThrowIfError(s);
}

void ReservationHandle::Abort() {
  py::gil_scoped_release release;
  AbortLocked();
}

void ReservationHandle::AbortLocked() {
  std::lock_guard lock(mu_);
  if (!open_) return;
  open_ = false;
  (void)reservation_.Abort();
}

}  // namespace tierkv::python
