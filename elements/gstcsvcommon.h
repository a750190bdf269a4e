/* gst-rnn: behaviour shared by the CSV elements (csvparse, csvenc).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_CSV_COMMON_H
#define GST_CSV_COMMON_H

#include <gst/gst.h>

G_BEGIN_DECLS

/* Parses a `delimiter` property value into *@out: "tab" (any case) or
 * "\t" for a tab, else exactly one character that is neither a double
 * quote nor a line break nor in @refused (may be NULL). Returns FALSE and
 * leaves *@out alone for anything else (NULL included). */
gboolean gst_csv_delimiter_parse (const gchar * s, const gchar * refused,
    gchar * out);

/* Sets the string @value to the property spelling of @delimiter: "tab"
 * for a tab, else the character itself. */
void gst_csv_delimiter_to_value (gchar delimiter, GValue * value);

G_END_DECLS

#endif /* GST_CSV_COMMON_H */
