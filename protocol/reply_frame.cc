#include "protocol/reply_frame.h"

#include "protocol/messages.h"

namespace tierkv::wire {

ReplyFrame::ReplyFrame(const FrameHeader& request, std::vector<uint8_t>* out)
    : request_type_(request.type),
      request_id_(request.request_id),
      out_(out),
      start_(out->size()),
      writer_(out) {
  out_->resize(start_ + kHeaderBytes);
  EncodeStatus(writer_, Status::Ok());
}

void ReplyFrame::Fail(const Status& error) {
  out_->resize(start_ + kHeaderBytes);
  EncodeStatus(writer_, error);
}

void ReplyFrame::Finish() {
  FrameHeader h;
  h.type = request_type_ | kReplyBit;
  h.request_id = request_id_;
  h.body_bytes = static_cast<uint32_t>(out_->size() - start_ - kHeaderBytes);
  EncodeHeader(h, out_->data() + start_);
}

void ReplyFrame::Discard() { out_->resize(start_); }

void AppendReply(const FrameHeader& request, const Status& status,
                 const std::function<void(Writer&)>& fields, std::vector<uint8_t>* out) {
  ReplyFrame frame(request, out);
  if (status.ok()) {
    fields(frame.fields());
  } else {
    frame.Fail(status);
  }
  frame.Finish();
}

void AppendErrorReply(const FrameHeader& request, const Status& error, std::vector<uint8_t>* out) {
  ReplyFrame frame(request, out);
  frame.Fail(error);
  frame.Finish();
}

}  // namespace tierkv::wire
