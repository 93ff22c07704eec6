#include "protocol/stats_document.h"

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

namespace tierkv::wire {
namespace {

using nlohmann::json;

// ---- The schema: run by Encoder (over const values) and Decoder. ----

template <typename V, typename T>
void VisitHostTier(V& v, T& h) {
  v.Field("huge_pages", h.huge_pages);
}

template <typename V, typename T>
void VisitGpuTier(V& v, T& g) {
  v.Field("copies_in_flight", g.copies_in_flight);
  v.Field("copy_errors", g.copy_errors);
}

template <typename V, typename T>
void VisitNvmeTier(V& v, T& n) {
  v.Field("file_bytes", n.file_bytes);
  v.Field("bytes_read", n.bytes_read);
  v.Field("bytes_written", n.bytes_written);
  v.Field("queue_depth", n.queue_depth);
  v.Field("queued", n.queued);
  v.Field("read_bytes_per_s", n.read_bytes_per_s);
  v.Field("write_bytes_per_s", n.write_bytes_per_s);
  v.Field("read_errors", n.read_errors);
  v.Field("write_errors", n.write_errors);
  v.Field("corrupt_dropped", n.corrupt_dropped);
  v.Field("loaded_blocks", n.loaded_blocks);
  v.Field("dropped_at_load", n.dropped_at_load);
}

template <typename V, typename T>
void VisitRemoteNode(V& v, T& n) {
  v.Field("address", n.address);
  v.Field("state", n.state);
  v.Field("reason", n.reason);
  v.Field("slots", n.slots);
}

template <typename V, typename T>
void VisitRemoteTier(V& v, T& r) {
  v.Field("state", r.state);
  v.Field("reason", r.reason);
  v.Field("write_policy", r.write_policy);
  v.List("nodes", r.nodes, [](V& nv, auto& n) { VisitRemoteNode(nv, n); });
  v.Field("blocks_read", r.blocks_read);
  v.Field("blocks_written", r.blocks_written);
  v.Field("bytes_read", r.bytes_read);
  v.Field("bytes_written", r.bytes_written);
  v.Field("errors", r.errors);
  v.Field("corrupt_dropped", r.corrupt_dropped);
  v.Field("timeouts", r.timeouts);
  v.Field("reconnects", r.reconnects);
  v.Field("queue_depth", r.queue_depth);
  v.Field("write_bytes_queued", r.write_bytes_queued);
  v.Field("write_overflows", r.write_overflows);
  v.Field("promotions", r.promotions);
}

template <typename V, typename T>
void VisitTier(V& v, T& t) {
  v.Field("name", t.name);
  v.Field("capacity_bytes", t.capacity_bytes);
  v.Field("used_bytes", t.used_bytes);
  v.Field("blocks", t.blocks);
  v.Field("pinned_blocks", t.pinned_blocks);
  v.Field("hits", t.hits);
  v.Field("misses", t.misses);
  v.Field("evictions", t.evictions);
  v.Field("bytes_in", t.bytes_in);
  v.Field("bytes_out", t.bytes_out);
  v.Part("host", t.name, t.host, [](V& pv, auto& h) { VisitHostTier(pv, h); });
  v.Part("gpu", t.name, t.gpu, [](V& pv, auto& g) { VisitGpuTier(pv, g); });
  v.Part("nvme", t.name, t.nvme, [](V& pv, auto& n) { VisitNvmeTier(pv, n); });
  v.Part("remote", t.name, t.remote, [](V& pv, auto& r) { VisitRemoteTier(pv, r); });
}

template <typename V, typename T>
void VisitNamespace(V& v, T& n) {
  v.Field("id", n.id_hex);
  v.Field("handle", n.handle);
  v.Field("tenant", n.tenant);
  v.Field("model_fingerprint", n.model_fingerprint);
  v.Field("block_tokens", n.block_tokens);
  v.Field("block_bytes", n.block_bytes);
  v.Field("blocks", n.blocks);
  v.Field("hits", n.hits);
  v.Field("misses", n.misses);
}

template <typename V, typename T>
void VisitGpuTierState(V& v, T& g) {
  v.Field("enabled", g.enabled);
  v.Field("device", g.device);
  v.Field("reason", g.reason);
}

template <typename V, typename T>
void VisitStats(V& v, T& s) {
  v.Field("version", s.version);
  v.Field("uptime_s", s.uptime_s);
  v.Field("connections", s.connections);
  v.Field("indexed_blocks", s.indexed_blocks);
  v.Field("promotions", s.promotions);
  v.Field("demotions", s.demotions);
  v.Field("dropped_blocks", s.dropped_blocks);
  v.Field("rss_anon_bytes", s.rss_anon_bytes);
  v.List("tiers", s.tiers, [](V& ev, auto& t) { VisitTier(ev, t); });
  v.Object("gpu_tier", s.gpu_tier, [](V& ov, auto& g) { VisitGpuTierState(ov, g); });
  v.List("namespaces", s.namespaces, [](V& ev, auto& n) { VisitNamespace(ev, n); });
  v.Field("namespaces_omitted", s.namespaces_omitted);
}

// ---- Encoding. ----

class Encoder {
 public:
  explicit Encoder(json* out) : out_(out) {}

