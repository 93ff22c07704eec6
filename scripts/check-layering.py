#!/usr/bin/env python3
"""Checks tierkv's include layering (docs/architecture.md, "Layering").

Every quoted include must be spelled from the repository root
("daemon/block_store.h") or, for a public header, as "tierkv/<name>.h" (found
under base/include/ or client/include/). And includes may only point down:

  base/                      includes nothing of the project but base/
  protocol/, tiers/, kernels/ include nothing of client/, daemon/, core/
  client/                    includes nothing of tiers/, daemon/, core/
  python/                    includes only base/ and client/ (libtierkv's public API)

Usage: check-layering.py [ROOT]     exits 1 and lists each violation
       check-layering.py --self-test proves that the check can fail
"""
import os
import re
import sys
import tempfile

SOURCE = re.compile(r"\.(h|cc|c|cu|cuh)$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
PUBLIC_DIRS = {"base/include/": "base", "client/include/": "client"}
FORBIDDEN = {
    "base": {"protocol", "tiers", "kernels", "client", "daemon", "core",
             "tests", "bench", "fuzz"},
    "protocol": {"client", "daemon", "core"},
    "tiers": {"client", "daemon", "core"},
    "kernels": {"client", "daemon", "core"},
    "client": {"tiers", "daemon", "core"},
    "python": {"protocol", "tiers", "kernels", "daemon", "core", "tests", "bench", "fuzz"},
}
SKIPPED_DIRS = {".git", "build", "shared"}


def layer_of(path):
    for prefix, layer in PUBLIC_DIRS.items():
        if path.startswith(prefix):
            return layer
    return path.split("/", 1)[0]


def resolve(root, include):
    """The repository path an include names, or None when it is not rooted."""
    if os.path.isfile(os.path.join(root, include)):
        return include
    for prefix in PUBLIC_DIRS:
        if os.path.isfile(os.path.join(root, prefix, include)):
            return prefix + include
    return None


def sources(root):
    for top, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs
                   if d not in SKIPPED_DIRS and not d.startswith("build")]
        for name in files:
            if SOURCE.search(name):
                yield os.path.relpath(os.path.join(top, name), root)


def violations(root):
    found = []
    for path in sorted(sources(root)):
        layer = layer_of(path)
        with open(os.path.join(root, path), errors="replace") as f:
            text = f.read()
        for include in INCLUDE.findall(text):
            target = resolve(root, include)
            if target is None:
                found.append(f'{path}: "{include}" is not spelled from the '
                             "repository root (nor tierkv/<public header>)")
                continue
            target_layer = layer_of(target)
            if target_layer in FORBIDDEN.get(layer, ()):
                found.append(f'{path}: "{include}" points up ({layer}/ may '
                             f"not include {target_layer}/)")
    return found


def self_test():
    with tempfile.TemporaryDirectory() as root:
        files = {
            "base/include/tierkv/status.h": "",
            "client/include/tierkv/client.h": '#include "tierkv/status.h"\n',
            "protocol/wire.h": '#include "tierkv/client.h"\n',
            "tiers/host/a.h": '#include "b.h"\n',
            "tiers/host/b.h": "",
            "daemon/ok.cc": '#include "protocol/wire.h"\n#include "tierkv/client.h"\n',
        }
        for path, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
            with open(os.path.join(root, path), "w") as f:
                f.write(text)
        found = violations(root)
        expected = ["protocol/wire.h", "tiers/host/a.h"]
        got = sorted(v.split(":", 1)[0] for v in found)
        if got != expected:
            print(f"self-test failed: expected violations in {expected}, got {found}")
            return 1
        print("self-test passed: an upward include and an unrooted include were caught")
        return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    found = violations(os.path.abspath(root))
    for v in found:
        print(v)
    if found:
        print(f"{len(found)} layering violation(s); the rule is in docs/architecture.md")
        return 1
    print("layering: every include is rooted and points down")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
