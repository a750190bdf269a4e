#!/bin/sh
# `meson install` into a temporary DESTDIR, then use only what was installed:
# the plugin through gst-inspect-1.0 and gst-launch-1.0, the shipped models
# and data, the tools, the documentation rnn-train --help points at, and the
# engine library through its pkg-config file (an example compiled and run
# against it, exporting only the functions of rnn.h). Also configures (without
# building) a second build with --prefix=/usr and checks that the plugin would
# go to gstreamer-1.0's pluginsdir, where GStreamer looks without
# GST_PLUGIN_PATH.
#
#   test-install.sh SOURCE_DIR BUILD_DIR
set -eu
src=$1
build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Nothing from the build tree: only the installed plugin may be found.
unset GST_PLUGIN_PATH_1_0 GST_PLUGIN_PATH
export GST_REGISTRY_1_0="$tmp/registry.bin"
fails=0
passes=0
check () {   # check DESCRIPTION COMMAND...
  what=$1
  shift
  if "$@" >"$tmp/out" 2>&1; then
    echo "ok: $what"
    passes=$((passes + 1))
  else
    echo "FAIL: $what"
    sed 's/^/    /' "$tmp/out"
    fails=$((fails + 1))
  fi
}

root="$tmp/root"
meson install -C "$build" --no-rebuild --quiet --destdir "$root" >"$tmp/install.log" 2>&1 || {
  cat "$tmp/install.log"
  echo "FAIL: meson install --destdir"
  exit 1
}

