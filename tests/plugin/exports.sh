#!/bin/sh
# The plugin's dynamic symbol table holds the two entry points that
# GST_PLUGIN_DEFINE declares (get_desc, which the registry loads, and
# register, for static linking) and nothing else: every engine and element
# symbol stays inside.
# usage: exports.sh NM PLUGIN
set -eu
nm=$1
plugin=$2
syms=$("$nm" -D --defined-only "$plugin" | awk '{ print $NF }' | sort)
echo "exported by $plugin:"
echo "$syms" | sed 's/^/  /'
want="gst_plugin_rnn_get_desc
gst_plugin_rnn_register"
if [ "$syms" != "$want" ]; then
  echo "FAIL: expected exactly:" >&2
  echo "$want" | sed 's/^/  /' >&2
  exit 1
fi
echo "ok - only the plugin entry points are exported"
