/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pressure: the candidate whose tasks stall most on memory: the highest
 * memory.pressure "full avg10", then "some avg10", then memory.current;
 * ties to the first in pre-order. No options.
 */
#include "common.h"

static int pressure_choose(const struct cgsentry_view *v, void *state, struct cgsentry_decision *d)
{
        policy_choose_ranked(v, POLICY_RANK_PRESSURE, d);
        return 0;
}

CGSENTRY_POLICY_DEFINE("pressure", POLICY_VERSION,
                       "the group with the highest memory PSI full avg10, then some avg10",
                       NULL, pressure_choose, NULL)
