#!/usr/bin/python3
"""Writes the small input files of the rnn-train tests into data/
(deterministic; inputs only, no expected outputs)."""
import json
import math
import os
import random

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "data"))
r = random.Random(3)
# forecast: time column, a value column with 3 blank values, another column
with open("tiny-forecast.csv", "w") as f:
    f.write("t,value,other\n")
    for i in range(240):
        v = math.sin(i * 0.3) + 0.1 * r.uniform(-1, 1)
        o = math.cos(i * 0.1)
        vs = "" if i in (17, 18, 101) else "%.4f" % v
        f.write("%d,%s,%.4f\n" % (i, vs, o))
# no blanks, no header: for the normalisation check
with open("tiny-noheader.csv", "w") as f:
    for i in range(100):
        f.write("%.3f,%.3f\n" % (math.sin(i * 0.2) * 3 + 10, math.cos(i * 0.2)))
# blanks: v = row index, blank on rows 0, 1 and every 7th row (also NA and
# NaN spellings); linear interpolation restores v exactly except at the
# start, which takes the first value (2)
with open("blanks.csv", "w") as f:
    f.write("v,w\n")
    for i in range(100):
        if i in (0, 1) or i % 7 == 3:
            f.write(("", "NA", "NaN")[i % 3] + ",%d\n" % i)
        else:
            f.write("%d,%d\n" % (i, i))
# anomaly: two sensors, two features, a labelled bump in sensor 2
with open("tiny-anomaly.csv", "w") as f:
    f.write("sensor,humidity,temperature,label\n")
    for s in (1, 2):
        for i in range(150):
            h = 40 + 2 * math.sin(i * 0.1 + s) + 0.05 * r.uniform(-1, 1)
            t = 25 + math.cos(i * 0.07) + 0.05 * r.uniform(-1, 1)
            lab = 1 if s == 2 and 100 <= i < 110 else 0
            if lab:
                h += 30
            f.write("%d,%.3f,%.3f,%d\n" % (s, h, t, lab))
# texts: the class is given by one word of a small list
pos = ["good", "great", "lovely", "excellent", "fine"]
neg = ["bad", "awful", "poor", "terrible", "broken"]
filler = ["the", "phone", "was", "really", "this", "film", "food", "is"]
items = []
for i in range(80):
    c = i % 2
    w = [r.choice(filler) for _ in range(r.randint(1, 4))]
    w.insert(r.randint(0, len(w)), r.choice(pos if c else neg))
    items.append({"text": " ".join(w).capitalize() + ".", "class": c})
items.append({"text": "", "class": None})
with open("tiny-texts.json", "w") as f:
    json.dump(items, f)
with open("tiny-texts.jsonl", "w") as f:
    for it in items[:-1]:
        f.write(json.dumps({"text": it["text"],
                            "label": "pos" if it["class"] else "neg"}) + "\n")
with open("tiny-texts.tsv", "w") as f:
    f.write("text\tlabel\n")
    for it in items[:-1]:
        f.write("%s\t%s\n" % (it["text"], "pos" if it["class"] else "neg"))
# malformed inputs
open("bad-number.csv", "w").write("a,b\n1,2\n3,4\n5,x7\n")
open("bad-fields.csv", "w").write("1,2\n3,4\n5\n")
open("bad-texts.jsonl", "w").write(
    '{"text": "ok", "class": 1}\n{"text": "ok too", "class": 0}\n'
    '{"text": "broken", "class": \n')
open("bad-texts.tsv", "w").write("fine\t1\nno tab here\n")
open("bad-texts.json", "w").write(
    '[{"text": "a", "class": 1}, {"text": 5, "class": 0}]')
# tagged sentences: a word's tag is decided by its context for the
# ambiguous words (a noun after a determiner, a verb after a pronoun);
# Brown-style word/TAG lines, and the same as two CoNLL files
dets, prons = ["the", "a", "this"], ["she", "they", "we", "I"]
nouns = ["dog", "cat", "house", "river", "music"]
verbs = ["saw", "likes", "heard", "found"]
ambig = ["fish", "run", "can", "watch"]
sents = []
for i in range(240):
    s = []
    if r.random() < 0.5:
        s += [(r.choice(dets), "DET"), (r.choice(nouns + ambig), "NOUN"),
              (r.choice(verbs), "VERB")]
    else:
        s += [(r.choice(prons), "PRON"), (r.choice(ambig + verbs), "VERB")]
    s += [(r.choice(dets), "DET"), (r.choice(nouns + ambig), "NOUN")]
    if i % 7 == 0:
        s += [(",", "."), ("it", "PRON"), ("isn't", "VERB"), ("red", "ADJ")]
    s[0] = (s[0][0].capitalize(), s[0][1])
    s.append((".", "."))
    sents.append(s)
with open("tiny-tagged.txt", "w") as f:
    f.write("\n")
    for s in sents:
        f.write("\t" + " ".join("%s/%s" % wt for wt in s) + "\n\n")
os.makedirs("tiny-conll", exist_ok=True)
for part, rows in (("a.conll", sents[:120]), ("b.conll", sents[120:])):
    with open(os.path.join("tiny-conll", part), "w") as f:
        f.write("-DOCSTART-\tO\n\n")
        for s in rows:
            for w, t in s:
                f.write("%s\t%s\n" % (w, t))
            f.write("\n")
open("bad-tagged.txt", "w").write("The/DET dog/NOUN\nruns/VERB fast\n")
open("bad-conll.txt", "w").write("The\tDET\ndog\tNOUN\n\nnotab\n")
# words never seen in tiny-tagged.txt, for the unknown-word classes
with open("tiny-tagged-unseen.txt", "w") as f:
    f.write("Jackson's/NOUN zebra/NOUN saw/VERB the/DET B52/NOUN ./.\n")
    f.write("NASA/NOUN likes/VERB walking/VERB in/ADP 1961/NUM ./.\n")
    f.write("The/DET Dog/NOUN found/VERB \xe9t\xe9s/NOUN ,/. "
            "we/PRON can't/VERB ./.\n")
    f.write("--/. ,/. ./.\n")
