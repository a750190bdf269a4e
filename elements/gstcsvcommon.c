/* gst-rnn: behaviour shared by the CSV elements (csvparse, csvenc).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "gstcsvcommon.h"

gboolean
gst_csv_delimiter_parse (const gchar * s, const gchar * refused, gchar * out)
{
  if (s == NULL)
    return FALSE;
  if (strcmp (s, "\\t") == 0 || g_ascii_strcasecmp (s, "tab") == 0) {
    *out = '\t';
    return TRUE;
  }
  if (strlen (s) == 1 && s[0] != '"' && s[0] != '\n' && s[0] != '\r'
      && (refused == NULL || strchr (refused, s[0]) == NULL)) {
    *out = s[0];
    return TRUE;
  }
  return FALSE;
}

void
gst_csv_delimiter_to_value (gchar delimiter, GValue * value)
{
  gchar d[2] = { delimiter, '\0' };

  g_value_set_string (value, delimiter == '\t' ? "tab" : d);
}
