#!/usr/bin/python3
"""The Brown corpus with the 12 universal part-of-speech tags, a held-out
split by file, and the scores of the shipped tagger (tools/train_tagger.sh).

  brown_universal.py split BROWN_DIR OUT_DIR
      Writes OUT_DIR/train/<file> and OUT_DIR/test/<file>: the corpus files,
      one sentence per line as word/TAG with universal tags, and
      OUT_DIR/split.txt (file, genre, part). The test part is every tenth
      file of each genre (cats.txt order by name, from the fifth), so every
      genre is represented in both parts.

  brown_universal.py score TRAIN_DIR TEST_DIR EVAL_TSV
      EVAL_TSV is `rnn-eval tag` on TEST_DIR. Prints, on the tokens that are
      not punctuation (gold tag "."), the tagger's accuracy per token (the
      SPEC tokenizer's tokens, each with the tag of its Brown word: what
      texttagger reports) and per Brown word (its first token's tag; a word
      without a token is wrong), next to the most-frequent-tag baseline (the
      tag a word or token has most often in TRAIN_DIR; unknown: NOUN).

Tag mapping (../shared/data/SOURCES.md): lower-case the Brown tag, remove
the -tl, -hl and -nc suffixes, fw-* is X, then brown-universal.tsv.
Plain python3, no third-party module.
"""
import collections
import os
import re
import sys

SUFFIXES = ("-tl", "-hl", "-nc")
TOKEN = re.compile(r"[^\W_]+")


def load_map(brown_dir):
    table = {}
    with open(os.path.join(brown_dir, "brown-universal.tsv"),
              encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            brown, universal = line.rstrip("\n").split("\t")
            table[brown] = universal
    return table


def universal(tag, table):
    t = tag.lower()
    changed = True
    while changed:
        changed = False
        for s in SUFFIXES:
            if t.endswith(s) and len(t) > len(s):
                t = t[: -len(s)]
                changed = True
    if t.startswith("fw-"):
        return "X"
    if t not in table:
        raise SystemExit("brown tag %r (from %r) is not in brown-universal.tsv"
                         % (t, tag))
    return table[t]


def read_tagged(path):
    """Sentences as lists of (word, tag): one per line, word/TAG items."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            items = line.split()
            if not items:
                continue
            sent = []
            for it in items:
                w, _, t = it.rpartition("/")
                sent.append((w, t))
            out.append(sent)
    return out


def split(brown_dir, out_dir):
    table = load_map(brown_dir)
    genre = {}
    with open(os.path.join(brown_dir, "cats.txt"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                name, g = line.split()
                genre[name] = g
    files = sorted(n for n in os.listdir(brown_dir) if n in genre)
    by_genre = collections.defaultdict(list)
    for n in files:
        by_genre[genre[n]].append(n)
    part = {}
    for g, names in by_genre.items():
        for i, n in enumerate(names):
            part[n] = "test" if i % 10 == 4 else "train"
    for p in ("train", "test"):
        os.makedirs(os.path.join(out_dir, p), exist_ok=True)
    counts = collections.Counter()
    for n in files:
        sents = read_tagged(os.path.join(brown_dir, n))
        with open(os.path.join(out_dir, part[n], n), "w",
                  encoding="utf-8") as f:
            for s in sents:
                f.write(" ".join("%s/%s" % (w, universal(t, table))
                                 for w, t in s) + "\n")
                counts[part[n]] += len(s)
    with open(os.path.join(out_dir, "split.txt"), "w", encoding="utf-8") as f:
        for n in files:
            f.write("%s\t%s\t%s\n" % (n, genre[n], part[n]))
    print("%d files: train %d (%d words), test %d (%d words)" % (
        len(files), sum(1 for n in files if part[n] == "train"),
        counts["train"], sum(1 for n in files if part[n] == "test"),
        counts["test"]))


def read_dir(d):
    out = []
    for n in sorted(os.listdir(d)):
        out.extend(read_tagged(os.path.join(d, n)))
    return out


def most_frequent(pairs):
    c = collections.defaultdict(collections.Counter)
    for k, t in pairs:
        c[k][t] += 1
    # ties: the alphabetically first tag, so the figure is reproducible
    return {k: sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            for k, v in c.items()}


def score(train_dir, test_dir, eval_tsv):
    train = read_dir(train_dir)
    test = read_dir(test_dir)
    word_tag = most_frequent((w, t) for s in train for w, t in s)
    tok_tag = most_frequent((tok, t) for s in train for w, t in s
                            for tok in TOKEN.findall(w))
    train_tokens = set(tok_tag)

    # rnn-eval rows: sentence, word, token, gold, predicted, confidence
    pred = collections.defaultdict(list)   # (sentence, word) -> [(tok, p)]
    with open(eval_tsv, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        assert header[:5] == ["sentence", "word", "token", "gold",
                              "predicted"], header
        for line in f:
            r = line.rstrip("\n").split("\t")
            pred[(int(r[0]), int(r[1]))].append((r[2], r[4], r[3]))

    # the test sentences as rnn-eval numbers them: sentences in file order
    # (rnn-eval reads the directory sorted by name, as read_dir does)
    n = collections.Counter()
    for si, s in enumerate(test):
        for wi, (w, gold) in enumerate(s):
            if gold == ".":
                continue
            rows = pred.get((si, wi), [])
            toks = [r for r in rows if r[0]]
            n["words"] += 1
            n["word_base"] += word_tag.get(w, "NOUN") == gold
            n["word_model"] += bool(toks) and toks[0][1] == gold
            for tok, p, g in toks:
                assert g == gold, (si, wi, g, gold)
                n["tokens"] += 1
                n["tok_model"] += p == gold
                n["tok_base"] += tok_tag.get(tok, "NOUN") == gold
                if tok not in train_tokens:
                    n["tok_unknown"] += 1
                    n["tok_unknown_model"] += p == gold
                    n["tok_unknown_base"] += gold == "NOUN"
    print("held-out, non-punctuation: %d tokens (%d not in the training "
          "files), %d Brown words" % (n["tokens"], n["tok_unknown"],
                                      n["words"]))
    print("per token : tagger %.4f  most-frequent-tag baseline %.4f" % (
        n["tok_model"] / n["tokens"], n["tok_base"] / n["tokens"]))
    print("per word  : tagger %.4f  most-frequent-tag baseline %.4f" % (
        n["word_model"] / n["words"], n["word_base"] / n["words"]))
    if n["tok_unknown"]:
        print("unseen tokens: tagger %.4f  baseline (NOUN) %.4f" % (
            n["tok_unknown_model"] / n["tok_unknown"],
            n["tok_unknown_base"] / n["tok_unknown"]))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "split":
        split(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "score":
        score(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
