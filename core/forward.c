/* placeholder until the engine lands: links, but runs nothing */
#include "rnn-private.h"
rnn_status rnn__engine_prepare (rnn_model *m, rnn_error *err) { return RNN_OK; }
void rnn__engine_release (rnn_model *m) { }
rnn_status rnn_state_new (const rnn_model *m, size_t max_frames, rnn_state **out, rnn_error *err)
{ *out = NULL; return rnn__set_error (err, RNN_ERR_UNSUPPORTED, "engine not built yet"); }
void rnn_state_free (rnn_state *s) { }
