#!/usr/bin/python3
"""When does a sink receive lstmforecast's forecasts in a live pipeline?

    GST_PLUGIN_PATH=build/plugin /usr/bin/python3 tools/measure_sync.py

A live 10 Hz source feeds lstmforecast horizon=10 (one second ahead); for
each forecast the script prints how long after its input frame's time
(running time of the input PTS) appsink received it, with sync=true, with
sync=true and ts-offset=-1 s (the horizon), and with sync=false.
"""
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

MODEL = sys.argv[1] if len(sys.argv) > 1 else "models/forecast.safetensors"
HORIZON_NS = Gst.SECOND  # horizon=10 at 10 frames per second


def measure(sink_props):
    p = Gst.parse_launch(
        "audiotestsrc is-live=true samplesperbuffer=1 num-buffers=30 ! "
        "audio/x-raw,format=F32LE,rate=10,channels=1 ! lstmforecast "
        "model-file=%s horizon=10 window=0 ! appsink name=s %s"
        % (MODEL, sink_props))
    sink = p.get_by_name("s")
    p.set_state(Gst.State.PLAYING)
    delays = []
    while True:
        sample = sink.emit("pull-sample")
        if sample is None:
            break
        now = p.get_clock().get_time() - p.get_base_time()
        made_from = sample.get_buffer().pts - HORIZON_NS
        delays.append((now - made_from) / 1e9)
    p.set_state(Gst.State.NULL)
    delays.sort()
    print("%-32s min %.3f s  median %.3f s  max %.3f s  (%d forecasts)" % (
        sink_props, delays[0], delays[len(delays) // 2], delays[-1],
        len(delays)))


def main():
    Gst.init(None)
    print("delay from an input frame's time to its forecast at appsink:")
    for props in ("sync=true", "sync=true ts-offset=-1000000000",
                  "sync=false"):
        measure(props)


if __name__ == "__main__":
    main()
