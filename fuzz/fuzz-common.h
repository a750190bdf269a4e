/* gst-rnn: what every fuzz target defines.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each target defines LLVMFuzzerTestOneInput. Built with clang and
 * -fsanitize=fuzzer it is driven by libFuzzer; built normally it is linked
 * with replay.c, whose main() feeds it every file of a corpus (the replay
 * tests of `meson test`).
 */
#ifndef RNN_FUZZ_COMMON_H
#define RNN_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#endif
