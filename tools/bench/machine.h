/* gst-rnn benchmarks: what the machine can do, measured without the engine
 * (machine.c).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef BENCH_MACHINE_H
#define BENCH_MACHINE_H

#include <stddef.h>

/* The widest vector instruction set the measuring loops use here:
 * "avx512", "avx2" or "scalar". */
const char *bm_isa (void);

/* GB/s of a vectorised read loop over a 64-byte aligned buffer of @bytes
 * (rounded up to 512), read again and again: the bandwidth of the cache
 * level that holds that many bytes (the best of @reps runs of @min_time). */
double bm_read_gbs (size_t bytes, double min_time, int reps);

/* Peak rates of one core in G operations/s (a multiply-add counts 2), from
 * loops of independent register-only multiply-adds (the best of @reps
 * runs); 0 when the CPU lacks the instruction. */
typedef struct {
  double f32;            /* vfmadd231ps (AVX-512, else AVX2) */
  double bf16;           /* vdpbf16ps (AVX512-BF16) */
  double int8;           /* vpdpbusd (AVX512-VNNI, else AVX-VNNI) */
  const char *f32_isa, *bf16_isa, *int8_isa;
} bm_peak_set;

void bm_peaks (bm_peak_set *p, double min_time, int reps);

#endif
