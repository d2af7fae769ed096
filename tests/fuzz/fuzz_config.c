/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgsentryd's configuration file. */
#include <stdio.h>

#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_text(data, size);
        struct cgsentry_config *c = NULL;
        FILE *null = fopen("/dev/null", "w");

        if (text && cgsentry_config_load_string(text, "fuzz.conf", null, &c) == 0) {
                for (size_t i = 0; i < c->n_rules; i++)
                        (void)cgsentry_config_match(c, c->rules[i].match);
                cgsentry_config_free(c);
        }
        if (null)
                fclose(null);
        free(text);
        return 0;
}
