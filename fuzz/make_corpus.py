#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/.

Deterministic, standard library only (any python3). Seeds are small: a few
valid model files copied from tests/fixtures, hand-made malformed
safetensors files (one per validation rule), texts (Unicode, invalid UTF-8,
markup) and CSV snippets, each prefixed with the control bytes its target
reads (see the comment at the top of each fuzz-*.c).
"""
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "tests", "fixtures")
OUT = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def st(header, data=b"", pad=True):
    """A safetensors file from a header dict (or raw header bytes)."""
    h = header if isinstance(header, bytes) else json.dumps(header).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def f32(*v):
    return struct.pack("<%df" % len(v), *v)


# ------------------------------------------------------------------ models
MODEL_FIXTURES = [
    "models/rnn_relu.safetensors", "models/forecaster_f16.safetensors",
    "models/forecaster_bf16.safetensors", "models/forecaster_f64.safetensors",
    "models/gru_anomaly.safetensors", "models/gru_bi_final.safetensors",
    "models/rnn_mean.safetensors", "models/lstm_nobias.safetensors",
    "text/forecast.safetensors", "text/noembed.safetensors",
    "elements/an_bad.safetensors", "elements/an_lstm.safetensors",
    "elements/fc_gru.safetensors", "core/lstm_1l.safetensors",
    "core/gru_1l_nobias.safetensors",
    "bad/no_rnn.safetensors", "bad/nonlinearity.safetensors",
    "bad/cell_vs_nonlin.safetensors", "bad/proj_gru.safetensors",
    "bad/anomaly_std_len.safetensors", "bad/two_rnn_modules.safetensors",
    "bad/head_both_single.safetensors", "bad/labels_sigmoid.safetensors",
    "bad/vocab_missing.safetensors", "bad/unk_range.safetensors",
]
os.makedirs(os.path.join(OUT, "fuzz-model"), exist_ok=True)
for rel in MODEL_FIXTURES:
    src = os.path.join(FIX, rel)
    if os.path.exists(src):
        shutil.copyfile(src, os.path.join(OUT, "fuzz-model",
                                          "fix-" + rel.replace("/", "-")))

one = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
rnn_ok = {  # a valid 1-layer tanh RNN, input 1, hidden 1, head 1
    "__metadata__": {"task": "forecast"},
    "rnn.weight_ih_l0": {"dtype": "F32", "shape": [1, 1], "data_offsets": [0, 4]},
    "rnn.weight_hh_l0": {"dtype": "F32", "shape": [1, 1], "data_offsets": [4, 8]},
    "rnn.bias_ih_l0": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]},
    "rnn.bias_hh_l0": {"dtype": "F32", "shape": [1], "data_offsets": [12, 16]},
    "fc.weight": {"dtype": "F32", "shape": [1, 1], "data_offsets": [16, 20]},
    "fc.bias": {"dtype": "F32", "shape": [1], "data_offsets": [20, 24]},
}
rnn_data = f32(0.5, -0.25, 0.1, 0.2, 2.0, -1.0)
models = {
    "empty": b"",
    "short-len": b"\x08\x00\x00",
    "len-only": struct.pack("<Q", 0),
    "len-huge": struct.pack("<Q", 1 << 63) + b"{}",
    "len-past-end": struct.pack("<Q", 100) + b"{}",
    "header-empty-object": st({}),
    "header-not-object": st(b"[1,2,3]"),
    "header-not-json": st(b"{\"a\":"),
    "header-bad-utf8": st(b"{\"\xff\xfe\":{}}"),
    "header-nul": st(b"{\"a\x00\":1}"),
    "tensor-ok": st({"t": one}, f32(1, 2)),
    "offsets-gap": st({"t": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}},
                      f32(0, 1)),
    "offsets-overlap": st({"a": one, "b": one}, f32(1, 2)),
    "offsets-reversed": st({"t": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}},
                           f32(1, 2)),
    "offsets-past-end": st({"t": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}},
                           f32(1, 2)),
    "trailing-bytes": st({"t": one}, f32(1, 2) + b"xx"),
    "shape-mismatch": st({"t": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}},
                         f32(1, 2)),
    "shape-overflow": st({"t": {"dtype": "F32",
                                "shape": [4294967296, 4294967296, 16],
                                "data_offsets": [0, 0]}}),
    "shape-negative": st({"t": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}},
                         f32(1, 2)),
    "shape-float": st({"t": {"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]}},
                      f32(1, 2)),
    "shape-9-dims": st({"t": {"dtype": "F32", "shape": [1] * 9, "data_offsets": [0, 4]}},
                       f32(1)),
    "scalar": st({"t": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}}, f32(3)),
    "zero-size": st({"t": {"dtype": "F32", "shape": [0, 3], "data_offsets": [0, 0]}}),
    "dtype-unknown": st({"t": {"dtype": "Q7", "shape": [2], "data_offsets": [0, 8]}},
                        f32(1, 2)),
    "dtypes": st({"a": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]},
                  "b": {"dtype": "BF16", "shape": [2], "data_offsets": [4, 8]},
                  "c": {"dtype": "F64", "shape": [1], "data_offsets": [8, 16]},
                  "d": {"dtype": "I64", "shape": [1], "data_offsets": [16, 24]},
                  "e": {"dtype": "BOOL", "shape": [3], "data_offsets": [24, 27]},
                  "f": {"dtype": "U8", "shape": [1], "data_offsets": [27, 28]}},
                 b"\x00\x3c\x00\xc0" + b"\x80\x3f\x00\x7f" + struct.pack("<d", 1e300)
                 + struct.pack("<q", -5) + b"\x01\x00\x01" + b"\xff"),
    "duplicate-name": st(b'{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                         b'"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', f32(1, 2)),
    "metadata-not-string": st({"__metadata__": {"task": 3}, "t": one}, f32(1, 2)),
    "metadata-not-object": st({"__metadata__": [1], "t": one}, f32(1, 2)),
    "json-deep": st(b"{\"__metadata__\":" + b"[" * 5000 + b"]" * 5000 + b"}"),
    "json-escapes": st(b'{"__metadata__":{"labels":"[\\"\\ud83d\\ude00\\",\\"\\ud800\\",'
                       b'\\"a\\\\u0000b\\"]","k\\u00e9":"\\/\\b\\f\\n\\r\\t"}}'),
    "json-numbers": st(b'{"t":{"dtype":"F32","shape":[1e0],"data_offsets":[0,4.0]}}', f32(1)),
    "json-extra-key": st({"t": dict(one, extra=1)}, f32(1, 2)),
    "rnn-ok": st(rnn_ok, rnn_data),
    "rnn-ok-window": st(dict(rnn_ok, __metadata__={
        "task": "forecast", "window": "3", "input.mean": "[1]", "input.std": "[2]",
        "output.mean": "[0.5]", "output.std": "[3]"}), rnn_data),
    "rnn-window-bad": st(dict(rnn_ok, __metadata__={"window": "-1"}), rnn_data),
    "rnn-anomaly": st(dict(rnn_ok, __metadata__={
        "task": "anomaly", "anomaly.error_mean": "[0.1]", "anomaly.error_std": "[0]",
        "anomaly.threshold": "nan"}), rnn_data),
    "rnn-head-final": st(dict(rnn_ok, __metadata__={"task": "classify",
                                                    "head.input": "final_hidden",
                                                    "labels": "[\"a\",\"b\"]"}), rnn_data),
    "rnn-std-inf": st(dict(rnn_ok, __metadata__={"input.std": "[1e39]"}), rnn_data),
    "text-ok": st({
        "__metadata__": {"task": "classify", "tokenizer.vocab": "[\"<pad>\",\"<unk>\",\"a\"]",
                         "tokenizer.unk_id": "1", "tokenizer.pad_id": "0"},
        "embedding.weight": {"dtype": "F32", "shape": [3, 1], "data_offsets": [0, 12]},
        "gru.weight_ih_l0": {"dtype": "F32", "shape": [3, 1], "data_offsets": [12, 24]},
        "gru.weight_hh_l0": {"dtype": "F32", "shape": [3, 1], "data_offsets": [24, 36]},
        "fc.weight": {"dtype": "F32", "shape": [2, 1], "data_offsets": [36, 44]},
        "fc.bias": {"dtype": "F32", "shape": [2], "data_offsets": [44, 52]},
    }, f32(*[0.1 * i for i in range(13)])),
}


def rnn_shapes(h, i, head=None, prefix="rnn", gates=1, meta=None, emb=None):
    """A one-layer recurrent stack of the given sizes (zeros allowed)."""
    t, off = {}, 0
    parts = [("weight_ih_l0", [gates * h, i]), ("weight_hh_l0", [gates * h, h]),
             ("bias_ih_l0", [gates * h]), ("bias_hh_l0", [gates * h])]
    names = [(prefix + "." + n, sh) for n, sh in parts]
    if head is not None:
        names += [("fc.weight", [head, h]), ("fc.bias", [head])]
    if emb is not None:
        names += [("embedding.weight", emb)]
    for n, sh in names:
        k = 1
        for d in sh:
            k *= d
        t[n] = {"dtype": "F32", "shape": sh, "data_offsets": [off, off + 4 * k]}
        off += 4 * k
    if meta:
        t["__metadata__"] = meta
    return st(t, b"\x00" * off)


models.update({
    "zero-hidden": rnn_shapes(0, 1, head=1),
    "zero-input": rnn_shapes(2, 0, head=1),
    "zero-head": rnn_shapes(2, 1, head=0),
    "zero-gru": rnn_shapes(0, 2, prefix="gru", gates=3),
    "lstm-zero-all": rnn_shapes(0, 0, prefix="lstm", gates=4, head=0),
    "text-zero-embed": rnn_shapes(2, 0, head=2, prefix="gru", gates=3, emb=[3, 0],
                                  meta={"task": "classify",
                                        "tokenizer.vocab": "[\"a\",\"b\",\"c\"]"}),
    "text-zero-vocab": rnn_shapes(2, 1, head=2, prefix="gru", gates=3, emb=[0, 1],
                                  meta={"task": "classify", "tokenizer.vocab": "[]"}),
    "text-unk-big": rnn_shapes(2, 1, head=2, prefix="gru", gates=3, emb=[2, 1],
                               meta={"task": "classify", "tokenizer.vocab": "[\"a\",\"b\"]",
                                     "tokenizer.unk_id": "2147483647",
                                     "tokenizer.pad_id": "-1"}),
    "window-huge": rnn_shapes(1, 1, head=1, meta={"task": "forecast",
                                                  "window": "99999999999999999999"}),
})

for name, data in models.items():
    put("fuzz-model", name, data)

# ---------------------------------------------------------------- tokenizer
# first byte: bit 0 = strip markup, bits 1-7 = max ids (mod 65)
texts = [
    (0x80, "Hello, World!"),
    (0x80, "don't stop believin' 3.14 snake_case __dunder__ a_1_b"),
    (0x81, "<b>bold</b> &amp; <i>italic</i> &lt;tag&gt; &#233;t&#xE9; &nbsp;"),
    (0x81, "<span foreground=\"red\" font='12'>good</span> <unclosed &amp"),
    (0x81, "a < b > c &unknown; &#; &#x; &#99999999; &#0; <<<>>> </> <a/>"),
    (0x01, "<span>" * 50 + "deep" + "</span>" * 50),
    (0x7e, "Crème brûlée à la française, naïve café, Ångström, STRASSE straße"),
    (0x7e, "ǅ ǆ Σίσυφος ΟΔΟΣ İstanbul ﬁre ǰ ŉ ΐ"),
    (0x40, "日本語のテキスト　と 中文 и русский текст ١٢٣ ٤٥"),
    (0x40, "emoji 😀👍🏽 zwj 👩‍💻 flags 🇫🇷 keycap 1️⃣"),
    (0x02, "good bad the café straße 42 x ǆ 日本"),
    (0x00, ""),
    (0x00, "   \t\n  ...!!!"),
    (0x80, "tab\tnewline\ncr\rnul\x00after"),
]
for i, (ctl, t) in enumerate(texts):
    put("fuzz-tokenizer", "text-%02d" % i, bytes([ctl]) + t.encode("utf-8"))
raw = [
    b"\x80invalid \xff\xfe utf8 \xc3 cut \xe2\x82 good",
    b"\x80overlong \xc0\xaf \xe0\x80\xaf surrogate \xed\xa0\x80 max \xf4\x90\x80\x80",
    b"\x81<b>\xff</b>&amp\xc3",
    b"\x80" + b"word " * 400,
    b"\x02" + b"a" * 3000,
]
for i, t in enumerate(raw):
    put("fuzz-tokenizer", "bytes-%02d" % i, t)

# ---------------------------------------------------------------------- csv
# byte 0: header(0-1) missing(2-4) strict(5) time-column t(6) tensors(7)
# byte 1: frames-per-buffer-1 (0-2) delimiter(3-4) columns(5-7)
# byte 2: seed of the buffer split
csvs = [
    (0x00, 0x00, "a,b,c\n1,2,3\n4,5,6\n"),
    (0x40, 0x03, "t,a,b\n0,1,2\n0.5,3,4\n1.0,5,6\n"),
    (0x41, 0x21, "t,a,b\n0,1,2\n0.1,,4\n0.2,NA,nan\n0.3,-1e3,1e-3\n"),
    (0x08, 0x07, "# comment\n\na,b\r\n1,2\r\n\"3\",\"4\"\r\n\"x,y\",5\r\n"),
    (0x0c, 0x47, "a,b,c\n1,2\n1,2,3,4\nfoo,1,2\n1,2,3"),
    (0x20, 0x00, "a,b\n1,2\nbad,row\n"),
    (0x10, 0x08, "a;b\n1;2\n;3\nnull;None\n"),
    (0x02, 0x10, "1\t2\n3\t4\n5\t6\n"),
    (0x01, 0x18, "a b c\n1 2 3\n"),
    (0x80, 0x02, "a,b\n" + "".join("%d,%d\n" % (i, -i) for i in range(20))),
    (0x81, 0x05, "a,b,c\n1,2,3\n4,5,6\n7,8,9\n"),
    (0x40, 0x00, "t,a\n-1,2\n0,inf\n1e400,3\n2,-inf\n"),
    (0x00, 0x00, "a\n\"unterminated\n1\n2\n" + "x" * 200),
    (0x00, 0x00, "\"multi\nline\",\"q\"\"uote\"\n1,2\n"),
    (0x00, 0x60, "a,b\n1,2\n"),
    (0x00, 0xe0, ",,,\n,,,\n1,,,\n"),
    (0x02, 0x00, "\ufeffa,b\n1,2\n"),
    (0x00, 0x00, ""),
    # trailing delimiters, a time going backwards, an absurd time, too many
    # fields, a value beyond the float range, text after a closing quote
    (0x00, 0x00, "a,b,\n1,2,\n3,4,\n5,6,7\n"),
    (0x40, 0x01, "t,a\n0,1\n2,2\n1,3\n1e30,4\n3,1e39\n"),
    (0x00, 0x00, "a,b\n\"1\"2,3\n4,\"5\"x\n"),
]
for i, (b0, b1, t) in enumerate(csvs):
    put("fuzz-csv", "csv-%02d" % i, bytes([b0, b1, (i * 37) & 0xFF]) + t.encode("utf-8"))
put("fuzz-csv", "csv-bytes", bytes([0, 0, 9]) + b"a,b\n\xff\xfe,1\n1,\x00\n")
