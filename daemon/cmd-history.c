/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgsentry history: every OOM kill we can find, oldest first. The kernel's
 * from its log (the live ring buffer /dev/kmsg, the journal for earlier
 * boots, or a saved log with --kmsg), cgsentryd's from the journal or from
 * its state-directory log. --follow waits on all of them with poll(): no
 * timer runs unless a kill is still being read.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "cgsentry.h"
#include "cgsentry/supervise.h"
#include "config.h"
#include "oomlog.h"
#include "statelog.h"
#include "util.h"

#define MID_KILL "5c8e0f7ad1a94a4f8d7b3f0c2e61a901"
#define KMSG_DEVICE "/dev/kmsg"
#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"
/* --follow: a kill is printed once its report has been quiet this long
 * (the members of a group kill and the reaper line come within it). */
#define FOLLOW_QUIET_MSEC 250
#define UNKNOWN SV_OOMREC_UNKNOWN

static void history_usage(FILE *out)
{
        fputs("Usage: cgsentry history [OPTIONS]\n"
              "\n"
              "List every OOM kill that can be found, oldest first: the kernel's (from\n"
              "/dev/kmsg and the journal) and cgsentryd's (from the journal, or from its\n"
              "state directory when it runs without one).\n"
              "\n"
              "Options:\n"
              "  --json               one JSON object per kill (JSON Lines)\n"
              "  --kmsg FILE          read a saved log instead (dmesg, journalctl -k, a\n"
              "                       /dev/kmsg dump, journalctl -o json, history --json);\n"
              "                       repeatable; \"-\" is standard input\n"
              "  -b, --boot N|ID      only this boot: 0 this one, -1 the one before, ...,\n"
              "                       or a boot ID (the journal keeps earlier boots)\n"
              "  --since TIME         only kills at or after TIME\n"
              "  --until TIME         only kills before TIME (\"2024-03-05 12:00\",\n"
              "                       \"2024-03-05T12:00:00Z\", \"today\", \"yesterday\",\n"
              "                       \"-2h\", \"@EPOCH\")\n"
              "  --cgroup GLOB        only kills whose victim's cgroup or killed group\n"
              "                       matches GLOB ('*' within a component, '**' any)\n"
              "  --pid PID            only kills that killed PID\n"
              "  --comm NAME          only kills whose victim's name matches NAME (a glob)\n"
              "  -f, --follow         after the past, print new kills as they happen\n"
              "  --state-dir DIR      cgsentryd's state directory (default " CGSENTRY_STATE_DIR_DEFAULT ",\n"
              "                       or StateDirectory= of --config)\n"
              "  -c, --config FILE    cgsentryd's configuration, for its StateDirectory=\n"
              "  --no-journal         do not read the journal\n"
              "  --no-kmsg            do not read /dev/kmsg\n"
              "  -h, --help           show this help\n"
              "\n"
              "Exit status: 0 at least one kill was listed, 1 none, 2 error.\n",
              out);
}

struct history {
        bool json, follow, no_journal, no_kmsg;
        const char **files;
        size_t n_files;
        const char *boot_arg;
        char boot[33];       /* resolved --boot, "" for all */
        char this_boot[33];  /* of the running kernel */
        int64_t since, until;
        const char *cgroup_glob, *comm;
        int pid;
        char *state_dir;
        struct sv_oomrec **recs;
        size_t n_recs;
        size_t n_printed;
        bool had_source;
};

static void read_boot_id(char out[33])
{
        char buf[64];
        FILE *f = fopen(BOOT_ID_PATH, "re");
        size_t n = 0;

        out[0] = '\0';
        if (!f)
                return;
        if (fgets(buf, sizeof(buf), f))
                for (char *p = buf; *p && n < 32; p++)
                        if (*p != '-' && *p != '\n')
                                out[n++] = *p;
        out[n == 32 ? 32 : 0] = '\0';
        fclose(f);
}

/* ---- times --------------------------------------------------------------- */

static int parse_time(const char *s, int64_t *ret)
{
        int64_t now = sv__clock_usec(CLOCK_REALTIME);
        struct tm tm = { 0 };
        const char *end;
        uint64_t d;
        time_t t;

        if (strcmp(s, "now") == 0) {
                *ret = now;
                return 0;
        }
        if (strcmp(s, "today") == 0 || strcmp(s, "yesterday") == 0) {
                t = (time_t)(now / 1000000);
                localtime_r(&t, &tm);
                tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
                tm.tm_isdst = -1;
                if (s[0] == 'y')
                        tm.tm_mday--;
                *ret = (int64_t)mktime(&tm) * 1000000;
                return 0;
        }
        if (s[0] == '@') {
                char *e;
                long long v = strtoll(s + 1, &e, 10);
                if (*e || e == s + 1)
                        return -EINVAL;
                *ret = v * 1000000;
                return 0;
        }
        if (s[0] == '-' && sv_parse_duration(s + 1, 0, UINT64_MAX, &d, NULL, 0) == 0) {
                *ret = now - (int64_t)d;
                return 0;
        }
        static const char *const formats[] = { "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                                               "%Y-%m-%d %H:%M", "%Y-%m-%d" };
        for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
                memset(&tm, 0, sizeof(tm));
                end = strptime(s, formats[i], &tm);
                if (!end)
                        continue;
                if (*end == 'Z' && !end[1]) {
                        *ret = (int64_t)timegm(&tm) * 1000000;
                        return 0;
                }
                if (*end)
                        continue;
                tm.tm_isdst = -1;
                *ret = (int64_t)mktime(&tm) * 1000000;
                return 0;
        }
        return -EINVAL;
}

