"""A router's view of tierkvd's KV events (docs/events.md), from a real
subscriber: python3-zmq and python3-msgpack against a real daemon driven by
the real tierkv-bench and tierkv CLI.

The subscriber follows a fill, an eviction of one namespace, demotions (a
fill larger than the host tier, then a flush) and an evict --all, and after
each ends with as many blocks per medium as `tierkv stats` reports. Halfway
it disconnects, misses batches, reconnects, sees the gap in the sequence
numbers and fills it from the replay socket.

Run: TIERKV_BIN_DIR=build/bin /usr/bin/python3 -m pytest tests/integration/kv_events_test.py
"""
import os
import sys
import time

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(__file__))
from tierkvd_process import Tierkvd, tier  # noqa: E402

MEDIUM_OF_TIER = {"gpu": "GPU", "host": "CPU", "nvme": "DISK"}
END_OF_REPLAY = -1
QUIET_MS = 500
SETTLE_DEADLINE_S = 60
REPLAY_WAIT_MS = 5000


class Router:
    """Keeps, per medium, the set of block hashes the stream says are there."""

    def __init__(self, endpoint, replay_endpoint):
        self.ctx = zmq.Context()
        self.endpoint = endpoint
        self.replay_endpoint = replay_endpoint
        self.media = {"GPU": set(), "CPU": set(), "DISK": set()}
        self.last_seq = None
        self.gaps_filled = 0
        self.applied = 0
        self.topics = set()
        self.sub = None
        self.connect()

    def connect(self):
        self.sub = self.ctx.socket(zmq.SUB)
        self.sub.connect(self.endpoint)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"kv@")

    def disconnect(self):
        self.sub.close(linger=0)
        self.sub = None

    def apply(self, seq, payload):
        if self.last_seq is not None and seq <= self.last_seq:
            return  # already applied (replayed, then heard live)
        assert self.last_seq is None or seq == self.last_seq + 1, (self.last_seq, seq)
        ts, events = msgpack.unpackb(payload)
        assert isinstance(ts, float) and ts > 1.6e9, ts
        for event in events:
            kind = event[0]
            if kind == "BlockStored":
                _, hashes, parent, tokens, block_size, lora_id, medium = event
                assert all(isinstance(h, bytes) and len(h) == 16 for h in hashes)
                assert isinstance(parent, bytes) and len(parent) == 16
                assert len(tokens) == block_size * len(hashes)
                assert lora_id is None
                self.media[medium].update(h.hex() for h in hashes)
            elif kind == "BlockRemoved":
                _, hashes, medium = event
                self.media[medium].difference_update(h.hex() for h in hashes)
            elif kind == "AllBlocksCleared":
                for blocks in self.media.values():
                    blocks.clear()
            else:
                raise AssertionError(f"unknown event {event!r}")
        self.last_seq = seq
        self.applied += 1

    def replay(self, start):
        """Applies the batches the replay socket still keeps from `start` on;
        returns how many were new."""
        before = self.applied
        dealer = self.ctx.socket(zmq.DEALER)
        dealer.connect(self.replay_endpoint)
        dealer.send_multipart([b"", start.to_bytes(8, "big")])
        while True:
            assert dealer.poll(REPLAY_WAIT_MS), "no answer from the replay socket"
            empty, seq_bytes, payload = dealer.recv_multipart()
            assert empty == b""
            seq = int.from_bytes(seq_bytes, "big", signed=True)
            if seq == END_OF_REPLAY:
                assert payload == b""
                break
            self.apply(seq, payload)
        dealer.close(linger=0)
        return self.applied - before

    def drain(self):
        """Applies everything published until the stream is quiet."""
        while self.sub.poll(QUIET_MS):
            topic, seq_bytes, payload = self.sub.recv_multipart()
            self.topics.add(topic.decode())
            seq = int.from_bytes(seq_bytes, "big")
            first = self.last_seq is None
            if first or seq > self.last_seq + 1:
                # Missed batches (or joined late): ask for them, then go on.
                filled = self.replay(0 if first else self.last_seq + 1)
                self.gaps_filled += 1 if filled and not first else 0
            self.apply(seq, payload)

    def catch_up(self):
        """Asks the replay socket for anything after the last batch applied:
        what a subscription that is still joining (ZeroMQ's slow joiner) or
        a quiet stream after a gap would otherwise hide."""
        if self.replay(0 if self.last_seq is None else self.last_seq + 1):
            self.gaps_filled += 1

    def counts(self):
        return {medium: len(blocks) for medium, blocks in self.media.items()}


