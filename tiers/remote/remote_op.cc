#include "tiers/remote/remote_op.h"

#include <string>

namespace tierkv::remote {

Command FormatOp(const RemoteOp& op, bool asking) {
  Command command;
  switch (op.kind) {
    case OpKind::kGet:
      command = MakeCommand({"GET", op.name});
      break;
    case OpKind::kProbe: {
      const std::string last = std::to_string(RemotePrefixBytes(op.block.tokens.size()) - 1);
      command = MakeCommand({"GETRANGE", op.name, "0", last});
      break;
    }
    case OpKind::kPut: {
      std::string prefix;
      AppendValuePrefix(op.block, op.payload, prefix);
      command = MakeCommandWithBody({"SET", op.name}, prefix, op.payload);
      break;
    }
    case OpKind::kDelete:
      command = MakeCommand({"DEL", op.name});
      break;
  }
  if (asking) {
    std::string head;
    AppendCommand(head, {"ASKING"});
    command.head.insert(0, head);
    ++command.replies;
  }
  return command;
}

}  // namespace tierkv::remote
