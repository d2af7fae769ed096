/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "log.h"

static int use_journal = -1;
static int max_priority = LOG_INFO;
static const char *ident = "cgsentryd";

void cgsentry_log_set_ident(const char *name)
{
        ident = name;
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

static void emit(int priority, const struct cgsentry_log_fields *f, const char *msg)
{
        static const char *const names[] = { "emerg", "alert", "crit", "error",
                                             "warning", "notice", "info", "debug" };
        char pid[32];

        if (priority > max_priority)
                return;
        if (use_journal < 0)
                cgsentry_log_init();
        if (use_journal) {
                snprintf(pid, sizeof(pid), "%d", f ? f->victim_pid : 0);
                sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", priority,
                                "MESSAGE_ID=%s", f && f->message_id ? f->message_id : "",
                                "CGSENTRY_CGROUP=%s", f && f->cgroup ? f->cgroup : "",
                                "CGSENTRY_TRIGGER=%s", f && f->trigger ? f->trigger : "",
                                "CGSENTRY_POLICY=%s", f && f->policy ? f->policy : "",
                                "CGSENTRY_VICTIM_PID=%s", f && f->victim_pid ? pid : "",
                                NULL);
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
