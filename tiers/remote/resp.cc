#include "tiers/remote/resp.h"

#include <charconv>

#include "tiers/remote/key_slot.h"

namespace tierkv::remote {
namespace {

void AppendLength(std::string& out, char type, size_t n) {
  out.push_back(type);
  out += std::to_string(n);
  out += "\r\n";
}

void AppendBulk(std::string& out, std::string_view arg) {
  AppendLength(out, '$', arg.size());
  out += arg;
  out += "\r\n";
}

}  // namespace

void AppendCommand(std::string& out, std::initializer_list<std::string_view> args) {
  AppendLength(out, '*', args.size());
  for (std::string_view arg : args) AppendBulk(out, arg);
}

Command MakeCommand(std::initializer_list<std::string_view> args) {
  Command command;
  AppendCommand(command.head, args);
  return command;
}

Command MakeCommandWithBody(std::initializer_list<std::string_view> args,
                            std::string_view last_prefix, std::span<const std::byte> body) {
  Command command;
  AppendLength(command.head, '*', args.size() + 1);
  for (std::string_view arg : args) AppendBulk(command.head, arg);
  AppendLength(command.head, '$', last_prefix.size() + body.size());
  command.head += last_prefix;
  if (body.empty()) {
    command.head += "\r\n";
  } else {
    command.body = body;
  }
  return command;
}

ErrorKind ClassifyError(std::string_view error) {
  const std::string_view word = error.substr(0, error.find(' '));
  if (word == "MOVED") return ErrorKind::kMoved;
  if (word == "ASK") return ErrorKind::kAsk;
  if (word == "TRYAGAIN" || word == "CLUSTERDOWN" || word == "LOADING" || word == "MASTERDOWN") {
    return ErrorKind::kRetry;
  }
  if (word == "READONLY") return ErrorKind::kReadOnly;
  if (word == "OOM") return ErrorKind::kOutOfMemory;
  if (word == "NOAUTH" || word == "WRONGPASS" || word == "NOPERM") return ErrorKind::kAuth;
  // Redis 7 answers a large request from an unauthenticated client with this
  // (and closes the connection) rather than NOAUTH.
  if (error.find("Protocol error: unauthenticated") != std::string_view::npos) {
    return ErrorKind::kAuth;
  }
  if (word == "WRONGTYPE") return ErrorKind::kWrongType;
  return ErrorKind::kOther;
}

Result<Redirect> ParseRedirect(std::string_view error) {
  const size_t first = error.find(' ');
  const size_t second = first == std::string_view::npos ? first : error.find(' ', first + 1);
  if (second == std::string_view::npos) {
    return Status::ProtocolError("malformed redirect \"" + std::string(error) + "\"");
  }
  std::string_view slot_text = error.substr(first + 1, second - first - 1);
  uint32_t slot = 0;
  auto [ptr, ec] = std::from_chars(slot_text.data(), slot_text.data() + slot_text.size(), slot);
  if (ec != std::errc() || ptr != slot_text.data() + slot_text.size() || slot >= kClusterSlots) {
    return Status::ProtocolError("malformed redirect slot in \"" + std::string(error) + "\"");
  }
  auto target = ParseHostPort(error.substr(second + 1));
  if (!target.ok()) {
    return Status::ProtocolError("malformed redirect address in \"" + std::string(error) +
                                 "\": " + std::string(target.status().message()));
  }
  return Redirect{static_cast<uint16_t>(slot), *target};
}

}  // namespace tierkv::remote
