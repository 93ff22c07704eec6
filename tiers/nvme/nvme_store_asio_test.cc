// How the daemon drives the store: one Boost.Asio io_context thread owns it,
// waits on its eventfd with a posix::stream_descriptor and reaps on wake-up.
// No thread blocks on payload IO; the test only ends when io_context::run()
// runs out of work, i.e. when every callback has run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

#include "tiers/nvme/testing/store_fixture.h"

namespace tierkv::nvme {
namespace {

using boost::asio::posix::stream_descriptor;
using testing::TestKey;
using testing::TestMeta;
using testing::TestPayload;

// Re-arms a wait on the store's eventfd until `done()` says stop.
class CompletionPump {
 public:
  CompletionPump(boost::asio::io_context& io, NvmeStore& store, std::function<bool()> done)
      // The descriptor owns a dup, so closing it leaves the store's fd alone.
      : store_(store), events_(io, ::dup(store.event_fd())), done_(std::move(done)) {}

  void Arm() {
    events_.async_wait(stream_descriptor::wait_read, [this](boost::system::error_code ec) {
      if (ec) return;
      store_.ReapCompletions();
      if (!done_()) Arm();
    });
  }

 private:
  NvmeStore& store_;
  stream_descriptor events_;
  std::function<bool()> done_;
};

class NvmeStoreAsioTest : public testing::NvmeStoreFixture {};

TEST_F(NvmeStoreAsioTest, EventLoopDrivesWritesThenReadsWithoutBlocking) {
  constexpr int kBlocks = 32;
  Open(SmallOptions(/*capacity=*/4 << 20));
  boost::asio::io_context io;
  std::vector<std::vector<std::byte>> in, out(kBlocks, std::vector<std::byte>(kBlock));
  for (int i = 0; i < kBlocks; ++i) in.push_back(TestPayload(i, kBlock));
  int written = 0, read = 0;
  CompletionPump pump(io, *store_, [&] { return read == kBlocks; });

  boost::asio::post(io, [&] {
    for (int i = 0; i < kBlocks; ++i) {
      ASSERT_TRUE(store_
                      ->Write(TestMeta(i), in[i],
                              [&, i](Status s) {
                                ASSERT_TRUE(s.ok()) << s.ToString();
                                ++written;
                                // Read each block back as soon as it is durable.
                                ASSERT_TRUE(store_
                                                ->Read(TestKey(i), out[i],
                                                       [&](Status r) {
                                                         EXPECT_TRUE(r.ok()) << r.ToString();
                                                         ++read;
                                                       })
                                                .ok());
                              })
                      .ok());
    }
    pump.Arm();
  });
  io.run();
  EXPECT_EQ(written, kBlocks);
  EXPECT_EQ(read, kBlocks);
  EXPECT_EQ(in, out);
  EXPECT_EQ(store_->Stats().queue_depth, 0u);
}

}  // namespace
}  // namespace tierkv::nvme
