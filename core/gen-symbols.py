#!/usr/bin/env python3
# Write the linker version script of the shared engine library: every
# function declared in the public header rnn.h is exported, nothing else.
#   gen-symbols.py rnn.h out.map
import re
import sys

src = open(sys.argv[1], encoding="utf-8").read()
src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)   # comments name functions too
src = re.sub(r"//[^\n]*", " ", src)
names = sorted(set(re.findall(r"\b(rnn_[A-Za-z0-9_]+)\s*\(", src)))
if not names:
    sys.exit("gen-symbols.py: no rnn_ function found in " + sys.argv[1])
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.write("/* generated from rnn.h by gen-symbols.py */\nRNN_0 {\n  global:\n")
    for n in names:
        out.write("    %s;\n" % n)
    out.write("  local:\n    *;\n};\n")