# Where meson put things (absolute paths for the build's prefix).
meson introspect --installed "$build" >"$tmp/installed.json"
installed () {  # installed BUILD-FILE-SUFFIX: its install path
  python3 - "$tmp/installed.json" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
hits = sorted(v for k, v in d.items() if k.endswith(sys.argv[2]))
print(hits[0] if hits else "")
PY
}
prefix=$(meson introspect --buildoptions "$build" | python3 -c '
import json, sys
print([o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"][0])')
plugin=$(installed /libgstrnn.so)
pc=$(installed /rnn.pc)
rnn_train=$(installed /rnn-train)
rnn_eval=$(installed /rnn-eval)
rnn_plot=$(installed /rnn-plot)
share="$prefix/share/gst-rnn"
echo "prefix $prefix; plugin $plugin"

for f in "$plugin" "$pc" "$rnn_train" "$rnn_eval" "$rnn_plot" "$prefix/include/gst-rnn/rnn.h" \
    "$share/models/forecast.safetensors" "$share/models/anomaly.safetensors" \
    "$share/models/sentiment.safetensors" "$share/models/data/sunspots.csv" \
    "$share/docs/elements.md" "$share/README.md"; do
  check "installed: $f" test -s "$root$f"
done

# gst-inspect-1.0 finds the installed plugin and lists every element.
export GST_PLUGIN_PATH_1_0="$root$(dirname "$plugin")"
check "gst-inspect-1.0 rnn lists the elements" sh -c '
  gst-inspect-1.0 rnn >"$1" &&
  for e in lstmforecast gruanomaly textsentiment csvparse csvenc; do
    grep -q "^ *$e:" "$1" || { echo "missing $e"; cat "$1"; exit 1; }
  done' sh "$tmp/inspect.txt"

# A pipeline with the installed model and data.
check "gst-launch-1.0 with the installed model writes a forecast per year" sh -c '
  gst-launch-1.0 -q filesrc location="$1/models/data/sunspots.csv" ! csvparse columns=sunactivity ! \
    lstmforecast model-file="$1/models/forecast.safetensors" ! csvenc ! filesink location="$2" &&
  rows=$(($(wc -l <"$2") - 1)) && data=$(($(wc -l <"$1/models/data/sunspots.csv") - 1)) &&
  echo "$rows forecasts for $data years" && [ "$rows" -eq "$data" ]' sh "$root$share" "$tmp/forecast.csv"

# The Python application example against the installed plugin and models.
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import gi' 2>/dev/null; then
  check "examples/python/forecast-app.py against the installed plugin" \
    /usr/bin/python3 "$src/examples/python/forecast-app.py" "$root$share/models"
fi

# The tools run and rnn-train --help names a document that is installed.
check "rnn-train --help points at an installed document" sh -c '
  doc=$("$1" --help | grep -o "/[^ ]*rnn-train\.md") && echo "$doc" && test -s "$2$doc"' \
  sh "$root$rnn_train" "$root"
check "rnn-eval runs" sh -c '"$1" --help | grep -q rnn-eval' sh "$root$rnn_eval"
check "rnn-plot draws the installed forecast" sh -c '
  "$1" "$2" --actual "$3/models/data/sunspots.csv" --column sunactivity -o "$4" &&
  test "$(head -c 4 "$4" | od -An -c | tr -d " ")" = "211PNG"' \
  sh "$root$rnn_plot" "$tmp/forecast.csv" "$root$share" "$tmp/forecast.png"

# The engine library: pkg-config, a program compiled against it, and only
# the functions of rnn.h exported.
export PKG_CONFIG_PATH="$root$(dirname "$pc")"
check "pkg-config rnn" pkg-config --exists rnn
cflags=$(pkg-config --define-variable=prefix="$root$prefix" --cflags rnn)
libs=$(pkg-config --define-variable=prefix="$root$prefix" --libs rnn)
lib=$(pkg-config --define-variable=prefix="$root$prefix" --variable=libdir rnn)
echo "pkg-config rnn: $cflags $libs"
check "examples/engine/forecast-engine.c compiles against the installed rnn.h and librnn" \
  sh -c "${CC:-cc} -std=c11 -Wall -Werror \"\$1\" $cflags $libs -lm -o \"\$2\"" \
  sh "$src/examples/engine/forecast-engine.c" "$tmp/forecast-engine"
check "the engine example runs with the installed library" sh -c '
  LD_LIBRARY_PATH="$1" "$2" "$3/models/forecast.safetensors" "$3/models/data/sunspots.csv" sunactivity &&
  LD_LIBRARY_PATH="$1" ldd "$2" | grep -q "$1/librnn.so.0"' \
  sh "$lib" "$tmp/forecast-engine" "$root$share"
check "librnn exports exactly the functions declared in rnn.h" sh -c '
  nm -D --defined-only "$1" | awk "\$2 == \"T\" { sub(/@.*/, \"\", \$3); print \$3 }" | sort >"$2.so"
  python3 -c "
import re, sys
src = re.sub(r\"/\*.*?\*/\", \" \", sys.stdin.read(), flags=re.S)
print(\"\n\".join(sorted(set(re.findall(r\"\b(rnn_\w+)\s*\(\", src)))))" <"$3" >"$2.h"
  echo "$(wc -l <"$2.so") exported, $(wc -l <"$2.h") declared"
  diff "$2.h" "$2.so"' sh "$lib/librnn.so.0" "$tmp/syms" "$root$prefix/include/gst-rnn/rnn.h"

# With --prefix=/usr the plugin goes where plain gst-inspect-1.0 looks.
pluginsdir=$(pkg-config --variable=pluginsdir gstreamer-1.0)
check "with --prefix=/usr the plugin goes to $pluginsdir" sh -c '
  meson setup --prefix=/usr "$1" "$2" >"$1.log" 2>&1 || { cat "$1.log"; exit 1; }
  meson introspect --installed "$1" | python3 -c "
import json, os, sys
d = json.load(sys.stdin)
p = [v for k, v in d.items() if k.endswith(\"/libgstrnn.so\")]
print(p)
sys.exit(0 if p and os.path.dirname(p[0]) == sys.argv[1] else 1)" "$3"' \
  sh "$tmp/usr-build" "$src" "$pluginsdir"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
