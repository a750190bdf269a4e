/* gst-rnn: behaviour shared by the CSV elements (csvparse, csvenc).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "gstcsvcommon.h"

void
gst_csv_delimiter_to_value (gchar delimiter, GValue * value)
{
  gchar d[2] = { delimiter, '\0' };

  g_value_set_string (value, delimiter == '\t' ? "tab" : d);
}
