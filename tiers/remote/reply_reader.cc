#include "tiers/remote/reply_reader.h"

#include <hiredis/hiredis.h>

#include <cstdlib>
#include <cstring>

namespace tierkv::remote {
namespace {

redisReply* NewReply(const redisReadTask* task, int type) {
  auto* reply = static_cast<redisReply*>(std::calloc(1, sizeof(redisReply)));
  if (reply == nullptr) return nullptr;
  reply->type = type;
  if (task->parent != nullptr) {
    auto* parent = static_cast<redisReply*>(task->parent->obj);
    parent->element[task->idx] = reply;
  }
  return reply;
}

void* CreateString(const redisReadTask* task, char* str, size_t len) {
  char* copy = static_cast<char*>(std::malloc(len + 1));
  if (copy == nullptr) return nullptr;
  std::memcpy(copy, str, len);
  copy[len] = '\0';
  redisReply* reply = NewReply(task, task->type);
  if (reply == nullptr) {
    std::free(copy);
    return nullptr;
  }
  reply->str = copy;
  reply->len = len;
  return reply;
}

void* CreateArray(const redisReadTask* task, int elements) {
  if (elements < 0 || elements > kMaxReplyArrayElements) return nullptr;
  redisReply** vector = nullptr;
  if (elements > 0) {
    vector = static_cast<redisReply**>(std::calloc(elements, sizeof(redisReply*)));
    if (vector == nullptr) return nullptr;
  }
  redisReply* reply = NewReply(task, REDIS_REPLY_ARRAY);
  if (reply == nullptr) {
    std::free(vector);
    return nullptr;
  }
  reply->element = vector;
  reply->elements = static_cast<size_t>(elements);
  return reply;
}

void* CreateInteger(const redisReadTask* task, long long value) {
  redisReply* reply = NewReply(task, REDIS_REPLY_INTEGER);
  if (reply != nullptr) reply->integer = value;
  return reply;
}

void* CreateNil(const redisReadTask* task) { return NewReply(task, REDIS_REPLY_NIL); }

redisReplyObjectFunctions kBoundedFunctions = {CreateString, CreateArray, CreateInteger, CreateNil,
                                               freeReplyObject};

}  // namespace

void BoundReplies(redisReader* reader) { reader->fn = &kBoundedFunctions; }

}  // namespace tierkv::remote
