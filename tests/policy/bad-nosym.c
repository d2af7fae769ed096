/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A shared object without the entry symbol (a misspelt one instead). */
#include "cgsentry/policy.h"

CGSENTRY_POLICY_EXPORT int cgsentry_policy_entry_point(void);

CGSENTRY_POLICY_EXPORT int cgsentry_policy_entry_point(void)
{
        return 0;
}
