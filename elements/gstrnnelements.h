/* gst-rnn: the element features the plugin registers.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_RNN_ELEMENTS_H
#define GST_RNN_ELEMENTS_H

#include <gst/gst.h>

G_BEGIN_DECLS

/* one GST_ELEMENT_REGISTER_DECLARE per element, in alphabetical order */
GST_ELEMENT_REGISTER_DECLARE (csvenc);
GST_ELEMENT_REGISTER_DECLARE (csvparse);
GST_ELEMENT_REGISTER_DECLARE (gruanomaly);
GST_ELEMENT_REGISTER_DECLARE (lstmforecast);
GST_ELEMENT_REGISTER_DECLARE (textsentiment);
GST_ELEMENT_REGISTER_DECLARE (texttagger);

G_END_DECLS

#endif
