/* gst-rnn: the random stream used for initialisation and dropout (private
 * to core/).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef RNN_RNG_H
#define RNN_RNG_H

#include <glib.h>
#include <math.h>
#include <stdint.h>

/* ------------------------------------------------------------------ RNG
 * xoshiro256** seeded through splitmix64: small, fast, and the same stream
 * on every platform, so a seed always gives the same model bytes. */

typedef struct {
  uint64_t s[4];
} rng_t;

static inline uint64_t
splitmix64 (uint64_t *x)
{
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline void
rng_seed (rng_t *r, uint64_t seed)
{
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64 (&seed);
}

static inline uint64_t
rotl (uint64_t x, int k)
{
  return (x << k) | (x >> (64 - k));
}

static inline uint64_t
rng_next (rng_t *r)
{
  uint64_t *s = r->s;
  uint64_t result = rotl (s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double
rng_uniform (rng_t *r)
{
  return (double) (rng_next (r) >> 11) * 0x1.0p-53;
}

/* Standard normal (Box-Muller; one value per call, the partner dropped so
 * the stream position depends only on the count of calls). */
static inline double
rng_normal (rng_t *r)
{
  double u1 = 1.0 - rng_uniform (r);    /* (0, 1] */
  double u2 = rng_uniform (r);
  return sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2);
}

static inline void
fill_uniform (rng_t *r, float *p, size_t n, double bound)
{
  for (size_t i = 0; i < n; i++)
    p[i] = (float) ((2.0 * rng_uniform (r) - 1.0) * bound);
}

#endif
