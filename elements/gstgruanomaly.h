/* gst-rnn: gruanomaly, scores every frame of a signal for anomaly.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_GRU_ANOMALY_H
#define GST_GRU_ANOMALY_H

#include "gstrnnsignal.h"

G_BEGIN_DECLS

#define GST_TYPE_GRU_ANOMALY (gst_gru_anomaly_get_type ())
G_DECLARE_FINAL_TYPE (GstGruAnomaly, gst_gru_anomaly, GST, GRU_ANOMALY,
    GstRnnSignal)

G_END_DECLS

#endif
