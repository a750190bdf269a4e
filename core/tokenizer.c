/* placeholder until the tokenizer lands */
#include "rnn-private.h"
