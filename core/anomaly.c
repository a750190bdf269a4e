/* gst-rnn: adaptive anomaly scoring of a one-step forecaster's errors.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The maths is in docs/anomaly-scoring.md. In short, for each group (the
 * frame, or one channel of a per-channel stream), frame by frame:
 *
 *   u_t   = xn_t - b          the normalised frame, moved by the level
 *                             offset b (per feature) into the model's range
 *   e_t   = u_t - p_t         the error against the model's prediction
 *   z_t,i = (e_t,i - error_mean_i) / error_std_i
 *   r_t   = sqrt (mean_i z_t,i^2)            (the `fixed` score of u_t)
 *
 * and then
 *
 *   m_t   = mean of the last 10 r          (the short mean)
 *   s_t   = -log10 Q ((m_t - mu) / sigma)  (Q the standard normal's upper
 *                                          tail; mu, sigma of the short
 *                                          means of the last W frames)
 *
 * so a threshold T on s is a false-alarm probability of 10^-T per frame.
 * A frame beyond the range seen so far (the training range widened by
 * every frame) by more than a tenth of its width scores at least T. A
 * single-frame tail of r (peaks over threshold) decides when a frame is
 * fed to the model shrunk onto the threshold's radius (its state is not
 * poisoned by a spike); the level offset b moves a level shift out of the
 * training range back to its edge. The output is 0 during the warm-up and
 * for `hold` - 1 frames after a start; events follow the output.
 */
#include "rnn-private.h"
#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MEDIAN_RUN 16           /* errors whose median triggers a re-anchoring */
#define MIN_HISTORY 100         /* scores before the window replaces the prior */
#define SHORT 10                /* frames of the short mean */
#define RANGE_MARGIN 0.1        /* share of the range seen beyond which a value is new */
#define MIN_SIGMA 1e-3          /* floor of sigma, standardised units */
#define TAIL_WINDOW 2000
#define TAIL_FRACTION 0.05      /* f */
#define MIN_TAIL_SCALE 0.05     /* floor of B, in standardised error units */
#define MAX_SHAPE 0.45          /* largest GPD shape fitted */
#define MAX_SHRINK 3            /* frames in a row fed shrunk */
#define RATE_FRAMES 32.0        /* time constant of the anomaly rate */
#define RATE_LEARN 0.1          /* rate above which anomalies are learnt */

typedef struct {
  /* level offset and the recent standardised errors, per feature */
  float *b;
  float *recent;                /* [MEDIAN_RUN * per] ring */
  unsigned n_recent, recent_pos;
  /* window of capped scores */
  float *hist;                  /* [window] ring */
  size_t n_hist, hist_pos;
  unsigned since_fit;
  /* short means of the score and their window */
  float shortr[SHORT];
  unsigned n_short, short_pos;
  float *mhist;                 /* [window] ring */
  size_t n_mhist, mhist_pos;
  double msum, msq;             /* running sums of the ring */
  double mu, sigma;             /* of the short means over the window */
  /* range seen: the training range widened by every frame, per feature */
  float *lo, *hi;
  double level, scale, fraction;        /* tail: L, B, f */
  double shape;                         /* gamma of the GPD tail, >= 0 */
  double cap;                   /* radius (threshold) of this tail ... */
  gboolean cap_ok;              /* ... valid (not part of the snapshot) */
  /* events */
  unsigned frames;              /* frames since the reset */
  gboolean in_anomaly;
  unsigned held;                /* frames still muted after a start */
  unsigned shrunk;              /* frames shrunk in a row */
  double rate;                  /* recent share of frames beyond the radius */
  double peak;
} group_state;

struct rnn_detector {
  const rnn_model *model;
  size_t groups, per;
  rnn_detector_config cfg;
  const float *em, *es;
  float *in_min, *in_max;       /* training range, normalised; NULL: none */
  double prior_level, prior_scale, prior_fraction;
  unsigned warmup, hold;
  size_t tail_window;           /* single-frame scores kept for the tail */
  group_state *g;
  float *scratch;               /* [window] for the tail fit */
  float *ring, *level_b;        /* [MEDIAN_RUN * per], [per]: for guesses */
};

