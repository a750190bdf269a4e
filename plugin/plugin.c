/* gst-rnn: registers the plugin's elements, nothing else.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstrnnelements.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (csvenc, plugin);
  ret |= GST_ELEMENT_REGISTER (csvparse, plugin);
  ret |= GST_ELEMENT_REGISTER (gruanomaly, plugin);
  ret |= GST_ELEMENT_REGISTER (lstmforecast, plugin);
  ret |= GST_ELEMENT_REGISTER (textsentiment, plugin);
  ret |= GST_ELEMENT_REGISTER (texttagger, plugin);

  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, rnn,
    "Recurrent neural networks (LSTM, GRU, RNN) with state carried across buffers",
    plugin_init, VERSION, "LGPL", GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
