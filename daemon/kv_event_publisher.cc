#include "daemon/kv_event_publisher.h"

#include <spdlog/spdlog.h>
#include <zmq.h>

#include <chrono>
#include <cstring>

namespace tierkv {
namespace {

constexpr int kSendHighWaterMark = 100000;
// How long closing waits for queued messages to leave.
constexpr int kLingerMillis = 1000;
// How often the publisher thread looks at the replay socket when idle.
constexpr auto kReplayPollInterval = std::chrono::milliseconds(10);
constexpr size_t kSeqBytes = 8;
constexpr size_t kEndpointBytes = 256;
constexpr int kReplayRequestFrames = 3;  // identity, empty delimiter, sequence number

void EncodeSeq(int64_t seq, char out[kSeqBytes]) {
  const uint64_t v = static_cast<uint64_t>(seq);
  for (size_t i = 0; i < kSeqBytes; ++i) out[i] = static_cast<char>(v >> (56 - 8 * i));
}

Status ZmqError(const std::string& what) {
  return Status::IOError(what + ": " + zmq_strerror(zmq_errno()));
}

// Binds a socket of `type` at `endpoint` and returns it, with the endpoint as bound.
Result<void*> Bind(void* context, int type, const std::string& endpoint, std::string* bound) {
  void* socket = zmq_socket(context, type);
  if (!socket) return ZmqError("zmq socket");
  const int linger = kLingerMillis;
  zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
  if (type == ZMQ_PUB) {
    const int hwm = kSendHighWaterMark;
    zmq_setsockopt(socket, ZMQ_SNDHWM, &hwm, sizeof hwm);
  }
  if (zmq_bind(socket, endpoint.c_str()) != 0) {
    Status s = ZmqError("bind " + endpoint);
    zmq_close(socket);
    return s;
  }
  char last[kEndpointBytes] = {};
  size_t size = sizeof last;
  zmq_getsockopt(socket, ZMQ_LAST_ENDPOINT, last, &size);
  *bound = last;
  return socket;
}

}  // namespace

Result<std::unique_ptr<KvEventPublisher>> KvEventPublisher::Start(const Options& options) {
  std::unique_ptr<KvEventPublisher> p(new KvEventPublisher());
  p->topic_ = options.topic;
  p->context_ = zmq_ctx_new();
  if (!p->context_) return ZmqError("zmq context");
  TIERKV_ASSIGN_OR_RETURN(p->pub_, Bind(p->context_, ZMQ_PUB, options.endpoint, &p->endpoint_));
  if (!options.replay_endpoint.empty()) {
    TIERKV_ASSIGN_OR_RETURN(p->replay_, Bind(p->context_, ZMQ_ROUTER, options.replay_endpoint,
                                             &p->replay_endpoint_));
  }
  p->thread_ = std::thread([raw = p.get()] { raw->Run(); });
  return p;
}

KvEventPublisher::~KvEventPublisher() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  if (pub_) zmq_close(pub_);
  if (replay_) zmq_close(replay_);
  if (context_) zmq_ctx_term(context_);
}

void KvEventPublisher::Publish(std::vector<KvEvent> events) {
  const double now = std::chrono::duration<double>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  {
    std::lock_guard lock(mu_);
    const uint64_t seq = next_seq_++;
    if (queue_.size() >= kMaxQueuedBatches) {
      ++dropped_;
      return;
    }
    queue_.push_back({seq, now, std::move(events)});
  }
  wake_.notify_one();
}

void KvEventPublisher::Run() {
  for (;;) {
    std::deque<Queued> work;
    bool stopping = false;
    {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, kReplayPollInterval, [this] { return stop_ || !queue_.empty(); });
      work.swap(queue_);
      stopping = stop_;
    }
    for (const Queued& batch : work) Send(batch);
    ServeReplay();
    if (stopping && work.empty()) return;
  }
}

void KvEventPublisher::Send(const Queued& batch) {
  std::string payload = EncodeKvEventBatch(batch.unix_seconds, batch.events);
  char seq[kSeqBytes];
  EncodeSeq(static_cast<int64_t>(batch.seq), seq);
  zmq_send(pub_, topic_.data(), topic_.size(), ZMQ_SNDMORE);
  zmq_send(pub_, seq, kSeqBytes, ZMQ_SNDMORE);
  zmq_send(pub_, payload.data(), payload.size(), 0);
  ++published_;
  kept_bytes_ += payload.size();
  kept_.push_back({batch.seq, std::move(payload)});
  while (kept_.size() > kReplayBatches || (kept_bytes_ > kReplayBytes && kept_.size() > 1)) {
    kept_bytes_ -= kept_.front().payload.size();
    kept_.pop_front();
  }
}

void KvEventPublisher::ServeReplay() {
  if (!replay_) return;
  for (;;) {
    std::vector<std::string> frames;
    int more = 1;
    while (more) {
      zmq_msg_t msg;
      zmq_msg_init(&msg);
      if (zmq_msg_recv(&msg, replay_, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&msg);
        if (frames.empty()) return;  // nothing waiting
        break;
      }
      frames.emplace_back(static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg));
      more = zmq_msg_more(&msg);
      zmq_msg_close(&msg);
    }
    if (frames.size() != kReplayRequestFrames || frames[2].size() != kSeqBytes) {
      spdlog::debug("kv events: replay request of {} frames ignored", frames.size());
      continue;
    }
    uint64_t start = 0;
    for (char c : frames[2]) start = start << 8 | static_cast<uint8_t>(c);
    const std::string& peer = frames[0];
    auto reply = [&](const char* seq, const std::string& payload) {
      zmq_send(replay_, peer.data(), peer.size(), ZMQ_SNDMORE);
      zmq_send(replay_, "", 0, ZMQ_SNDMORE);
      zmq_send(replay_, seq, kSeqBytes, ZMQ_SNDMORE);
      zmq_send(replay_, payload.data(), payload.size(), 0);
    };
    for (const Kept& k : kept_) {
      if (k.seq < start) continue;
      char seq[kSeqBytes];
      EncodeSeq(static_cast<int64_t>(k.seq), seq);
      reply(seq, k.payload);
    }
    char end[kSeqBytes];
    EncodeSeq(-1, end);
    reply(end, std::string());
  }
}

}  // namespace tierkv