void
rnn_detector_config_init (rnn_detector_config *c)
{
  c->threshold = 5.0;
  c->window = 8640;
  c->hold = -1;
  c->warmup = -1;
}

/* A positive finite number from metadata @key, @def when absent. */
static rnn_status
meta_positive (const rnn_model *m, const char *key, double def, double *out,
    rnn_error *err)
{
  const char *v = rnn_model_meta (m, key);
  char *end = NULL;
  double d;

  *out = def;
  if (v == NULL)
    return RNN_OK;
  d = g_ascii_strtod (v, &end);
  if (end == v || *end != '\0' || !isfinite (d) || d <= 0)
    return rnn__set_error (err, RNN_ERR_MODEL, "%s: metadata %s: '%s' is "
        "not a positive number", rnn_model_name (m), key, v);
  *out = d;
  return RNN_OK;
}

/* A JSON array of @n finite numbers from metadata @key; *out NULL when
 * absent. */
static rnn_status
meta_array (const rnn_model *m, const char *key, size_t n, float **out,
    rnn_error *err)
{
  const char *v = rnn_model_meta (m, key);
  char ebuf[128];
  rnn_json *j;
  size_t i;

  *out = NULL;
  if (v == NULL)
    return RNN_OK;
  j = rnn__json_parse (v, strlen (v), ebuf, sizeof ebuf);
  if (j == NULL || j->type != RNN_JSON_ARRAY || j->n != n) {
    rnn__json_free (j);
    return rnn__set_error (err, RNN_ERR_MODEL, "%s: metadata %s: expected "
        "a JSON array of %zu numbers", rnn_model_name (m), key, n);
  }
  *out = g_new (float, n);
  for (i = 0; i < n; i++) {
    if (j->items[i]->type != RNN_JSON_NUMBER
        || !isfinite ((float) j->items[i]->dbl)) {
      g_clear_pointer (out, g_free);
      rnn__json_free (j);
      return rnn__set_error (err, RNN_ERR_MODEL, "%s: metadata %s: element "
          "%zu is not a finite number", rnn_model_name (m), key, i);
    }
    (*out)[i] = (float) j->items[i]->dbl;
  }
  rnn__json_free (j);
  return RNN_OK;
}