  template <typename T>
  void Field(const char* name, const T& value) {
    (*out_)[name] = value;
  }
  template <typename T>
  void Field(const char* name, const std::optional<T>& value) {
    if (value) (*out_)[name] = *value;
  }
  // A tier's own fields sit beside the common ones.
  template <typename T, typename F>
  void Part(const char*, const std::string&, const std::optional<T>& part, F visit) {
    if (part) visit(*this, *part);
  }
  template <typename T, typename F>
  void Object(const char* name, const T& value, F visit) {
    json object = json::object();
    Encoder e(&object);
    visit(e, value);
    (*out_)[name] = std::move(object);
  }
  template <typename T, typename F>
  void List(const char* name, const std::vector<T>& items, F visit) {
    json list = json::array();
    for (const T& item : items) {
      json object = json::object();
      Encoder e(&object);
      visit(e, item);
      list.push_back(std::move(object));
    }
    (*out_)[name] = std::move(list);
  }

 private:
  json* out_;
};

// ---- Decoding. ----

class Decoder {
 public:
  Decoder(const json* in, std::string path) : in_(in), path_(std::move(path)) {}

  const Status& status() const { return status_; }

  void Field(const char* name, uint64_t& value) {
    if (const json* j = Find(name, &json::is_number_unsigned, "an unsigned number")) {
      value = j->get<uint64_t>();
    }
  }
  void Field(const char* name, uint32_t& value) {
    const json* j = Find(name, &json::is_number_unsigned, "an unsigned number");
    if (!j) return;
    if (j->get<uint64_t>() > std::numeric_limits<uint32_t>::max()) {
      Fail(name, "a 32-bit unsigned number");
      return;
    }
    value = j->get<uint32_t>();
  }
  void Field(const char* name, double& value) {
    if (const json* j = Find(name, &json::is_number, "a number")) value = j->get<double>();
  }
  void Field(const char* name, bool& value) {
    if (const json* j = Find(name, &json::is_boolean, "true or false")) value = j->get<bool>();
  }
  void Field(const char* name, std::string& value) {
    if (const json* j = Find(name, &json::is_string, "a string")) value = j->get<std::string>();
  }
  void Field(const char* name, std::optional<std::string>& value) {
    if (const json* j = Find(name, &json::is_string, "a string")) value = j->get<std::string>();
  }
  // The tier whose name is `tier` has this part.
  template <typename T, typename F>
  void Part(const char* tier, const std::string& name, std::optional<T>& part, F visit) {
    if (name != tier) return;
    part.emplace();
    visit(*this, *part);
  }
  template <typename T, typename F>
  void Object(const char* name, T& value, F visit) {
    const json* j = Find(name, &json::is_object, "an object");
    if (!j) return;
    Decoder d(j, path_ + name + ".");
    visit(d, value);
    Merge(d);
  }
  template <typename T, typename F>
  void List(const char* name, std::vector<T>& items, F visit) {
    const json* j = Find(name, &json::is_array, "a list");
    if (!j) return;
    for (size_t i = 0; i < j->size() && status_.ok(); ++i) {
      const std::string at = path_ + name + "[" + std::to_string(i) + "]";
      if (!(*j)[i].is_object()) {
        status_ = Status::ProtocolError("stats field " + at + " is not an object");
        return;
      }
      T item;
      Decoder d(&(*j)[i], at + ".");
      visit(d, item);
      Merge(d);
      items.push_back(std::move(item));
    }
  }

 private:
  // The field `name` when present and of the right kind; nullptr when absent
  // (a default stays) or wrong (and the decoder fails).
  const json* Find(const char* name, bool (json::*is_kind)() const noexcept, const char* kind) {
    if (!status_.ok()) return nullptr;
    auto it = in_->find(name);
    if (it == in_->end()) return nullptr;
    if (!((*it).*is_kind)()) {
      Fail(name, kind);
      return nullptr;
    }
    return &*it;
  }
  void Fail(const char* name, const char* kind) {
    status_ = Status::ProtocolError("stats field " + path_ + name + " is not " + kind);
  }
  void Merge(const Decoder& child) {
    if (status_.ok() && !child.status_.ok()) status_ = child.status_;
  }

  const json* in_;
  std::string path_;
  Status status_;
};

}  // namespace

std::string EncodeStats(const Stats& stats) {
  json doc = json::object();
  Encoder e(&doc);
  VisitStats(e, stats);
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<Stats> DecodeStats(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::ProtocolError("stats reply is not a JSON object");
  }
  Stats stats;
  Decoder d(&doc, "");
  VisitStats(d, stats);
  if (!d.status().ok()) return d.status();
  stats.raw_json = std::string(text);
  return stats;
}

}  // namespace tierkv::wire
