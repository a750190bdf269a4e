#!/bin/sh
# Reproducer (kept out of `meson test`): csvparse aborts the process on a
# wide CSV with a large frames-per-buffer. The frame buffer is allocated
# with g_new0 (gfloat, frames-per-buffer * columns) (gstcsvparse.c, when the
# columns are configured): 2^20 x 30000 floats = 125 GB, and GLib aborts
# ("failed to allocate 125829120000 bytes") instead of the element posting
# an error. Expected: an ERROR message naming the sizes, no abort.
# Usage: fuzz/repro/csvparse-wide-fpb.sh BUILD_DIR
set -u
build=${1:?build dir}
csv=$(mktemp /tmp/wide-XXXXXX.csv)
python3 -c "
n = 30000
print(','.join('c%d' % i for i in range(n)))
print(','.join('1' for i in range(n)))" > "$csv"
GST_PLUGIN_PATH_1_0="$build/plugin" gst-launch-1.0 filesrc location="$csv" ! \
  csvparse frames-per-buffer=1048576 ! fakesink
echo "exit status $?"
rm -f "$csv"