rnn_status
rnn_detector_new (const rnn_model *m, size_t groups, size_t per,
    const rnn_detector_config *cfg, rnn_detector **out, rnn_error *err)
{
  rnn_detector *d;
  rnn_status st;
  double warm, hold;

  *out = NULL;
  if (groups < 1 || per < 1 || per != (size_t) rnn_model_output_size (m))
    return rnn__set_error (err, RNN_ERR_ARG, "anomaly detector: %zu group(s) "
        "of %zu feature(s) for model '%s' of output size %d", groups, per,
        rnn_model_name (m), rnn_model_output_size (m));
  if (!(cfg->threshold >= 0) || cfg->window < MIN_HISTORY)
    return rnn__set_error (err, RNN_ERR_ARG, "anomaly detector: threshold %g "
        "must be >= 0 and window %u at least %d", cfg->threshold, cfg->window,
        MIN_HISTORY);
  d = g_new0 (rnn_detector, 1);
  d->model = m;
  d->groups = groups;
  d->per = per;
  d->cfg = *cfg;
  d->em = rnn_model_anomaly_error_mean (m);
  d->es = rnn_model_anomaly_error_std (m);
  /* The prior tail (until the window holds MIN_HISTORY scores): the
   * trainer's held-out fit, else that of standard normal errors. */
  if ((st = meta_positive (m, "anomaly.tail_level", 2.0, &d->prior_level,
              err)) != RNN_OK
      || (st = meta_positive (m, "anomaly.tail_scale", 0.5, &d->prior_scale,
              err)) != RNN_OK
      || (st = meta_positive (m, "anomaly.tail_fraction", TAIL_FRACTION,
              &d->prior_fraction, err)) != RNN_OK
      || (st = meta_positive (m, "anomaly.warmup", 16, &warm, err))
      != RNN_OK
      || (st = meta_positive (m, "anomaly.hold", 1, &hold, err)) != RNN_OK
      || (st = meta_array (m, "anomaly.input_min", per, &d->in_min, err))
      != RNN_OK
      || (st = meta_array (m, "anomaly.input_max", per, &d->in_max, err))
      != RNN_OK) {
    g_free (d->in_min);
    g_free (d);
    return st;
  }
  if (d->prior_fraction >= 1) {
    g_free (d);
    return rnn__set_error (err, RNN_ERR_MODEL, "%s: metadata "
        "anomaly.tail_fraction: %g is not below 1", rnn_model_name (m),
        d->prior_fraction);
  }
  d->warmup = cfg->warmup >= 0 ? (unsigned) cfg->warmup
      : (unsigned) MIN (warm, 1e6);
  d->hold = cfg->hold >= 0 ? (unsigned) cfg->hold : (unsigned) MIN (hold, 1e6);
  d->tail_window = MIN (cfg->window, TAIL_WINDOW);
  d->g = g_new0 (group_state, groups);
  for (size_t i = 0; i < groups; i++) {
    d->g[i].b = g_new0 (float, per);
    d->g[i].recent = g_new0 (float, MEDIAN_RUN * per);
    d->g[i].hist = g_new0 (float, d->tail_window);
    d->g[i].mhist = g_new0 (float, cfg->window);
    d->g[i].lo = g_new0 (float, d->per);
    d->g[i].hi = g_new0 (float, d->per);
  }
  d->scratch = g_new (float, d->tail_window);
  d->ring = g_new (float, MEDIAN_RUN * per);
  d->level_b = g_new (float, per);
  rnn_detector_reset (d);
  *out = d;
  return RNN_OK;
}

void
rnn_detector_free (rnn_detector *d)
{
  if (d == NULL)
    return;
  for (size_t i = 0; i < d->groups; i++) {
    g_free (d->g[i].b);
    g_free (d->g[i].recent);
    g_free (d->g[i].hist);
    g_free (d->g[i].mhist);
    g_free (d->g[i].lo);
    g_free (d->g[i].hi);
  }
  g_free (d->g);
  g_free (d->scratch);
  g_free (d->ring);
  g_free (d->level_b);
  g_free (d->in_min);
  g_free (d->in_max);
  g_free (d);
}

void
rnn_detector_reset_group (rnn_detector *d, size_t gi)
{
  group_state *g;

  if (gi >= d->groups)
    return;
  g = &d->g[gi];
  memset (g->b, 0, d->per * sizeof (float));
  g->n_recent = g->recent_pos = 0;
  g->n_hist = g->hist_pos = 0;
  g->since_fit = 0;
  g->n_short = g->short_pos = 0;
  g->n_mhist = g->mhist_pos = 0;
  g->msum = g->msq = 0;
  for (size_t i = 0; i < d->per; i++) {
    /* no training range: the first frame starts it */
    g->lo[i] = d->in_min != NULL ? d->in_min[i] : INFINITY;
    g->hi[i] = d->in_max != NULL ? d->in_max[i] : -INFINITY;
  }
  g->mu = 0;
  g->sigma = 1;
  g->level = d->prior_level;
  g->scale = d->prior_scale;
  g->fraction = d->prior_fraction;
  g->shape = 0;
  g->cap_ok = FALSE;
  g->frames = 0;
  g->held = 0;
  g->shrunk = 0;
  g->rate = 0;
  /* in_anomaly and peak stay: the first frame after the reset scores 0
   * and ends an anomaly in progress */
}

void
rnn_detector_reset (rnn_detector *d)
{
  for (size_t i = 0; i < d->groups; i++)
    rnn_detector_reset_group (d, i);
}

