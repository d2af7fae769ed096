/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * OOM kills after the fact: the kernel's OOM report, read back from its log
 * (/dev/kmsg records, dmesg, journalctl -k, syslog files, journalctl -o
 * json) into one record per kill, and cgsentryd's own kill records. Pure:
 * callers hand in lines or messages, the parser never reads a file.
 *
 * Not part of the documented API (like parse.h): cgsentry and cgsentryd link
 * libsupervise statically.
 */
#ifndef SV_OOMLOG_H
#define SV_OOMLOG_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cgsentry/supervise.h"

/* Unknown numbers in a record. */
#define SV_OOMREC_UNKNOWN INT64_MIN

/* One OOM kill: the kernel's or cgsentryd's. Strings are malloc'ed (NULL:
 * unknown); names are raw bytes, escaped only when printed. */
struct sv_oomrec {
        int64_t realtime_usec;  /* wall clock, µs since the epoch, or SV_OOMREC_UNKNOWN */
        int64_t monotonic_usec; /* the kernel's timestamp (µs since boot), or unknown */
        char boot_id[33];       /* 32 hex digits, "" when unknown */
        unsigned boot_seq;      /* input order of boots, to tell boots apart without ids */
        bool cgsentryd;         /* source: false = the kernel */
        char *constraint;       /* CONSTRAINT_MEMCG, ... or cgsentryd's trigger */
        char *domain;           /* the OOM memcg "/a/b", "/" system-wide */
        int victim_pid;
        char victim_comm[64];
        int64_t victim_uid;
        char *victim_cgroup;
        int64_t anon_rss_kb, file_rss_kb, shmem_rss_kb, total_vm_kb, pgtables_kb;
        int64_t oom_score_adj;
        char *group;            /* killed whole (memory.oom.group or cgsentryd), or NULL */
        int *killed;            /* sorted, victim included */
        size_t n_killed;
        bool reaped;            /* the oom_reaper reaped the victim */
        /* The allocation that failed (the "invoked oom-killer" header). */
        char *gfp_mask;
        int64_t order;
        char alloc_comm[64];
        int64_t alloc_oom_score_adj;
        bool allocating_task;   /* vm.oom_kill_allocating_task chose it */
        /* cgsentryd */
        char *rule, *policy;
};

void sv_oomrec_free(struct sv_oomrec *r);
/* Adds @pid to ->killed (kept sorted, no duplicates). 0 or -ENOMEM. */
int sv_oomrec_add_killed(struct sv_oomrec *r, int pid);
/* "kernel" or "cgsentryd" */
const char *sv_oomrec_source(const struct sv_oomrec *r);

/*
 * The record as history --json prints it (cgsentry(1) documents the keys):
 * time, monotonic_usec, boot_id, source, constraint, domain, victim {pid,
 * comm, uid, cgroup, anon_rss_kb, file_rss_kb, shmem_rss_kb, oom_score_adj,
 * total_vm_kb, pgtables_kb}, group, killed, reaped, gfp_mask, order,
 * allocating {comm, oom_score_adj}, allocating_task, rule, policy. Names
 * escaped with sv_escape(). NULL when out of memory.
 */
json_object *sv_oomrec_to_json(const struct sv_oomrec *r);
/* One line of JSON (no newline), malloc'ed. */
char *sv_oomrec_to_json_line(const struct sv_oomrec *r);
/* Reads what sv_oomrec_to_json() wrote (cgsentryd's state log). -EINVAL
 * for anything else. */
int sv_oomrec_from_json(json_object *o, struct sv_oomrec **ret);

/* "2024-03-05T11:34:56.123456Z" into @buf (UTC). */
const char *sv_oomrec_format_time(int64_t realtime_usec, char *buf, size_t size);

/* ---- the kernel's log -------------------------------------------------- */

struct sv_oomlog;

int sv_oomlog_new(struct sv_oomlog **ret);
void sv_oomlog_free(struct sv_oomlog *p);