static const char *local_time(int64_t usec, char *buf, size_t size)
{
        time_t t = (time_t)(usec / 1000000);
        struct tm tm;

        if (usec == UNKNOWN || !localtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm))
                snprintf(buf, size, "-");
        return buf;
}

/* ---- collecting ----------------------------------------------------------- */

static int add(struct history *h, struct sv_oomrec *r)
{
        return sv_oomrec_push(&h->recs, &h->n_recs, r);
}

static int add_all(struct history *h, struct sv_oomrec **rs, size_t n)
{
        int e = 0;

        for (size_t i = 0; i < n; i++) {
                if (e == 0)
                        e = add(h, rs[i]);
                else
                        sv_oomrec_free(rs[i]);
        }
        free(rs);
        return e;
}

static int read_files(struct history *h)
{
        for (size_t i = 0; i < h->n_files; i++) {
                bool std = strcmp(h->files[i], "-") == 0;
                FILE *f = std ? stdin : fopen(h->files[i], "re");
                struct sv_oomrec **rs;
                size_t n;
                int e;

                if (!f) {
                        fprintf(stderr, "cgsentry history: %s: %m\n", h->files[i]);
                        return -errno;
                }
                e = sv_oomlog_read_file(f, sv__clock_usec(CLOCK_REALTIME), &rs, &n);
                if (!std)
                        fclose(f);
                if (e < 0) {
                        fprintf(stderr, "cgsentry history: %s: %s\n", h->files[i], strerror(-e));
                        return e;
                }
                e = add_all(h, rs, n);
                if (e < 0)
                        return e;
        }
        return 0;
}

/* The state log: history.jsonl.1 then history.jsonl. */
static int read_state_log(struct history *h)
{
        static const char *const names[] = { STATELOG_OLD_NAME, STATELOG_NAME };

        for (size_t i = 0; i < 2; i++) {
                char path[4096];
                struct sv_oomrec **rs;
                size_t n;
                FILE *f;
                int e;

                snprintf(path, sizeof(path), "%s/%s", h->state_dir, names[i]);
                f = fopen(path, "re");
                if (!f) {
                        if (errno != ENOENT)
                                fprintf(stderr, "cgsentry history: %s: %m\n", path);
                        continue;
                }
                h->had_source = true;
                e = sv_oomlog_read_file(f, sv__clock_usec(CLOCK_REALTIME), &rs, &n);
                fclose(f);
                if (e == 0)
                        e = add_all(h, rs, n);
                if (e < 0)
                        return e;
        }
        return 0;
}

/* /dev/kmsg: one record per read(); non-blocking, to its current end. */
struct kmsg {
        int fd;
        struct sv_oomlog *parser;
        int64_t boot_wall; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
        char boot_id[33];
};

static int kmsg_drain(struct kmsg *k)
{
        char rec[8192 + 1];
        struct sv_logline *ll = malloc(sizeof(*ll));
        int e = 0;

        if (!ll)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(k->fd, rec, sizeof(rec) - 1);
                char *nl;
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EPIPE)
                        continue; /* overwritten before we read it */
                if (n <= 0)
                        break;
                rec[n] = '\0';
                if ((nl = strchr(rec, '\n')))
                        *nl = '\0';
                sv_logline_parse(rec, 0, ll);
                if (ll->kind != SV_LOGLINE_KERNEL)
                        continue;
                e = sv_oomlog_feed(k->parser, ll->msg, ll->mono_usec,
                                   ll->mono_usec == UNKNOWN ? UNKNOWN : k->boot_wall + ll->mono_usec,
                                   k->boot_id);
                if (e < 0)
                        break;
        }
        free(ll);
        return e;
}