void
rnn_detector_set_threshold (rnn_detector *d, double threshold)
{
  if (threshold == d->cfg.threshold)
    return;
  d->cfg.threshold = threshold;
  for (size_t i = 0; i < d->groups; i++)
    d->g[i].cap_ok = FALSE;
}

/* Insertion sort of @v[0, n), ascending (n is small: a tail of a few
 * dozen values, a median run). */
static void
sort_small (float *v, size_t n)
{
  for (size_t i = 1; i < n; i++) {
    float x = v[i];
    size_t j = i;
    while (j > 0 && v[j - 1] > x) {
      v[j] = v[j - 1];
      j--;
    }
    v[j] = x;
  }
}

/* Sorts @v[lo, hi) from position @t on: afterwards v[t, hi) holds, in
 * ascending order, what a sort of the whole range would put there, and
 * nothing before t is larger (a quicksort that leaves out the parts below
 * t: three-way partitions around a median of three, so runs of equal
 * values cost nothing extra; it recurses into the smaller part, so the
 * depth stays logarithmic; a NaN compares as neither and ends up anywhere
 * without leaving the bounds). */
static void
sort_from (float *v, size_t lo, size_t hi, size_t t)
{
  while (hi - lo > 16) {
    float a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi - 1], p;
    size_t lt = lo, i = lo, gt = hi;

    p = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
    /* [lo, lt) < p, [lt, i) == p (or unordered), [gt, hi) > p */
    while (i < gt) {
      float x = v[i];
      if (x < p) {
        v[i++] = v[lt];
        v[lt++] = x;
      } else if (x > p) {
        v[i] = v[--gt];
        v[gt] = x;
      } else {
        i++;
      }
    }
    if (lt > t) {
      /* both sides: [lo, lt) from t on, [gt, hi) all of it */
      if (lt - lo < hi - gt) {
        sort_from (v, lo, lt, t);
        lo = t = gt;
      } else {
        sort_from (v, gt, hi, gt);
        hi = lt;
      }
    } else {
      /* [lo, lt) lies below t and [lt, gt) is in place */
      lo = gt;
      t = MAX (t, gt);
    }
  }
  sort_small (v + lo, hi - lo);
}

/* The @m largest of the @n values of @src, ascending (declared in
 * rnn-private.h): first a filter against @guess (every value at or above it
 * is kept, and when at least @m are, the m largest are among them; else
 * the whole window is taken), then a sort from the m-th largest on. */
const float *
rnn__largest_sorted (float *scratch, const float *src, size_t n, size_t m,
    float guess)
{
  float *v = scratch;
  size_t c = 0;

  for (size_t i = 0; i < n; i++) {
    v[c] = src[i];
    c += src[i] >= guess;
  }
  if (c < m) {
    memcpy (v, src, n * sizeof (float));
    c = n;
  }
  sort_from (v, 0, c, c - m);
  return v + c - m;
}

/* Peaks over threshold on the window: L the (1 - f) quantile, B the mean
 * excess over it (floored). */
static void
fit_tail (rnn_detector *d, group_state *g)
{
  size_t n = g->n_hist, k, i;
  double sum = 0, sq = 0, m, v;
  const float *top;

  k = (size_t) ceil (TAIL_FRACTION * (double) n);
  if (k < 1)
    k = 1;
  /* the k + 1 largest, ascending: the level, then the k values over it
   * summed in ascending order (as over a sorted window). The filter's
   * guess: one tail scale below the last level (about e f of the window
   * lies above it while the tail stays put). */
  top = rnn__largest_sorted (d->scratch, g->hist, n, k + 1,
      (float) (g->level - g->scale));
  g->level = top[0];
  for (i = 1; i <= k; i++) {
    double y = top[i] - g->level;
    sum += y;
    sq += y * y;
  }
  m = sum / (double) k;
  v = sq / (double) k - m * m;
  /* generalised Pareto by the method of moments: gamma = (1 - m^2/v) / 2,
   * sigma = m (1 + m^2/v) / 2; gamma kept in [0, MAX_SHAPE] (an exponential
   * tail at least: a bounded tail would call anything past its end
   * impossible) */
  if (v > 0 && m > 0) {
    g->shape = CLAMP (0.5 * (1 - m * m / v), 0.0, MAX_SHAPE);
    g->scale = m * (1 - g->shape);
  } else {
    g->shape = 0;
    g->scale = m;
  }
  g->scale = MAX (g->scale, MIN_TAIL_SCALE);
  g->fraction = (double) k / (double) n;
  g->cap_ok = FALSE;
}

