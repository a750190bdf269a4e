/* gst-rnn: behaviour shared by the CSV elements (csvparse, csvenc).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_CSV_COMMON_H
#define GST_CSV_COMMON_H

#include <gst/gst.h>

G_BEGIN_DECLS

/* (The delimiter itself is parsed by rnn_csv_delimiter_parse, rnncsv.h.)
 * Sets the string @value to the property spelling of @delimiter: "tab"
 * for a tab, else the character itself. */
void gst_csv_delimiter_to_value (gchar delimiter, GValue * value);

G_END_DECLS

#endif /* GST_CSV_COMMON_H */
