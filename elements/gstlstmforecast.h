/* gst-rnn: lstmforecast, forecasts a signal with a recurrent model.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_LSTM_FORECAST_H
#define GST_LSTM_FORECAST_H

#include "gstrnnsignal.h"

G_BEGIN_DECLS

#define GST_TYPE_LSTM_FORECAST (gst_lstm_forecast_get_type ())
G_DECLARE_FINAL_TYPE (GstLstmForecast, gst_lstm_forecast, GST, LSTM_FORECAST,
    GstRnnSignal)

G_END_DECLS

#endif
