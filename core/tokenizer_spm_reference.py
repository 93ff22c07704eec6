#!/usr/bin/python3
"""What Debian's python3-sentencepiece makes of a corpus, for tokenizer_spm_test.

Trains a small BPE SentencePiece model on CORPUS the way Llama's tokenizer.model
is built (byte fallback, identity normalization, extra whitespace kept, digits
split, whitespace-only pieces allowed), then encodes and decodes every line.

usage: tokenizer_spm_reference.py CORPUS OUT_DIR VOCAB_SIZE
writes OUT_DIR/spm.model, OUT_DIR/ids.txt (one line of comma-separated ids per
corpus line) and OUT_DIR/decoded.txt (the decoding of each line's ids).
"""
import os
import sys

import sentencepiece as spm


def main():
    corpus, out_dir, vocab_size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    prefix = os.path.join(out_dir, "spm")
    spm.SentencePieceTrainer.train(
        input=corpus,
        model_prefix=prefix,
        vocab_size=vocab_size,
        model_type="bpe",
        byte_fallback=True,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        add_dummy_prefix=True,
        split_digits=True,
        allow_whitespace_only_pieces=True,
        # Rare characters stay out of the vocabulary: they exercise byte fallback.
        character_coverage=0.999,
        max_sentence_length=1 << 16,
        num_threads=1,
        minloglevel=2,
    )
    sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    with open(corpus, encoding="utf-8", newline="\n") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    with open(os.path.join(out_dir, "ids.txt"), "w", encoding="utf-8") as ids_out, open(
        os.path.join(out_dir, "decoded.txt"), "w", encoding="utf-8", newline="\n"
    ) as text_out:
        for line in lines:
            ids = sp.encode(line)
            ids_out.write(",".join(str(i) for i in ids) + "\n")
            text_out.write(sp.decode(ids) + "\n")


if __name__ == "__main__":
    main()