/* The score at which the surprise reaches @s. */
static double
radius (const group_state *g, double s)
{
  double base = -log10 (g->fraction);

  if (s <= base)
    return g->level * s / base;
  if (g->shape < 1e-6)
    return g->level + (s - base) * g->scale * G_LN10;
  return g->level + g->scale / g->shape
      * (pow (10, g->shape * (s - base)) - 1);
}

/* Adds the short mean @m to the window, keeping the running sums of its
 * values and squares (recomputed exactly at each wrap of the ring so that
 * rounding cannot accumulate). */
static void
push_short (rnn_detector *d, group_state *g, double m)
{
  if (g->n_mhist == d->cfg.window) {
    double old = g->mhist[g->mhist_pos];
    g->msum -= old;
    g->msq -= old * old;
  }
  g->mhist[g->mhist_pos] = (float) m;
  m = g->mhist[g->mhist_pos];
  g->msum += m;
  g->msq += m * m;
  g->mhist_pos = (g->mhist_pos + 1) % d->cfg.window;
  if (g->n_mhist < d->cfg.window)
    g->n_mhist++;
  if (g->mhist_pos == 0) {
    g->msum = g->msq = 0;
    for (size_t i = 0; i < g->n_mhist; i++) {
      g->msum += g->mhist[i];
      g->msq += (double) g->mhist[i] * g->mhist[i];
    }
  }
}

/* mu, sigma of the short means in the window, from the running sums */
static void
fit_short (group_state *g)
{
  double n = (double) g->n_mhist;

  g->mu = g->msum / n;
  g->sigma = MAX (sqrt (MAX (g->msq / n - g->mu * g->mu, 0.0)), MIN_SIGMA);
}

/* Whether a feature of @xn lies beyond the range seen so far by more than
 * RANGE_MARGIN of its width; then the range takes @xn in. A value never
 * seen before is itself the anomaly, whatever the forecast made of it. */
static gboolean
outside_range (rnn_detector *d, group_state *g, const float *xn)
{
  gboolean out = FALSE;

  for (size_t i = 0; i < d->per; i++) {
    double w = (double) g->hi[i] - g->lo[i];
    if (w > 0 && (xn[i] > g->hi[i] + RANGE_MARGIN * w
            || xn[i] < g->lo[i] - RANGE_MARGIN * w))
      out = TRUE;
    g->lo[i] = MIN (g->lo[i], xn[i]);
    g->hi[i] = MAX (g->hi[i], xn[i]);
  }
  return out;
}

/* -log10 of the upper tail of the standard normal at @z (asymptotic
 * expansion where erfc underflows). */
static double
neg_log10_q (double z)
{
  if (z < 25)
    return -log10 (0.5 * erfc (z / G_SQRT2));
  return (z * z / 2 + log (z) + 0.5 * log (2 * G_PI)) / G_LN10;
}

static float
median_of (float *v, unsigned n)
{
  sort_small (v, n);           /* n <= MEDIAN_RUN */
  return n % 2 ? v[n / 2] : 0.5f * (v[n / 2 - 1] + v[n / 2]);
}

/* Frame @xn's excursion outside the training range into the run @recent
 * (@n_recent entries, next write at *pos), and the level offset @b it gives:
 * the median of the full run, else 0. */
