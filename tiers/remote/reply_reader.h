// Bounds on what hiredis's reply reader builds from an untrusted server.
// hiredis 0.14 allocates an array reply's element vector as soon as it reads
// the count ("*2000000000\r\n"), before any element arrives; these reply
// functions refuse counts above kMaxReplyArrayElements instead (the reader
// then fails with "Out of memory" and the connection is closed). Bulk strings
// need no such bound here: hiredis builds one only once all its bytes have
// arrived, and NodeConnection bounds the bytes it buffers. Replies are the
// usual redisReply trees; free them with freeReplyObject.
//
// Thread safety: a reader is used by one thread; the functions keep no state.
#pragma once

#include <cstddef>

struct redisReader;

namespace tierkv::remote {

// CLUSTER SLOTS for a cluster of one slot per range has 16384 ranges.
inline constexpr int kMaxReplyArrayElements = 1 << 16;

// Makes `reader` build replies with the bounded functions. Call before
// feeding it anything.
void BoundReplies(redisReader* reader);

}  // namespace tierkv::remote