static int kmsg_open(struct history *h, struct kmsg *k)
{
        k->fd = open(KMSG_DEVICE, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (k->fd < 0)
                return -errno;
        /* The printk clock runs like CLOCK_MONOTONIC (neither counts suspend). */
        k->boot_wall = sv__clock_usec(CLOCK_REALTIME) - sv__clock_usec(CLOCK_MONOTONIC);
        memcpy(k->boot_id, h->this_boot, sizeof(k->boot_id));
        return sv_oomlog_new(&k->parser);
}

static int kmsg_take(struct history *h, struct kmsg *k, bool flush)
{
        struct sv_oomrec **rs;
        size_t n;

        if (flush)
                sv_oomlog_flush(k->parser);
        n = sv_oomlog_take(k->parser, &rs);
        return add_all(h, rs, n);
}

/* ---- the journal ---------------------------------------------------------- */

struct jfields {
        sd_journal *j;
        char *cache[24];
        const char *names[24];
        size_t n;
};

static const char *jget(void *userdata, const char *field)
{
        struct jfields *jf = userdata;
        const void *data;
        size_t len, flen = strlen(field);

        for (size_t i = 0; i < jf->n; i++)
                if (strcmp(jf->names[i], field) == 0)
                        return jf->cache[i];
        if (jf->n == sizeof(jf->cache) / sizeof(jf->cache[0]))
                return NULL;
        if (strcmp(field, "__REALTIME_TIMESTAMP") == 0 || strcmp(field, "__MONOTONIC_TIMESTAMP") == 0) {
                uint64_t t;
                sd_id128_t b;
                int r = field[2] == 'R' ? sd_journal_get_realtime_usec(jf->j, &t)
                                        : sd_journal_get_monotonic_usec(jf->j, &t, &b);
                if (r < 0 || asprintf(&jf->cache[jf->n], "%llu", (unsigned long long)t) < 0)
                        return NULL;
        } else {
                if (sd_journal_get_data(jf->j, field, &data, &len) < 0 || len <= flen)
                        return NULL;
                jf->cache[jf->n] = strndup((const char *)data + flen + 1, len - flen - 1);
                if (!jf->cache[jf->n])
                        return NULL;
        }
        jf->names[jf->n] = field;
        return jf->cache[jf->n++];
}

static void jfields_reset(struct jfields *jf)
{
        for (size_t i = 0; i < jf->n; i++)
                free(jf->cache[i]);
        jf->n = 0;
}

static int64_t num(const char *s)
{
        char *e;
        long long v;

        if (!s)
                return UNKNOWN;
        v = strtoll(s, &e, 10);
        return *e || e == s ? UNKNOWN : (int64_t)v;
}

/* Boot IDs the journal knows, oldest first. */
static int journal_boots(sd_journal *j, char (**ret)[33], size_t *ret_n)
{
        struct boot { char id[33]; uint64_t first; } *b = NULL;
        const void *data;
        size_t len, n = 0;
        char (*ids)[33];
        int r;

        r = sd_journal_query_unique(j, "_BOOT_ID");
        if (r < 0)
                return r;
        SD_JOURNAL_FOREACH_UNIQUE(j, data, len) {
                struct boot *nb;
                if (len != 9 + 32)
                        continue;
                nb = realloc(b, (n + 1) * sizeof(*b));
                if (!nb) {
                        free(b);
                        return -ENOMEM;
                }
                b = nb;
                memcpy(b[n].id, (const char *)data + 9, 32);
                b[n].id[32] = '\0';
                b[n].first = 0;
                n++;
        }
        for (size_t i = 0; i < n; i++) {
                char m[64];
                snprintf(m, sizeof(m), "_BOOT_ID=%s", b[i].id);
                sd_journal_flush_matches(j);
                if (sd_journal_add_match(j, m, 0) >= 0 && sd_journal_seek_head(j) >= 0 &&
                    sd_journal_next(j) > 0)
                        sd_journal_get_realtime_usec(j, &b[i].first);
        }
        sd_journal_flush_matches(j);
        /* insertion sort by first entry */
        for (size_t i = 1; i < n; i++)
                for (size_t k = i; k > 0 && b[k - 1].first > b[k].first; k--) {
                        struct boot t = b[k];
                        b[k] = b[k - 1];
                        b[k - 1] = t;
                }
        ids = calloc(n ?: 1, sizeof(*ids));
        if (!ids) {
                free(b);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                memcpy(ids[i], b[i].id, 33);
        free(b);
        *ret = ids;
        *ret_n = n;
        return 0;
}

static int resolve_boot(struct history *h, sd_journal *j)
{
        const char *a = h->boot_arg;
        char (*ids)[33] = NULL;
        size_t n = 0;
        char *end;
        long off;
        int r;

        if (!a)
                return 0;
        if (strlen(a) == 32 || (strlen(a) == 36 && a[8] == '-')) {
                size_t k = 0;
                for (const char *p = a; *p; p++)
                        if (*p != '-')
                                h->boot[k++] = *p;
                h->boot[k] = '\0';
                return k == 32 ? 0 : -EINVAL;
        }
        off = strtol(a, &end, 10);
        if (*end || end == a || off > 0)
                return -EINVAL;
        if (off == 0) {
                memcpy(h->boot, h->this_boot, 33);
                return 0;
        }
        if (!j)
                return -ENOENT;
        r = journal_boots(j, &ids, &n);
        if (r < 0)
                return r;
        /* the current boot is the last the journal knows (when it knows it) */
        {
                long last = (long)n - 1;
                if (n && strcmp(ids[n - 1], h->this_boot) != 0)
                        last = (long)n; /* this boot has no entry yet */
                if (last + off < 0 || last + off >= (long)n) {
                        free(ids);
                        return -ENOENT;
                }
                memcpy(h->boot, ids[last + off], 33);
        }
        free(ids);
        return 0;
}

static int journal_matches(struct history *h, sd_journal *j, bool kernel)
{
        char m[64];
        int r = 0;

        sd_journal_flush_matches(j);
        if (kernel) {
                r = sd_journal_add_match(j, "_TRANSPORT=kernel", 0);
                if (r >= 0)
                        r = sd_journal_add_disjunction(j);
        }
        if (r >= 0)
                r = sd_journal_add_match(j, "MESSAGE_ID=" MID_KILL, 0);
        if (r >= 0)
                r = sd_journal_add_match(j, "CGSENTRY_RECORD=1", 0);
        if (r >= 0 && h->boot[0]) {
                snprintf(m, sizeof(m), "_BOOT_ID=%s", h->boot);
                r = sd_journal_add_conjunction(j);
                if (r >= 0)
                        r = sd_journal_add_match(j, m, 0);
        }
        return r;
}

/* One journal entry: a cgsentryd record, or a kernel message for @p. */
static int journal_entry(struct history *h, sd_journal *j, struct sv_oomlog *p)
{
        struct jfields jf = { .j = j };
        struct sv_oomrec *r = NULL;
        const char *t = NULL;
        int e = 0;

        if (sv_oomrec_from_journal(jget, &jf, &r) == 0) {
                e = add(h, r);
        } else if (p && (t = jget(&jf, "_TRANSPORT")) && strcmp(t, "kernel") == 0) {
                const char *msg = jget(&jf, "MESSAGE");
                int64_t src = num(jget(&jf, "_SOURCE_MONOTONIC_TIMESTAMP"));
                int64_t real = num(jget(&jf, "__REALTIME_TIMESTAMP"));
                int64_t mono = num(jget(&jf, "__MONOTONIC_TIMESTAMP"));
                /* When the kernel said it, not when journald read it. */
                if (src != UNKNOWN && real != UNKNOWN && mono != UNKNOWN)
                        real -= mono - src;
                if (msg)
                        e = sv_oomlog_feed(p, msg, src, real, jget(&jf, "_BOOT_ID"));
        }
        jfields_reset(&jf);
        return e;
}

static int read_journal(struct history *h, sd_journal *j)
{
        struct sv_oomlog *p = NULL;
        struct sv_oomrec **rs;
        size_t n;
        int r;

        r = journal_matches(h, j, true);
        if (r < 0)
                return r;
        r = sv_oomlog_new(&p);
        if (r < 0)
                return r;
        if (h->since != UNKNOWN)
                r = sd_journal_seek_realtime_usec(j, (uint64_t)(h->since > 60000000 ? h->since - 60000000 : 0));
        else
                r = sd_journal_seek_head(j);
        while (r >= 0 && (r = sd_journal_next(j)) > 0)
                r = journal_entry(h, j, p);
        if (r >= 0) {
                sv_oomlog_flush(p);
                n = sv_oomlog_take(p, &rs);
                r = add_all(h, rs, n);
        }
        sv_oomlog_free(p);
        return r < 0 ? r : 0;
}

/* ---- deduplication, filters, sorting, printing ----------------------------- */

static bool same_kill(const struct sv_oomrec *a, const struct sv_oomrec *b)
{
        if (a->cgsentryd != b->cgsentryd || a->victim_pid != b->victim_pid)
                return false;
        if (a->boot_id[0] && b->boot_id[0] && strcmp(a->boot_id, b->boot_id) != 0)
                return false;
        if (!a->cgsentryd && a->monotonic_usec != UNKNOWN && b->monotonic_usec != UNKNOWN)
                return a->boot_id[0] && b->boot_id[0] && a->monotonic_usec == b->monotonic_usec;
        return a->realtime_usec != UNKNOWN && b->realtime_usec != UNKNOWN &&
               llabs(a->realtime_usec - b->realtime_usec) < 2000000;
}

static void merge_into(struct sv_oomrec *keep, const struct sv_oomrec *dup)
{
        keep->reaped = keep->reaped || dup->reaped;
        for (size_t i = 0; i < dup->n_killed; i++)
                (void)sv_oomrec_add_killed(keep, dup->killed[i]);
        if (!keep->group && dup->group)
                keep->group = strdup(dup->group);
}

static void dedupe(struct history *h)
{
        size_t out = 0;

        for (size_t i = 0; i < h->n_recs; i++) {
                struct sv_oomrec *r = h->recs[i];
                bool dup = false;
                for (size_t k = 0; k < out && !dup; k++)
                        if (same_kill(h->recs[k], r)) {
                                merge_into(h->recs[k], r);
                                dup = true;
                        }
                if (dup)
                        sv_oomrec_free(r);
                else
                        h->recs[out++] = r;
        }
        h->n_recs = out;
}

static bool matches(const struct history *h, const struct sv_oomrec *r)
{
        if (h->boot[0] && r->boot_id[0] && strcmp(h->boot, r->boot_id) != 0)
                return false;
        if ((h->since != UNKNOWN || h->until != UNKNOWN) && r->realtime_usec == UNKNOWN)
                return false;
        if (h->since != UNKNOWN && r->realtime_usec < h->since)
                return false;
        if (h->until != UNKNOWN && r->realtime_usec >= h->until)
                return false;
        if (h->pid) {
                bool found = r->victim_pid == h->pid;
                for (size_t i = 0; i < r->n_killed && !found; i++)
                        found = r->killed[i] == h->pid;
                if (!found)
                        return false;
        }
        if (h->comm && fnmatch(h->comm, r->victim_comm, 0) != 0) {
                char e[4 * sizeof(r->victim_comm) + 1];
                if (fnmatch(h->comm, sv_escape(r->victim_comm, e, sizeof(e)), 0) != 0)
                        return false;
        }
        if (h->cgroup_glob && !(r->victim_cgroup && sv_glob_match(h->cgroup_glob, r->victim_cgroup)) &&
            !(r->group && sv_glob_match(h->cgroup_glob, r->group)))
                return false;
        return true;
}

/* Oldest first; a record without a wall-clock time keeps its place among
 * its own boot's by the kernel's clock. Stable (insertion sort: lists are
 * short, and the order is not a total one). */
static bool before(const struct sv_oomrec *a, const struct sv_oomrec *b)
{
        if (a->realtime_usec != UNKNOWN && b->realtime_usec != UNKNOWN)
                return a->realtime_usec < b->realtime_usec;
        if (a->boot_seq == b->boot_seq && strcmp(a->boot_id, b->boot_id) == 0 &&
            a->monotonic_usec != UNKNOWN && b->monotonic_usec != UNKNOWN)
                return a->monotonic_usec < b->monotonic_usec;
        return false;
}

static void sort_records(struct history *h)
{
        for (size_t i = 1; i < h->n_recs; i++)
                for (size_t k = i; k > 0 && before(h->recs[k], h->recs[k - 1]); k--) {
                        struct sv_oomrec *t = h->recs[k];
                        h->recs[k] = h->recs[k - 1];
                        h->recs[k - 1] = t;
                }
}

static void print_header(const struct history *h)
{
        if (h->json)
                return;
        printf("%-19s %-9s %-16s %-24s %7s %-15s %5s %-28s %9s %9s %9s %5s %-6s %s\n", "TIME",
               "BY", "CONSTRAINT", "DOMAIN", "PID", "COMM", "UID", "CGROUP", "ANON-KB", "FILE-KB",
               "SHMEM-KB", "ADJ", "REAPED", "KILLED WITH IT");
}

static const char *num_or_dash(int64_t v, char *buf, size_t size)
{
        if (v == UNKNOWN)
                snprintf(buf, size, "-");
        else
                snprintf(buf, size, "%lld", (long long)v);
        return buf;
}

static int print_record(struct history *h, const struct sv_oomrec *r)
{
        if (h->json) {
                char *line = sv_oomrec_to_json_line(r);
                if (!line)
                        return -ENOMEM;
                puts(line);
                free(line);
        } else {
                char t[48], comm[4 * sizeof(r->victim_comm) + 1], n[5][32];
                char *dom = sv_escape_dup(r->domain ? r->domain : "-");
                char *cg = sv_escape_dup(r->victim_cgroup ? r->victim_cgroup : "-");
                char *cons = sv_escape_dup(r->constraint ? r->constraint : "-");
                char *grp = r->group ? sv_escape_dup(r->group) : NULL;

                if (r->realtime_usec != UNKNOWN)
                        local_time(r->realtime_usec, t, sizeof(t));
                else if (r->monotonic_usec != UNKNOWN)
                        snprintf(t, sizeof(t), "+%lld.%06llds", (long long)(r->monotonic_usec / 1000000),
                                 (long long)(r->monotonic_usec % 1000000));
                else
                        snprintf(t, sizeof(t), "-");
                printf("%-19s %-9s %-16s %-24s %7d %-15s %5s %-28s %9s %9s %9s %5s %-6s", t,
                       sv_oomrec_source(r), cons ? cons : "?", dom ? dom : "?", r->victim_pid,
                       sv_escape(r->victim_comm, comm, sizeof(comm)),
                       num_or_dash(r->victim_uid, n[0], sizeof(n[0])), cg ? cg : "?",
                       num_or_dash(r->anon_rss_kb, n[1], sizeof(n[1])),
                       num_or_dash(r->file_rss_kb, n[2], sizeof(n[2])),
                       num_or_dash(r->shmem_rss_kb, n[3], sizeof(n[3])),
                       num_or_dash(r->oom_score_adj, n[4], sizeof(n[4])),
                       r->cgsentryd ? "-" : r->reaped ? "yes" : "no");
                if (r->n_killed > 1) {
                        printf(" %zu:", r->n_killed - 1);
                        for (size_t i = 0; i < r->n_killed; i++)
                                if (r->killed[i] != r->victim_pid)
                                        printf(" %d", r->killed[i]);
                } else {
                        printf(" -");
                }
                if (grp)
                        printf(" (group %s)", grp);
                putchar('\n');
                free(dom);
                free(cg);
                free(cons);
                free(grp);
        }
        h->n_printed++;
        return fflush(stdout) == 0 ? 0 : -EIO;
}

/* Print what was collected (matching, deduplicated, sorted), then forget it. */
static int print_collected(struct history *h)
{
        int e = 0;

        dedupe(h);
        sort_records(h);
        for (size_t i = 0; i < h->n_recs; i++) {
                if (e == 0 && matches(h, h->recs[i]))
                        e = print_record(h, h->recs[i]);
                sv_oomrec_free(h->recs[i]);
        }
        h->n_recs = 0;
        return e;
}

/* ---- --follow --------------------------------------------------------------- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
        stop = 1;
}

/* The state log as it grows: where we are in it. */
struct tail {
        int fd;
        ino_t ino;
        off_t off;
        char *part; /* an incomplete last line */
};

static void tail_open(struct history *h, struct tail *t, bool from_end)
{
        char path[4096];
        struct stat st;

        snprintf(path, sizeof(path), "%s/" STATELOG_NAME, h->state_dir);
        if (t->fd >= 0)
                close(t->fd);
        t->fd = open(path, O_RDONLY | O_CLOEXEC);
        t->off = 0;
        free(t->part);
        t->part = NULL;
        if (t->fd >= 0 && fstat(t->fd, &st) == 0) {
                t->ino = st.st_ino;
                if (from_end)
                        t->off = st.st_size;
        }
}

static int tail_read(struct history *h, struct tail *t)
{
        char path[4096], buf[65536];
        struct stat st;
        ssize_t n;
        int e = 0;

        snprintf(path, sizeof(path), "%s/" STATELOG_NAME, h->state_dir);
        /* rotated or recreated: the new file from its start */
        if (stat(path, &st) == 0 && (t->fd < 0 || st.st_ino != t->ino))
                tail_open(h, t, false);
        if (t->fd < 0)
                return 0;
        while ((n = pread(t->fd, buf, sizeof(buf) - 1, t->off)) > 0) {
                char *s, *nl, *text;
                buf[n] = '\0';
                t->off += n;
                if (asprintf(&text, "%s%s", t->part ? t->part : "", buf) < 0)
                        return -ENOMEM;
                free(t->part);
                t->part = NULL;
                for (s = text; (nl = strchr(s, '\n')); s = nl + 1) {
                        json_object *o;
                        struct sv_oomrec *r;
                        *nl = '\0';
                        o = json_tokener_parse(s);
                        if (o && sv_oomrec_from_json(o, &r) == 0)
                                e = add(h, r);
                        json_object_put(o);
                }
                if (*s)
                        t->part = strdup(s);
                free(text);
        }
        return e;
}

static int follow(struct history *h, struct kmsg *k, sd_journal *j)
{
        struct tail t = { .fd = -1 };
        struct sigaction sa = { .sa_handler = on_signal };
        struct pollfd pfd[3];
        int ino = -1, jfd = -1, state_wd = -1, e = 0;

        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        if (j) {
                /* New cgsentryd records only: kernel lines come from /dev/kmsg. */
                if (journal_matches(h, j, !k) >= 0 && sd_journal_seek_tail(j) >= 0 &&
                    sd_journal_previous(j) >= 0)
                        jfd = sd_journal_get_fd(j);
        }
        /* The state directory may not exist yet: cgsentryd creates it on
         * its first kill. Watch its parent for that too. */
        ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (ino >= 0) {
                char *parent = strdup(h->state_dir), *slash = parent ? strrchr(parent, '/') : NULL;
                if (slash) {
                        *(slash == parent ? slash + 1 : slash) = '\0';
                        (void)inotify_add_watch(ino, parent, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
                }
                free(parent);
                state_wd = inotify_add_watch(ino, h->state_dir,
                                             IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
        }
        tail_open(h, &t, true);
        while (!stop && e == 0) {
                int timeout = k && sv_oomlog_pending(k->parser) ? FOLLOW_QUIET_MSEC : -1;
                int n = 0, r;

                if (k)
                        pfd[n++] = (struct pollfd){ .fd = k->fd, .events = POLLIN };
                if (jfd >= 0) {
                        int ev = sd_journal_get_events(j);
                        uint64_t until;
                        pfd[n++] = (struct pollfd){ .fd = jfd, .events = (short)(ev > 0 ? ev : POLLIN) };
                        if (sd_journal_get_timeout(j, &until) >= 0 && until != UINT64_MAX) {
                                int64_t ms =
                                        ((int64_t)until - sv__clock_usec(CLOCK_MONOTONIC)) / 1000;
                                if (ms < 0)
                                        ms = 0;
                                if (timeout < 0 || ms < timeout)
                                        timeout = (int)ms;
                        }
                }
                if (ino >= 0)
                        pfd[n++] = (struct pollfd){ .fd = ino, .events = POLLIN };
                if (n == 0)
                        break;
                r = poll(pfd, (nfds_t)n, timeout);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        e = -errno;
                        break;
                }
                n = 0;
                if (k) {
                        if (pfd[n++].revents)
                                e = kmsg_drain(k);
                        /* quiet: the kill being read is complete */
                        if (e == 0)
                                e = kmsg_take(h, k, r == 0);
                }
                if (jfd >= 0) {
                        n++;
                        if (sd_journal_process(j) != SD_JOURNAL_NOP)
                                while (e == 0 && sd_journal_next(j) > 0)
                                        e = journal_entry(h, j, NULL);
                }
                if (ino >= 0 && pfd[n].revents) {
                        char buf[4096];
                        while (read(ino, buf, sizeof(buf)) > 0)
                                ;
                        if (state_wd < 0)
                                state_wd = inotify_add_watch(ino, h->state_dir,
                                                             IN_MODIFY | IN_CREATE | IN_MOVED_TO |
                                                                     IN_ONLYDIR);
                        if (e == 0)
                                e = tail_read(h, &t);
                }
                if (e == 0)
                        e = print_collected(h);
        }
        if (ino >= 0)
                close(ino);
        if (t.fd >= 0)
                close(t.fd);
        free(t.part);
        return e;
}

/* ---- main ----------------------------------------------------------------- */

int cgsentry_cmd_history(int argc, char **argv)
{
        enum {
                OPT_JSON = 256,
                OPT_KMSG,
                OPT_SINCE,
                OPT_UNTIL,
                OPT_CGROUP,
                OPT_PID,
                OPT_COMM,
                OPT_STATE_DIR,
                OPT_NO_JOURNAL,
                OPT_NO_KMSG,
        };
        static const struct option options[] = {
                { "json", no_argument, NULL, OPT_JSON },
                { "kmsg", required_argument, NULL, OPT_KMSG },
                { "boot", required_argument, NULL, 'b' },
                { "since", required_argument, NULL, OPT_SINCE },
                { "until", required_argument, NULL, OPT_UNTIL },
                { "cgroup", required_argument, NULL, OPT_CGROUP },
                { "pid", required_argument, NULL, OPT_PID },
                { "comm", required_argument, NULL, OPT_COMM },
                { "follow", no_argument, NULL, 'f' },
                { "state-dir", required_argument, NULL, OPT_STATE_DIR },
                { "config", required_argument, NULL, 'c' },
                { "no-journal", no_argument, NULL, OPT_NO_JOURNAL },
                { "no-kmsg", no_argument, NULL, OPT_NO_KMSG },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct history h = { .since = UNKNOWN, .until = UNKNOWN };
        const char *config = NULL, *state_dir = NULL;
        struct kmsg k = { .fd = -1 };
        bool use_kmsg = false;
        sd_journal *j = NULL;
        int c, e = 0, ret = CGSENTRY_EXIT_ERROR;

        optind = 1;
        while ((c = getopt_long(argc, argv, "b:c:fh", options, NULL)) >= 0) {
                switch (c) {
                case OPT_JSON:
                        h.json = true;
                        break;
                case OPT_KMSG: {
                        const char **f = realloc(h.files, (h.n_files + 1) * sizeof(*f));
                        if (!f)
                                goto out;
                        h.files = f;
                        h.files[h.n_files++] = optarg;
                        break;
                }
                case 'b':
                        h.boot_arg = optarg;
                        break;
                case OPT_SINCE:
                case OPT_UNTIL:
                        if (parse_time(optarg, c == OPT_SINCE ? &h.since : &h.until) < 0) {
                                fprintf(stderr, "cgsentry history: --%s %s: expected a time like "
                                        "\"2024-03-05 12:00\", \"today\", \"-2h\" or \"@EPOCH\"\n",
                                        c == OPT_SINCE ? "since" : "until", optarg);
                                goto out;
                        }
                        break;
                case OPT_CGROUP:
                        h.cgroup_glob = optarg;
                        break;
                case OPT_PID: {
                        char *end;
                        long v = strtol(optarg, &end, 10);
                        if (*end || v <= 0 || v > INT32_MAX) {
                                fprintf(stderr, "cgsentry history: --pid %s: expected a pid\n", optarg);
                                goto out;
                        }
                        h.pid = (int)v;
                        break;
                }
                case OPT_COMM:
                        h.comm = optarg;
                        break;
                case 'f':
                        h.follow = true;
                        break;
                case OPT_STATE_DIR:
                        state_dir = optarg;
                        break;
                case 'c':
                        config = optarg;
                        break;
                case OPT_NO_JOURNAL:
                        h.no_journal = true;
                        break;
                case OPT_NO_KMSG:
                        h.no_kmsg = true;
                        break;
                case 'h':
                        history_usage(stdout);
                        ret = CGSENTRY_EXIT_OK;
                        goto out;
                default:
                        history_usage(stderr);
                        goto out;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "cgsentry history: unexpected argument '%s'\n", argv[optind]);
                goto out;
        }
        if (h.follow && h.n_files) {
                fputs("cgsentry history: --follow reads the live system; it does not take --kmsg\n",
                      stderr);
                goto out;
        }
        if (config && !state_dir) {
                struct cgsentry_config *cfg = NULL;
                if (cgsentry_config_load(config, stderr, &cfg) < 0) {
                        fprintf(stderr, "cgsentry history: %s is not a valid configuration\n", config);
                        goto out;
                }
                h.state_dir = strdup(cfg->state_dir ? cfg->state_dir : CGSENTRY_STATE_DIR_DEFAULT);
                cgsentry_config_free(cfg);
        } else {
                h.state_dir = strdup(state_dir ? state_dir : CGSENTRY_STATE_DIR_DEFAULT);
        }
        if (!h.state_dir)
                goto out;
        read_boot_id(h.this_boot);

        if (h.n_files) {
                e = read_files(&h);
                if (e < 0)
                        goto out;
                h.had_source = true;
        } else {
                if (!h.no_journal) {
                        int r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
                        if (r < 0) {
                                j = NULL;
                                fprintf(stderr, "cgsentry history: cannot open the journal: %s\n",
                                        strerror(-r));
                        }
                }
                e = resolve_boot(&h, j);
                if (e < 0) {
                        fprintf(stderr, "cgsentry history: --boot %s: %s\n", h.boot_arg,
                                e == -ENOENT ? "the journal has no such boot" : "expected 0, -N or a boot ID");
                        goto out;
                }
                if (j) {
                        e = read_journal(&h, j);
                        if (e < 0)
                                fprintf(stderr, "cgsentry history: reading the journal: %s\n",
                                        strerror(-e));
                        else
                                h.had_source = true;
                }
                use_kmsg = !h.no_kmsg && (!h.boot[0] || strcmp(h.boot, h.this_boot) == 0);
                if (use_kmsg) {
                        e = kmsg_open(&h, &k);
                        if (e < 0) {
                                fprintf(stderr, "cgsentry history: cannot read %s: %s%s\n",
                                        KMSG_DEVICE, strerror(-e),
                                        e == -EPERM || e == -EACCES ? " (kernel.dmesg_restrict: "
                                                                      "run as root)" : "");
                                if (k.fd >= 0)
                                        close(k.fd);
                                k.fd = -1;
                        } else {
                                h.had_source = true;
                                e = kmsg_drain(&k);
                                if (e == 0)
                                        e = kmsg_take(&h, &k, true);
                                if (e < 0)
                                        goto out;
                        }
                }
                e = read_state_log(&h);
                if (e < 0)
                        goto out;
        }
        if (!h.had_source) {
                fputs("cgsentry history: no log could be read\n", stderr);
                goto out;
        }
        print_header(&h);
        e = print_collected(&h);
        if (e == 0 && h.follow)
                e = follow(&h, k.fd >= 0 ? &k : NULL, j);
        if (e < 0) {
                fprintf(stderr, "cgsentry history: %s\n", strerror(-e));
                goto out;
        }
        ret = h.n_printed ? CGSENTRY_EXIT_OK : CGSENTRY_EXIT_NONE;
out:
        for (size_t i = 0; i < h.n_recs; i++)
                sv_oomrec_free(h.recs[i]);
        free(h.recs);
        free(h.files);
        free(h.state_dir);
        if (k.fd >= 0)
                close(k.fd);
        sv_oomlog_free(k.parser);
        if (j)
                sd_journal_close(j);
        return ret;
}
