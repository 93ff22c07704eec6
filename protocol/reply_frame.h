// The one place a reply frame is built (wire.h has the frame layout): its
// header is written once its body is complete, so the body length is always
// the body's.
//
//   wire::ReplyFrame frame(request, &out);   // header space, then status OK
//   reply.Encode(frame.fields());            // the typed fields
//   if (!s.ok()) frame.Fail(s);              // or: the status alone
//   frame.Finish();                          // header written
//
// Several frames may be appended to one buffer, one after another.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "protocol/wire.h"
#include "tierkv/status.h"

namespace tierkv::wire {

class ReplyFrame {
 public:
  // Starts the reply to `request` at the end of `out`: room for the header,
  // then an OK status.
  ReplyFrame(const FrameHeader& request, std::vector<uint8_t>* out);
  ReplyFrame(const ReplyFrame&) = delete;
  ReplyFrame& operator=(const ReplyFrame&) = delete;

  // Where the reply's fields go (after the status).
  Writer& fields() { return writer_; }
  // Replaces the status and every field written so far with `error`'s status.
  void Fail(const Status& error);
  // Writes the header: the frame is complete.
  void Finish();
  // Removes the frame from `out` (its reply is sent later, from elsewhere).
  void Discard();

 private:
  uint16_t request_type_;
  uint32_t request_id_;
  std::vector<uint8_t>* out_;
  size_t start_;
  Writer writer_;
};

// Appends a whole reply frame: `status`, then, when it is OK, what `fields` writes.
void AppendReply(const FrameHeader& request, const Status& status,
                 const std::function<void(Writer&)>& fields, std::vector<uint8_t>* out);
// Appends an error reply frame (the status alone).
void AppendErrorReply(const FrameHeader& request, const Status& error, std::vector<uint8_t>* out);

}  // namespace tierkv::wire