static void
level_push (const rnn_detector *d, float *recent, unsigned *n_recent,
    unsigned *pos, const float *xn, float *b)
{
  const size_t per = d->per;
  size_t i;

  for (i = 0; i < per; i++) {
    double x = xn[i], ex = 0;
    if (d->in_min != NULL && x < d->in_min[i])
      ex = x - d->in_min[i];
    else if (d->in_max != NULL && x > d->in_max[i])
      ex = x - d->in_max[i];
    recent[*pos * per + i] = (float) ex;
  }
  *pos = (*pos + 1) % MEDIAN_RUN;
  if (*n_recent < MEDIAN_RUN)
    (*n_recent)++;
  for (i = 0; i < per; i++) {
    float tmp[MEDIAN_RUN];
    guint32 any = 0;

    if (*n_recent < MEDIAN_RUN) {
      b[i] = 0.0f;
      continue;
    }
    for (unsigned j = 0; j < MEDIAN_RUN; j++) {
      guint32 bits;
      tmp[j] = recent[j * per + i];
      memcpy (&bits, &tmp[j], sizeof bits);
      any |= bits;
    }
    /* inside the training range (the rule): a run of +0.0, whose median
     * is +0.0, without the sort */
    b[i] = any == 0 ? 0.0f : median_of (tmp, MEDIAN_RUN);
  }
}

void
rnn_detector_guess_feed (rnn_detector *d, size_t gi, const float *xn,
    size_t n, float *feed)
{
  const group_state *g = &d->g[gi];
  const size_t per = d->per;
  unsigned n_recent = g->n_recent, pos = g->recent_pos;

  memcpy (d->ring, g->recent, MEDIAN_RUN * per * sizeof (float));
  for (size_t t = 0; t < n; t++) {
    level_push (d, d->ring, &n_recent, &pos, xn + t * per, d->level_b);
    /* rnn_detector_step's feed without a shrink, pn + (x - b - pn), is
     * this when the error is exact */
    for (size_t i = 0; i < per; i++)
      feed[t * per + i] = (float) ((double) xn[t * per + i] - d->level_b[i]);
  }
}

