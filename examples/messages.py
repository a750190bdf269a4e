#!/usr/bin/python3
"""Run a gst-rnn pipeline and read the element messages it posts on the bus.

    GST_PLUGIN_PATH=build/plugin python3 examples/messages.py [PIPELINE]

Without an argument it runs the shipped sentiment classifier over a few
subtitles. Every element of the plugin posts messages named after itself
(`lstmforecast`, `gruanomaly`, `textsentiment`, `texttagger`) carrying
`timestamp`, `stream-time`, `running-time` and `duration` (nanoseconds) plus
its own fields; this script prints them as an application would use them.
"""
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

DEFAULT = (
    "filesrc location=examples/subtitles.srt ! subparse ! "
    "textsentiment model-file=models/sentiment.safetensors ! fakesink"
)


def seconds(ns):
    return "-" if ns == Gst.CLOCK_TIME_NONE else "%.2fs" % (ns / Gst.SECOND)


def on_element(s):
    name = s.get_name()
    when = seconds(s.get_value("timestamp"))
    if name == "textsentiment":
        probs = ", ".join("%.3f" % p for p in s.get_value("probabilities"))
        print("%8s  %-10s confidence %.3f  (class %d; probabilities %s)" % (
            when, s.get_value("label"), s.get_value("confidence"),
            s.get_value("class-index"), probs))
    elif name == "texttagger":
        pairs = " ".join("%s/%s" % (tok, tag) for tok, tag in
                         zip(s.get_value("tokens"), s.get_value("tags")))
        low = min(s.get_value("confidences"))
        print("%8s  %s  (lowest confidence %.2f)" % (when, pairs, low))
        if s.has_field("entities"):
            for e in s.get_value("entities"):
                print("%8s    entity %-6s %r at bytes %d-%d" % (
                    "", e.get_value("label"), e.get_value("text"),
                    e.get_value("start"), e.get_value("end")))
    elif name == "gruanomaly":
        print("%8s  anomaly %-5s peak score %.2f (threshold %.2f)" % (
            when, s.get_value("event"), s.get_value("score"),
            s.get_value("threshold")))
    elif name == "lstmforecast":
        values = ", ".join("%.4g" % v for v in s.get_value("forecast"))
        print("%8s  forecast [%s]" % (when, values))
    else:
        print(s.to_string())


def main():
    Gst.init(None)
    pipeline = Gst.parse_launch(sys.argv[1] if len(sys.argv) > 1 else DEFAULT)
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    status = 0
    while True:
        msg = bus.timed_pop_filtered(
            Gst.CLOCK_TIME_NONE,
            Gst.MessageType.ELEMENT | Gst.MessageType.WARNING
            | Gst.MessageType.ERROR | Gst.MessageType.EOS)
        if msg.type == Gst.MessageType.ELEMENT:
            on_element(msg.get_structure())
        elif msg.type == Gst.MessageType.WARNING:
            err, _ = msg.parse_warning()
            print("warning: %s" % err.message, file=sys.stderr)
        elif msg.type == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            print("error: %s (%s)" % (err.message, debug), file=sys.stderr)
            status = 1
            break
        else:
            break
    pipeline.set_state(Gst.State.NULL)
    return status


if __name__ == "__main__":
    sys.exit(main())