/*
 * sv_oomlog_feed() - one kernel message (the text only, one line, no
 * timestamp prefix), with the kernel's timestamp (@mono_usec, µs since
 * boot), its wall-clock time when known and its boot's id (NULL or "" when
 * unknown). A message that is not part of an OOM report is ignored. A
 * different @boot_id or a timestamp far before the previous one starts a
 * new boot. 0 or -ENOMEM.
 */
int sv_oomlog_feed(struct sv_oomlog *p, const char *msg, int64_t mono_usec, int64_t real_usec,
                   const char *boot_id);
/* The messages that follow are another boot's (@boot_id may be empty). */
void sv_oomlog_new_boot(struct sv_oomlog *p, const char *boot_id);
/* No more messages for now: the kill being read is complete. */
void sv_oomlog_flush(struct sv_oomlog *p);
/* Messages since the last completed kill? (a kill may still be growing) */
bool sv_oomlog_pending(const struct sv_oomlog *p);
/* Completed records, oldest first: ownership moves to the caller (free
 * each with sv_oomrec_free(), the array with free()). */
size_t sv_oomlog_take(struct sv_oomlog *p, struct sv_oomrec ***ret);

/* What one line of a saved log is. */
enum sv_logline_kind {
        SV_LOGLINE_KERNEL,  /* a kernel message: ->msg */
        SV_LOGLINE_OTHER,   /* another program's line, or a dictionary line: skip */
        SV_LOGLINE_BOOT,    /* "-- Boot ID --" (->boot_id) or "-- Reboot --" */
        SV_LOGLINE_JSON,    /* a JSON object: journalctl -o json, or a history record */
};

struct sv_logline {
        enum sv_logline_kind kind;
        const char *msg;     /* points into the line (or ->buf after unescaping) */
        int64_t mono_usec;   /* SV_OOMREC_UNKNOWN when the line has none */
        int64_t real_usec;
        char boot_id[33];
        char buf[1024];      /* room for an unescaped /dev/kmsg message */
};

/*
 * sv_logline_parse() - recognise one line (no newline) of a saved kernel
 * log: a /dev/kmsg record ("6,1234,5678,-;text", \xNN unescaped), dmesg
 * ("[  12.345678] text", -T, --time-format iso, -x), journalctl -k (short,
 * short-precise, short-iso, short-iso-precise, short-full, short-monotonic,
 * with "-- Boot ID --" lines), syslog files ("host kernel: [  12.3] text"),
 * or a bare message. Local times are read in this machine's time zone,
 * a missing year as the most recent one that is not in the future. @now_usec
 * is the wall clock of "now" for that.
 */
void sv_logline_parse(const char *line, int64_t now_usec, struct sv_logline *ret);

/*
 * sv_oomrec_from_journal() - a cgsentryd kill from its journal fields
 * (MESSAGE_ID=5c8e0f7ad1a94a4f8d7b3f0c2e61a901 with CGSENTRY_RECORD=1):
 * @get returns a field's value or NULL. -EINVAL when it is not such an
 * entry.
 */
int sv_oomrec_from_journal(const char *(*get)(void *userdata, const char *field), void *userdata,
                           struct sv_oomrec **ret);

#endif

/*
 * sv_oomlog_read_file() - every kill in a saved log, oldest first: any of
 * the line formats sv_logline_parse() knows, plus JSON lines (journalctl
 * -o json: kernel messages and cgsentryd's kill entries; cgsentry history
 * --json and cgsentryd's state log: records). Unreadable lines are
 * skipped. *@ret is an array of records (free each, then the array).
 */
int sv_oomlog_read_file(FILE *f, int64_t now_usec, struct sv_oomrec ***ret, size_t *ret_n);

/* Appends @r to a growing array; 0 or -ENOMEM (then @r is freed). */
int sv_oomrec_push(struct sv_oomrec ***arr, size_t *n, struct sv_oomrec *r);
