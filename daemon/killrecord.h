/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What cgsentryd remembers of a kill, for `cgsentry history`: the journal
 * fields of the kill's summary entry (CGSENTRY_RECORD=1 marks it among the
 * detail lines that share its MESSAGE_ID) and, without a journal, the same
 * record as one JSON line of the state-directory log (statelog.h).
 */
#ifndef CGSENTRY_KILLRECORD_H
#define CGSENTRY_KILLRECORD_H

#include "cgsentry/supervise.h"

#define KILLRECORD_MAX_FIELDS 20

struct killrecord {
        /* "KEY=value" strings, NULL-terminated: cgsentry_log_fields.extra */
        char *fields[KILLRECORD_MAX_FIELDS + 1];
        char *json; /* the history --json object, one line */
};

/* The record of @plan carried out on the snapshot @s's domain. 0 or -ENOMEM. */
int killrecord_build(const struct sv_snapshot *s, const struct sv_plan *plan,
                     const struct sv_trigger *trig, const char *rule, const char *policy,
                     struct killrecord *ret);
void killrecord_done(struct killrecord *k);

#endif
