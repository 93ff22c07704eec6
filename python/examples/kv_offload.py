#!/usr/bin/python3
"""Offload a prompt's KV cache to tierkvd and load it back, as a serving engine
(vLLM, SGLang) would around a prefill.

Each block's KV is a torch tensor shaped [layers, 2, block_tokens, kv_heads,
head_dim] in f16 (K and V of every layer for the block's tokens). The engine:

1. computes the prompt's key chain (locally, no round trip) and asks how many
   leading blocks are cached;
2. stores the blocks that are not, block by block, writing each straight into
   a slot of the daemon's shared pool (zero copy: ``Reservation.tensor``);
3. later (another request, another process) loads the cached prefix back,
   copying each leased block once, out of the pool into its own KV tensor;

and this example checks the reloaded KV byte for byte.

    PYTHONPATH=build/python /usr/bin/python3 python/examples/kv_offload.py --address /tmp/tierkv.sock
"""

import argparse
import math
import sys

import torch
import tierkv


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--address", default=tierkv.DEFAULT_ADDRESS,
                   help="daemon address: socket path, unix:PATH or tcp:HOST:PORT")
    p.add_argument("--model", default="kv-offload-example", help="model fingerprint")
    p.add_argument("--blocks", type=int, default=8, help="prompt length in blocks")
    p.add_argument("--block-tokens", type=int, default=16)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--kv-heads", type=int, default=4)
    p.add_argument("--head-dim", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def main() -> int:
    args = parse_args()
    torch.manual_seed(args.seed)
    shape = (args.layers, 2, args.block_tokens, args.kv_heads, args.head_dim)
    block_bytes = math.prod(shape) * torch.finfo(torch.float16).bits // 8

    client = tierkv.connect(args.address)
    ns = client.namespace(model=args.model, block_tokens=args.block_tokens,
                          block_bytes=block_bytes, kv_dtype="f16",
                          layout="layers,kv,tokens,kv_heads,head_dim")

    # The prompt and the KV the engine computed for it, one tensor per block.
    prompt = torch.randint(0, 32000, (args.blocks * args.block_tokens,))
    kv = [torch.randn(shape, dtype=torch.float16) for _ in range(args.blocks)]

    chain = ns.keys(prompt)
    cached = ns.lookup(chain)
    # Store the blocks not cached yet, each written in place into its slot.
    with ns.reserve(chain[cached:]) as slots:
        for i in range(len(slots)):
            slot = slots.tensor(i, torch.float16, shape)
            if slot is not None:  # None: another engine stored this block meanwhile
                slot.copy_(kv[cached + i])
    print(f"stored {len(chain) - cached} blocks of {block_bytes} bytes "
          f"({cached} were cached already) over {'unix' if client.local else 'tcp'}")

    # Load the cached prefix back: one copy per block, out of the pinned pool.
    n = ns.lookup(chain, prefetch=True)
    reloaded = torch.empty((n, *shape), dtype=torch.float16)
    with ns.acquire(chain, max_blocks=n) as lease:
        for i in range(len(lease)):
            reloaded[i].copy_(lease.tensor(i, torch.float16, shape))

    mismatched = [i for i in range(n)
                  if not torch.equal(reloaded[i].view(torch.int16), kv[i].view(torch.int16))]
    client.close()
    if n != args.blocks or mismatched:
        print(f"FAIL: reloaded {n} of {args.blocks} blocks, mismatched {mismatched}",
              file=sys.stderr)
        return 1
    print(f"reloaded {n} blocks, byte for byte equal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
