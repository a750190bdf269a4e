/* gst-rnn: status codes and error messages.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rnn-private.h"

#include <stdarg.h>
#include <stdio.h>

const char *
rnn_status_str (rnn_status status)
{
  switch (status) {
    case RNN_OK: return "ok";
    case RNN_ERR_IO: return "I/O error";
    case RNN_ERR_FORMAT: return "invalid file format";
    case RNN_ERR_MODEL: return "invalid model";
    case RNN_ERR_ARG: return "invalid argument";
    case RNN_ERR_NOMEM: return "out of memory";
    case RNN_ERR_UNSUPPORTED: return "not supported";
  }
  return "unknown status";
}

rnn_status
rnn__set_error (rnn_error *err, rnn_status code, const char *fmt, ...)
{
  if (err != NULL) {
    va_list ap;
    err->code = code;
    va_start (ap, fmt);
    vsnprintf (err->msg, sizeof err->msg, fmt, ap);
    va_end (ap);
  }
  return code;
}
