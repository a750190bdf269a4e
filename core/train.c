/* gst-rnn: training (stub while the implementation lands).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rnn-private.h"

#include <string.h>

void
rnn_model_config_init (rnn_model_config *cfg)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->cell = RNN_CELL_LSTM;
  cfg->input_size = 1;
  cfg->padding_idx = -1;
  cfg->hidden_size = 64;
  cfg->num_layers = 1;
  cfg->head_out = 1;
  cfg->head_input = RNN_HEAD_OUTPUT;
  cfg->task = RNN_TASK_NONE;
}

void
rnn_train_config_init (rnn_train_config *cfg)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->optimizer = RNN_OPTIM_ADAM;
  cfg->lr = 1e-3;
  cfg->beta1 = 0.9;
  cfg->beta2 = 0.999;
  cfg->eps = 1e-8;
  cfg->loss = RNN_LOSS_MSE;
  cfg->target = RNN_TARGET_ALL;
}

#define STUB return rnn__set_error (err, RNN_ERR_UNSUPPORTED, "training not implemented yet")
rnn_status rnn_model_new (const rnn_model_config *cfg, uint64_t seed, rnn_model **out, rnn_error *err) { *out = NULL; STUB; }
rnn_status rnn_model_set_meta (rnn_model *m, const char *key, const char *value, rnn_error *err) { STUB; }
rnn_status rnn_trainer_new (rnn_model *m, const rnn_train_config *cfg, rnn_trainer **out, rnn_error *err) { *out = NULL; STUB; }
void rnn_trainer_free (rnn_trainer *t) { }
rnn_status rnn_trainer_backward (rnn_trainer *t, const rnn_batch *b, double *loss, float *outputs, rnn_error *err) { STUB; }
rnn_status rnn_trainer_evaluate (rnn_trainer *t, const rnn_batch *b, double *loss, float *outputs, rnn_error *err) { STUB; }
void rnn_trainer_zero_grad (rnn_trainer *t) { }
void rnn_trainer_reset_state (rnn_trainer *t) { }
double rnn_trainer_clip_grad_norm (rnn_trainer *t, double max_norm) { return 0.0; }
rnn_status rnn_trainer_step (rnn_trainer *t, rnn_error *err) { STUB; }
void rnn_trainer_set_lr (rnn_trainer *t, double lr) { }
rnn_status rnn_trainer_sync (rnn_trainer *t, rnn_error *err) { STUB; }
size_t rnn_trainer_num_params (const rnn_trainer *t) { return 0; }
const rnn_param *rnn_trainer_param (const rnn_trainer *t, size_t i) { return NULL; }
