/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "cgsentry/supervise.h"
#include "log.h"
#include "util.h"

static int use_journal = -1;
static cgsentry_log_sink_fn sink;
static void *sink_userdata;
static int max_priority = LOG_INFO;
static const char *ident = "cgsentryd";

void cgsentry_log_set_ident(const char *name)
{
        ident = name;
}

void cgsentry_log_set_sink(cgsentry_log_sink_fn fn, void *userdata)
{
        sink = fn;
        sink_userdata = userdata;
}

void cgsentry_log_set_max_priority(int priority)
{
        max_priority = priority;
}

/* systemd sets JOURNAL_STREAM=dev:ino for the stderr it connected to the
 * journal; only then are structured fields worth sending. */
void cgsentry_log_init(void)
{
        const char *js = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        use_journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
                      fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

bool cgsentry_log_to_journal(void)
{
        if (use_journal < 0)
                cgsentry_log_init();
        return use_journal > 0 && !sink;
}

#define MAX_FIELDS 48

struct fields {
        struct iovec iov[MAX_FIELDS];
        char *str[MAX_FIELDS];
        int n;
};

static void add(struct fields *fl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct fields *fl, const char *fmt, ...)
{
        va_list ap;
        char *s;
        int n;

        if (fl->n == MAX_FIELDS)
                return;
        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        fl->str[fl->n] = s;
        fl->iov[fl->n].iov_base = s;
        fl->iov[fl->n].iov_len = (size_t)n;
        fl->n++;
}

/* The figures a kill was decided on, as journal fields (bytes, percent). */
static void add_trigger(struct fields *fl, const struct sv_trigger *t)
{
        const struct sv_reclaim *r = &t->reclaim;

        switch (t->kind) {
        case SV_TRIGGER_TRIPWIRE:
                add(fl, "CGSENTRY_MEMORY_MAX_BYTES=%" PRIu64, t->memory_max);
                add(fl, "CGSENTRY_TRIPWIRE_PERCENT=%u.%02u", t->permyriad / 100,
                    t->permyriad % 100);
                add(fl, "CGSENTRY_MEMORY_CURRENT_BYTES=%" PRIu64, r->usage);
                add(fl, "CGSENTRY_NONRECLAIMABLE_BYTES=%" PRIu64, r->nonreclaimable);
                add(fl, "CGSENTRY_ANON_BYTES=%" PRIu64, r->anon);
                add(fl, "CGSENTRY_SHMEM_BYTES=%" PRIu64, r->shmem);
                add(fl, "CGSENTRY_UNEVICTABLE_BYTES=%" PRIu64, r->unevictable);
                add(fl, "CGSENTRY_KERNEL_BYTES=%" PRIu64, r->kernel);
                add(fl, "CGSENTRY_FILE_BYTES=%" PRIu64, r->file);
                add(fl, "CGSENTRY_SWAP_HEADROOM_BYTES=%" PRIu64, r->swap_headroom);
                break;
        case SV_TRIGGER_PRESSURE:
                add(fl, "CGSENTRY_PSI_TRIGGER=%s %" PRIu64 " %" PRIu64, t->psi_full ? "full" : "some",
                    t->stall_usec, t->window_usec);
                add(fl, "CGSENTRY_PSI_SOME_AVG10=%.2f", t->psi.some.avg10);
                if (t->psi.has_full)
                        add(fl, "CGSENTRY_PSI_FULL_AVG10=%.2f", t->psi.full.avg10);
                break;
        case SV_TRIGGER_KERNEL_OOM_KILL:
                add(fl, "CGSENTRY_OOM_KILL=%" PRIu64, t->oom_kill);
                break;
        case SV_TRIGGER_NODE_PRESSURE:
                add(fl, "CGSENTRY_NODE_SOURCE=%s", t->node_psi ? "psi" : "memavailable");
                add(fl, "CGSENTRY_MEM_TOTAL_BYTES=%" PRIu64, t->mem_total);
                add(fl, "CGSENTRY_MEM_AVAILABLE_BYTES=%" PRIu64, t->mem_available);
                if (t->node_psi) {
                        add(fl, "CGSENTRY_PSI_TRIGGER=%s %" PRIu64 " %" PRIu64,
                            t->psi_full ? "full" : "some", t->stall_usec, t->window_usec);
                        add(fl, "CGSENTRY_PSI_SOME_AVG10=%.2f", t->psi.some.avg10);
                } else {
                        add(fl, "CGSENTRY_MEM_AVAILABLE_MIN_BYTES=%" PRIu64, t->available_min);
                }
                break;
        }
}

static void emit(int priority, const struct cgsentry_log_fields *f, const char *raw)
{
        static const char *const names[] = { "emerg", "alert", "crit", "error",
                                             "warning", "notice", "info", "debug" };
        /* The last line of defence: whatever a message carries (a plugin's
         * words, a kernel error string), no control byte and no invalid
         * UTF-8 reaches a log line, so nothing can forge a second one. */
        char msg[4 * 2048 + 1];

        if (priority > max_priority)
                return;
        sv__escape_text(raw, msg, sizeof(msg));
        if (sink) {
                sink(sink_userdata, priority, f, msg);
                return;
        }
        if (use_journal < 0)
                cgsentry_log_init();
        if (use_journal) {
                struct fields fl = { .n = 0 };

                add(&fl, "MESSAGE=%s", msg);
                add(&fl, "PRIORITY=%d", priority);
                add(&fl, "SYSLOG_IDENTIFIER=%s", ident);
                if (f && f->message_id)
                        add(&fl, "MESSAGE_ID=%s", f->message_id);
                /* Relative to the cgroup root, as it always was: a contract. */
                if (f && f->cgroup)
                        add(&fl, "CGSENTRY_CGROUP=%s", f->cgroup + strspn(f->cgroup, "/"));
                if (f && f->trigger)
                        add(&fl, "CGSENTRY_TRIGGER=%s", f->trigger);
                if (f && f->policy)
                        add(&fl, "CGSENTRY_POLICY=%s", f->policy);
                if (f && f->rule)
                        add(&fl, "CGSENTRY_RULE=%s", f->rule);
                if (f && f->victim_pid)
                        add(&fl, "CGSENTRY_VICTIM_PID=%d", f->victim_pid);
                if (f && f->killed_pids)
                        add(&fl, "CGSENTRY_KILLED_PIDS=%s", f->killed_pids);
                if (f && f->trig)
                        add_trigger(&fl, f->trig);
                for (char *const *x = f ? f->extra : NULL; x && *x; x++)
                        add(&fl, "%s", *x);
                sd_journal_sendv(fl.iov, fl.n);
                for (int i = 0; i < fl.n; i++)
                        free(fl.str[i]);
                return;
        }
        fprintf(stderr, "%s[%d]: %s%s%s\n", ident, getpid(),
                priority <= LOG_WARNING ? names[priority & 7] : "",
                priority <= LOG_WARNING ? ": " : "", msg);
}

void cgsentry_log(int priority, const struct cgsentry_log_fields *f, const char *fmt, ...)
{
        char msg[2048];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        emit(priority, f, msg);
}

void cgsentry_log_lines(int priority, const struct cgsentry_log_fields *f, const char *text)
{
        char line[2048];

        while (*text) {
                const char *nl = strchrnul(text, '\n');
                size_t n = (size_t)(nl - text);
                if (n >= sizeof(line))
                        n = sizeof(line) - 1;
                memcpy(line, text, n);
                line[n] = '\0';
                if (n)
                        emit(priority, f, line);
                text = *nl ? nl + 1 : nl;
        }
}