double
rnn_detector_step (rnn_detector *d, size_t gi, const float *xn,
    const float *pn, float *feed, rnn_detector_event *event, double *peak)
{
  group_state *g = &d->g[gi];
  const size_t per = d->per;
  const double thr = d->cfg.threshold;
  double acc = 0, r, s, cap, out;
  size_t i;
  gboolean judged;

  *event = RNN_DETECTOR_NONE;
  if (g->frames < G_MAXUINT)
    g->frames++;
  judged = g->frames > d->warmup;

  /* Level: the median over the last MEDIAN_RUN frames of how far the
   * frame lies outside the training range moves the input back into it
   * (a spike does not move a median; a level shift out of the range does
   * after half the run, and going back into the range undoes it). */
  level_push (d, g->recent, &g->n_recent, &g->recent_pos, xn, g->b);

  if (pn == NULL) {
    /* no prediction (first frame after a reset): nothing to judge */
    for (i = 0; i < per; i++)
      feed[i] = xn[i] - g->b[i];
    if (g->in_anomaly) {
      g->in_anomaly = FALSE;
      *event = RNN_DETECTOR_END;
    }
    *peak = g->peak;
    return 0.0;
  }

  for (i = 0; i < per; i++) {
    double e = (double) xn[i] - g->b[i] - pn[i];
    double z = (e - d->em[i]) / d->es[i];
    acc += z * z;
  }
  r = sqrt (acc / (double) per);
  if (!g->cap_ok) {
    g->cap = radius (g, thr);
    g->cap_ok = TRUE;
  }
  cap = g->cap;

  /* Into the model: the frame or, for at most MAX_SHRINK frames in a row
   * beyond the threshold's radius, the frame shrunk onto it along its
   * error: a spike does not poison the state, a lasting change is learnt
   * by it. Not during the warm-up: the state settles on what came. */
  {
    double shrink = 1.0;
    if (judged && r > cap && r > 0 && g->shrunk < MAX_SHRINK) {
      shrink = cap / r;
      g->shrunk++;
    } else if (r <= cap) {
      g->shrunk = 0;
    }
    for (i = 0; i < per; i++) {
      double e = (double) xn[i] - g->b[i] - pn[i];
      feed[i] = (float) (pn[i] + shrink * e);
    }
  }

  /* The window learns the score (after the warm-up), capped at the
   * threshold's radius while such frames are rare: an isolated anomaly does
   * not widen the tail, frequent ones (more than RATE_LEARN of the recent
   * frames: a new regime) do. */
  g->rate += ((r > cap ? 1.0 : 0.0) - g->rate) / RATE_FRAMES;
  if (judged) {
    g->hist[g->hist_pos] = (float) (g->rate > RATE_LEARN ? r : MIN (r, cap));
    g->hist_pos = (g->hist_pos + 1) % d->tail_window;
    if (g->n_hist < d->tail_window)
      g->n_hist++;
    if (g->n_hist >= MIN_HISTORY
        && (++g->since_fit >= MAX (d->tail_window / 50, 1)
            || g->n_hist == MIN_HISTORY)) {
      fit_tail (d, g);
      g->since_fit = 0;
    }
  }

  /* The score: the short mean m of the last SHORT frames' r, against the
   * mean mu and standard deviation sigma of the short means over the
   * window before this frame (re-estimated at every frame from running
   * sums): s = -log10 Q((m - mu) / sigma), Q the upper tail of the standard
   * normal. A frame outside the range seen (RANGE_MARGIN) scores at least
   * the threshold. */
  {
    double m = 0;
    g->shortr[g->short_pos] = (float) r;
    g->short_pos = (g->short_pos + 1) % SHORT;
    if (g->n_short < SHORT)
      g->n_short++;
    for (unsigned j = 0; j < g->n_short; j++)
      m += g->shortr[j];
    m /= SHORT;
    /* against the window before this frame */
    if (g->n_mhist >= MIN_HISTORY) {
      fit_short (g);
      s = neg_log10_q ((m - g->mu) / g->sigma);
    } else {
      s = 0.0;
    }
    /* all short means from the first frame on, the warm-up's and
     * anomalies included (measured better than capping them or starting
     * after the warm-up: a recurring kind of incident stops being
     * surprising, and the warm-up is data too) */
    push_short (d, g, m);
    if (outside_range (d, g, xn))
      s = MAX (s, thr);
    judged = judged && g->n_mhist > MIN_HISTORY;
  }

  /* The output: 0 while not judged and for the hold - 1 frames after a
   * start (muted: an incident is reported once, at its onset), else s.
   * Events follow the output. */
  if (!judged) {
    out = 0.0;
  } else if (g->held > 0) {
    g->held--;
    out = 0.0;
  } else {
    out = s;
  }
  if (g->in_anomaly && out < thr) {
    g->in_anomaly = FALSE;
    *event = RNN_DETECTOR_END;
  } else if (!g->in_anomaly && out >= thr) {
    g->in_anomaly = TRUE;
    g->held = d->hold > 0 ? d->hold - 1 : 0;
    g->peak = out;
    *event = RNN_DETECTOR_START;
  }
  if (g->in_anomaly)
    g->peak = MAX (g->peak, out);
  *peak = g->peak;
  return out;
}

/* The state as bytes packed into floats (a snapshot to save and restore,
 * bit for bit): per group the scalars, b, the recent ring and the window. */
#define PACK_FIELDS(X, g) \
  X (g->n_recent) X (g->recent_pos) X (g->n_hist) X (g->hist_pos) \
  X (g->since_fit) X (g->level) X (g->scale) X (g->fraction) X (g->shape) \
  X (g->frames) X (g->in_anomaly) X (g->held) X (g->shrunk) X (g->peak) \
  X (g->rate) X (g->shortr) X (g->n_short) X (g->short_pos) X (g->n_mhist) \
  X (g->mhist_pos) X (g->msum) X (g->msq) X (g->mu) \
  X (g->sigma)

