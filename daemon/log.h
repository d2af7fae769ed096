/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging for cgsentryd: to the journal with structured fields when stderr
 * is connected to it (JOURNAL_STREAM, as systemd sets for services), else
 * one readable line per message on stderr.
 */
#ifndef CGSENTRY_LOG_H
#define CGSENTRY_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Stable MESSAGE_IDs, one per event kind, so operators can filter with
 * journalctl MESSAGE_ID=... */
#define CGSENTRY_MID_KILL "5c8e0f7ad1a94a4f8d7b3f0c2e61a901"
#define CGSENTRY_MID_DRY_RUN "5c8e0f7ad1a94a4f8d7b3f0c2e61a902"
#define CGSENTRY_MID_TRIGGER "5c8e0f7ad1a94a4f8d7b3f0c2e61a903"
#define CGSENTRY_MID_SUPERVISE "5c8e0f7ad1a94a4f8d7b3f0c2e61a904"
#define CGSENTRY_MID_CONFIG "5c8e0f7ad1a94a4f8d7b3f0c2e61a905"

struct sv_trigger;

struct cgsentry_log_fields {
        const char *message_id;
        const char *cgroup;
        const char *trigger;
        const char *policy;
        const char *rule;
        int victim_pid;            /* 0: none */
        const char *killed_pids;   /* "123 124 125", or NULL */
        /* The figures a kill was decided on: CGSENTRY_* memory fields. */
        const struct sv_trigger *trig;
        /* More "KEY=value" journal fields, NULL-terminated (killrecord.h). */
        char *const *extra;
};

void cgsentry_log_init(void);
/* Do messages go to the journal (with their fields)? */
bool cgsentry_log_to_journal(void);
/* Send every message to @fn instead (tests); NULL restores the default. */
typedef void (*cgsentry_log_sink_fn)(void *userdata, int priority,
                                     const struct cgsentry_log_fields *f, const char *msg);
void cgsentry_log_set_sink(cgsentry_log_sink_fn fn, void *userdata);
/* The program name on stderr lines (default cgsentryd). */
void cgsentry_log_set_ident(const char *name);
/* Messages less important than @priority are dropped (default LOG_INFO). */
void cgsentry_log_set_max_priority(int priority);
void cgsentry_log(int priority, const struct cgsentry_log_fields *f, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Log each line of a multi-line text (the kernel-style report) separately. */
void cgsentry_log_lines(int priority, const struct cgsentry_log_fields *f, const char *text);

#endif
