#!/usr/bin/python3
"""gst-rnn application example in Python (PyGObject): feed samples to
lstmforecast through appsrc and take the forecasts from appsink, then run
gruanomaly and read its anomaly start/end messages from the bus.

    /usr/bin/python3 forecast-app.py /usr/share/gst-rnn/models

MODELS is the directory of the shipped models (models/ in the source tree);
the data comes from its data/ subdirectory. Needs python3-gi, python3-gst-1.0
and gir1.2-gst-plugins-base-1.0 (GstApp). Exits non-zero when a pipeline fails
or produces fewer forecasts than frames pushed.
"""
import array
import csv
import math
import os
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
from gi.repository import Gst, GstApp  # noqa: E402,F401


def read_csv(path, names, key=None):
    """Frames of the columns @names (one list of floats per row), keeping the
    rows whose column key[0] equals key[1]."""
    frames = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if key and row[key[0]] != key[1]:
                continue
            if all(row[n] for n in names):
                frames.append([float(row[n]) for n in names])
    return frames


def push_frames(src, frames, rate, chunk):
    """Push the frames in buffers of @chunk frames, each stamped with the time
    of its first frame, then end the stream."""
    for t in range(0, len(frames), chunk):
        part = frames[t:t + chunk]
        data = array.array("f", [v for frame in part for v in frame]).tobytes()
        buf = Gst.Buffer.new_wrapped(data)
        buf.pts = Gst.util_uint64_scale_int(t, Gst.SECOND, rate)
        buf.duration = Gst.util_uint64_scale_int(len(part), Gst.SECOND, rate)
        src.emit("push-buffer", buf)
    src.emit("end-of-stream")


def run_bus(pipeline, events):
    """Pop messages until EOS or ERROR; print and collect gruanomaly events."""
    bus = pipeline.get_bus()
    while True:
        msg = bus.timed_pop_filtered(
            Gst.CLOCK_TIME_NONE,
            Gst.MessageType.ELEMENT | Gst.MessageType.ERROR
            | Gst.MessageType.EOS)
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            print("error from %s: %s\n(%s)" % (msg.src.get_name(),
                                               err.message, dbg or ""),
                  file=sys.stderr)
            return False
        if msg.type == Gst.MessageType.EOS:
            return True
        s = msg.get_structure()
        if s is not None and s.get_name() == "gruanomaly":
            events.append(s.get_value("event"))
            print("  anomaly %-5s at frame %d (peak score %.2f, threshold "
                  "%.2f)" % (s.get_value("event"),
                             s.get_value("timestamp") // Gst.SECOND,
                             s.get_value("score"),
                             s.get_value("threshold")))


def forecast(models):
    x = read_csv(os.path.join(models, "data", "sunspots.csv"),
                 ["sunactivity"])
    pipeline = Gst.parse_launch(
        "appsrc name=src format=time caps=audio/x-raw,format=F32LE,"
        "layout=interleaved,channels=1,rate=1 ! lstmforecast model-file=\"%s\""
        " ! appsink name=sink sync=false"
        % os.path.join(models, "forecast.safetensors"))
    src = pipeline.get_by_name("src")
    sink = pipeline.get_by_name("sink")
    pipeline.set_state(Gst.State.PLAYING)
    push_frames(src, x, 1, 16)
    print("lstmforecast on %d years of sunspot numbers (year 1700 = 0 s):"
          % len(x))
    got = []
    while True:
        sample = sink.emit("pull-sample")
        if sample is None:  # EOS, or an error reported on the bus
            break
        buf = sample.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        values = array.array("f", bytes(info.data))
        buf.unmap(info)
        # the buffer is stamped with the time its first value forecasts
        first = buf.pts // Gst.SECOND
        for i, y in enumerate(values):
            k = len(got) + i + 1  # the row this value forecasts
            if k + 2 >= len(x):
                measured = "%.1f" % x[k][0] if k < len(x) else "not yet"
                print("  forecast for %d: %6.1f (measured: %s)"
                      % (1700 + first + i, y, measured))
        got.extend(values)
    ok = run_bus(pipeline, [])
    pipeline.set_state(Gst.State.NULL)
    if len(got) != len(x) or not all(math.isfinite(v) for v in got):
        print("expected %d finite forecasts, got %d" % (len(x), len(got)),
              file=sys.stderr)
        ok = False
    return ok


def anomaly(models):
    x = read_csv(os.path.join(models, "data", "sensors-test.csv"),
                 ["humidity", "temperature"], key=("sensor", "s1"))
    pipeline = Gst.parse_launch(
        "appsrc name=src format=time caps=audio/x-raw,format=F32LE,"
        "layout=interleaved,channels=2,rate=1 ! gruanomaly model-file=\"%s\""
        " ! fakesink" % os.path.join(models, "anomaly.safetensors"))
    src = pipeline.get_by_name("src")
    pipeline.set_state(Gst.State.PLAYING)
    print("gruanomaly on %d readings of mote s1:" % len(x))
    push_frames(src, x, 1, 64)
    events = []
    ok = run_bus(pipeline, events)
    pipeline.set_state(Gst.State.NULL)
    starts, ends = events.count("start"), events.count("end")
    print("  %d start and %d end messages" % (starts, ends))
    # each anomaly that ended had started; one may still be open at EOS
    return ok and ends <= starts <= ends + 1


def main():
    models = sys.argv[1] if len(sys.argv) > 1 else "models"
    Gst.init(None)
    ok = forecast(models)
    ok = anomaly(models) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