static size_t
group_bytes (const rnn_detector *d)
{
  const group_state *g = d->g;
  size_t n = 0;
#define SIZE(f) n += sizeof (f);
  PACK_FIELDS (SIZE, g)
#undef SIZE
  return n + (d->per * (3 + MEDIAN_RUN) + d->tail_window + d->cfg.window)
      * sizeof (float);
}

size_t
rnn_detector_state_size (const rnn_detector *d)
{
  return (d->groups * group_bytes (d) + sizeof (float) - 1) / sizeof (float);
}

rnn_status
rnn_detector_get_state (const rnn_detector *d, float *buf, size_t n,
    rnn_error *err)
{
  guint8 *p = (guint8 *) buf;

  if (n != rnn_detector_state_size (d))
    return rnn__set_error (err, RNN_ERR_ARG, "anomaly detector state: %zu "
        "floats given, %zu needed", n, rnn_detector_state_size (d));
  memset (buf, 0, n * sizeof (float));
  for (size_t i = 0; i < d->groups; i++) {
    const group_state *g = &d->g[i];
#define PUT(f) memcpy (p, &(f), sizeof (f)); p += sizeof (f);
    PACK_FIELDS (PUT, g)
#undef PUT
    memcpy (p, g->b, d->per * sizeof (float));
    p += d->per * sizeof (float);
    memcpy (p, g->recent, d->per * MEDIAN_RUN * sizeof (float));
    p += d->per * MEDIAN_RUN * sizeof (float);
    memcpy (p, g->hist, d->tail_window * sizeof (float));
    p += d->tail_window * sizeof (float);
    memcpy (p, g->mhist, d->cfg.window * sizeof (float));
    p += d->cfg.window * sizeof (float);
    memcpy (p, g->lo, d->per * sizeof (float));
    p += d->per * sizeof (float);
    memcpy (p, g->hi, d->per * sizeof (float));
    p += d->per * sizeof (float);
  }
  return RNN_OK;
}

rnn_status
rnn_detector_set_state (rnn_detector *d, const float *buf, size_t n,
    rnn_error *err)
{
  const guint8 *p = (const guint8 *) buf;

  if (n != rnn_detector_state_size (d))
    return rnn__set_error (err, RNN_ERR_ARG, "anomaly detector state: %zu "
        "floats given, %zu needed (another window or channel count?)", n,
        rnn_detector_state_size (d));
  for (size_t i = 0; i < d->groups; i++) {
    group_state *g = &d->g[i];
#define GET(f) memcpy (&(f), p, sizeof (f)); p += sizeof (f);
    PACK_FIELDS (GET, g)
#undef GET
    g->cap_ok = FALSE;
    memcpy (g->b, p, d->per * sizeof (float));
    p += d->per * sizeof (float);
    memcpy (g->recent, p, d->per * MEDIAN_RUN * sizeof (float));
    p += d->per * MEDIAN_RUN * sizeof (float);
    memcpy (g->hist, p, d->tail_window * sizeof (float));
    p += d->tail_window * sizeof (float);
    memcpy (g->mhist, p, d->cfg.window * sizeof (float));
    p += d->cfg.window * sizeof (float);
    memcpy (g->lo, p, d->per * sizeof (float));
    p += d->per * sizeof (float);
    memcpy (g->hi, p, d->per * sizeof (float));
    p += d->per * sizeof (float);
    if (g->n_recent > MEDIAN_RUN || g->recent_pos >= MEDIAN_RUN
        || g->n_hist > d->tail_window || g->hist_pos >= d->tail_window
        || g->n_short > SHORT || g->short_pos >= SHORT
        || g->n_mhist > d->cfg.window || g->mhist_pos >= d->cfg.window) {
      rnn_detector_reset (d);
      return rnn__set_error (err, RNN_ERR_ARG, "anomaly detector state: "
          "counters out of range");
    }
  }
  return RNN_OK;
}