def stats_counts(daemon):
    stats = daemon.stats()
    counts = {"GPU": 0, "CPU": 0, "DISK": 0}
    for name, medium in MEDIUM_OF_TIER.items():
        t = tier(stats, name)
        if t is not None:
            counts[medium] = t["blocks"]
    return counts


def settle(router, daemon):
    """Waits until the stream and stats agree (background NVMe writes may
    still be landing when a command returns) and returns the counts."""
    deadline = time.monotonic() + SETTLE_DEADLINE_S
    while True:
        router.drain()
        want = stats_counts(daemon)
        if router.counts() == want:
            return want
        router.catch_up()
        if router.counts() == want:
            return want
        if time.monotonic() > deadline:
            raise AssertionError(f"router {router.counts()} != stats {want}")


def test_a_router_follows_every_medium_from_the_stream_alone():
    daemon = Tierkvd("--kv-events-endpoint", "tcp://127.0.0.1:*",
                     "--kv-events-replay-endpoint", "tcp://127.0.0.1:*",
                     "--kv-events-node", "node-7", "--kv-events-model", "llama")
    try:
        daemon.start()
        m = daemon.log_match(r"kv events: publishing on (\S+) \(replay on (\S+)\)")
        router = Router(m.group(1), m.group(2))

        # A fill: every block stored on the host.
        daemon.bench("--workload", "fill", "--block-bytes", "64KiB", "--blocks", "256")
        counts = settle(router, daemon)
        assert counts["CPU"] == 256, counts
        assert router.topics == {"kv@node-7@llama"}, router.topics

        # A second namespace, then its eviction: removals of its blocks only.
        daemon.bench("--workload", "fill", "--block-bytes", "128KiB", "--blocks", "64")
        assert settle(router, daemon)["CPU"] == 320
        second = [n for n in daemon.stats()["namespaces"] if n["block_bytes"] == 128 << 10]
        daemon.cli("evict", "--namespace", second[0]["id"])
        assert settle(router, daemon)["CPU"] == 256

        # Demotions: more than the 64 MiB host tier holds moves LRU blocks to
        # NVMe (stored on DISK, then removed from CPU); flush writes the rest.
        daemon.bench("--workload", "fill", "--block-bytes", "64KiB", "--blocks", "1536",
                     "--seed", "2")
        counts = settle(router, daemon)
        assert counts["DISK"] > 0 and counts["CPU"] < 1536 + 256, counts
        daemon.cli("flush")
        counts = settle(router, daemon)
        assert counts["DISK"] >= counts["CPU"], counts

        # A subscriber that was away: the gap shows in the sequence numbers
        # and the replay socket fills it.
        router.disconnect()
        daemon.bench("--workload", "fill", "--block-bytes", "64KiB", "--blocks", "64",
                     "--seed", "3")
        router.connect()
        daemon.bench("--workload", "fill", "--block-bytes", "64KiB", "--blocks", "16",
                     "--seed", "4")
        settle(router, daemon)
        assert router.gaps_filled >= 1

        # Evict everything: every medium ends empty.
        daemon.cli("evict", "--all")
        assert settle(router, daemon) == {"GPU": 0, "CPU": 0, "DISK": 0}
        assert daemon.stop() == 0, daemon.log()
    finally:
        daemon.close()


def test_a_restart_clears_then_restates_what_nvme_kept():
    daemon = Tierkvd("--kv-events-endpoint", "tcp://127.0.0.1:*",
                     "--kv-events-replay-endpoint", "tcp://127.0.0.1:*")
    try:
        daemon.start()
        daemon.bench("--workload", "fill", "--block-bytes", "64KiB", "--blocks", "48")
        assert daemon.stop() == 0  # SIGTERM flushes the host tier to NVMe
        open(daemon.log_path, "w").close()
        daemon.start()
        m = daemon.log_match(r"kv events: publishing on (\S+) \(replay on (\S+)\)")
        router = Router(m.group(1), m.group(2))
        router.drain()  # nothing new is published: joined late, it replays from 0
        if router.last_seq is None:
            router.replay(0)
        assert router.counts() == {"GPU": 0, "CPU": 0, "DISK": 48}, router.counts()
        assert router.counts() == stats_counts(daemon)
        assert daemon.stop() == 0
    finally:
        daemon.close()
