/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One line of a saved kernel log, whatever wrote it: /dev/kmsg records,
 * dmesg (plain, -T, --time-format iso, -x), journalctl -k (short*,
 * short-monotonic, -o json), syslog files. Pure.
 */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oomlog.h"

#define UNKNOWN SV_OOMREC_UNKNOWN

/* "[  123.456789] " -> µs; returns the rest or NULL. */
static const char *mono_stamp(const char *s, int64_t *ret)
{
        char *end;
        unsigned long long sec, frac;
        const char *p = s + 1, *dot;
        size_t digits;

        if (*s != '[')
                return NULL;
        while (*p == ' ')
                p++;
        if (!isdigit((unsigned char)*p))
                return NULL;
        sec = strtoull(p, &end, 10);
        if (*end != '.')
                return NULL;
        dot = end;
        frac = strtoull(dot + 1, &end, 10);
        digits = (size_t)(end - dot - 1);
        if (*end != ']' || digits == 0 || digits > 9)
                return NULL;
        while (digits < 6)
                frac *= 10, digits++;
        while (digits > 6)
                frac /= 10, digits--;
        *ret = (int64_t)(sec * 1000000 + frac);
        end++;
        return *end == ' ' ? end + 1 : end;
}

/* Local broken-down time -> µs, the year guessed when @year_known is false:
 * the latest year that does not put it more than a day after @now. */
static int64_t local_usec(struct tm *tm, long usec, bool year_known, int64_t now_usec)
{
        time_t t;

        tm->tm_isdst = -1;
        if (!year_known) {
                time_t now = (time_t)(now_usec / 1000000);
                struct tm nt;
                localtime_r(&now, &nt);
                tm->tm_year = nt.tm_year;
                t = mktime(tm);
                if (t != (time_t)-1 && t > now + 86400) {
                        tm->tm_year--;
                        tm->tm_isdst = -1;
                        t = mktime(tm);
                }
        } else {
                t = mktime(tm);
        }
        if (t == (time_t)-1)
                return UNKNOWN;
        return (int64_t)t * 1000000 + usec;
}

/* ".123456" or ",123456" -> µs; advances *s. */
static long frac_usec(const char **s)
{
        const char *p = *s;
        long v = 0;
        int digits = 0;

        if (*p != '.' && *p != ',')
                return 0;
        p++;
        while (isdigit((unsigned char)*p)) {
                if (digits < 6) {
                        v = v * 10 + (*p - '0');
                        digits++;
                }
                p++;
        }
        while (digits++ < 6)
                v *= 10;
        *s = p;
        return v;
}

/* "+01:00", "+0100", "Z": seconds east of UTC; advances *s. false if none. */
static bool tz_offset(const char **s, long *ret)
{
        const char *p = *s;
        int h, m;

        if (*p == 'Z') {
                *ret = 0;
                *s = p + 1;
                return true;
        }
        if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2])) {
                int sign = *p == '-' ? -1 : 1;
                h = (p[1] - '0') * 10 + (p[2] - '0');
                p += 3;
                if (*p == ':')
                        p++;
                m = 0;
                if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1])) {
                        m = (p[0] - '0') * 10 + (p[1] - '0');
                        p += 2;
                }
                *ret = sign * (h * 3600 + m * 60);
                *s = p;
                return true;
        }
        return false;
}

/*
 * A wall-clock prefix: ISO ("2024-03-05T12:34:56[.,frac][TZ] "), syslog
 * ("Mar  5 12:34:56[.frac] "), journalctl short-full ("Tue 2024-03-05
 * 12:34:56 CET "), dmesg -T ("[Tue Mar  5 12:34:56 2024] "). Returns the
 * rest or NULL.
 */
static const char *wall_stamp(const char *s, int64_t now_usec, int64_t *ret)
{
        struct tm tm = { 0 };
        const char *p;
        long off, us;

        /* ISO 8601 */
        if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))) {
                us = frac_usec(&p);
                if (tz_offset(&p, &off)) {
                        *ret = ((int64_t)timegm(&tm) - off) * 1000000 + us;
                } else {
                        *ret = local_usec(&tm, us, true, now_usec);
                }
                return *p == ' ' ? p + 1 : NULL;
        }
        memset(&tm, 0, sizeof(tm));
        /* dmesg -T */
        if (*s == '[' && (p = strptime(s + 1, "%a %b %d %H:%M:%S %Y", &tm)) && *p == ']') {
                *ret = local_usec(&tm, 0, true, now_usec);
                p++;
                return *p == ' ' ? p + 1 : p;
        }
        memset(&tm, 0, sizeof(tm));
        /* short-full: "Tue 2024-03-05 12:34:56 CET " */
        if ((p = strptime(s, "%a %Y-%m-%d %H:%M:%S", &tm))) {
                us = frac_usec(&p);
                *ret = local_usec(&tm, us, true, now_usec);
                if (*p == ' ')
                        p++;
                while (*p && *p != ' ') /* the zone's name */
                        p++;
                return *p == ' ' ? p + 1 : NULL;
        }
        memset(&tm, 0, sizeof(tm));
        /* syslog / journalctl short: "Mar  5 12:34:56" */
        if (isalpha((unsigned char)s[0]) && (p = strptime(s, "%b %d %H:%M:%S", &tm))) {
                us = frac_usec(&p);
                *ret = local_usec(&tm, us, false, now_usec);
                return *p == ' ' ? p + 1 : NULL;
        }
        return NULL;
}

/* After a syslog-style stamp: "HOST IDENT[PID]: msg". Kernel lines have
 * ident "kernel"; returns the message, or NULL for another program. */
static const char *syslog_ident(const char *s, bool *is_kernel)
{
        const char *sp = strchr(s, ' '), *colon;

        *is_kernel = false;
        if (!sp)
                return NULL;
        colon = strstr(sp + 1, ": ");
        if (!colon || memchr(sp + 1, ' ', (size_t)(colon - sp - 1)))
                return NULL;
        *is_kernel = (size_t)(colon - sp - 1) == 6 && strncmp(sp + 1, "kernel", 6) == 0;
        return colon + 2;
}

/* /dev/kmsg escapes bytes < 0x20 (but tab... none), >= 0x7f and '\\' as \xNN. */
static void unescape(const char *s, char *out, size_t size)
{
        size_t n = 0;

        while (*s && n + 1 < size) {
                if (s[0] == '\\' && s[1] == 'x' && isxdigit((unsigned char)s[2]) &&
                    isxdigit((unsigned char)s[3])) {
                        char hex[3] = { s[2], s[3], 0 };
                        char c = (char)strtol(hex, NULL, 16);
                        out[n++] = c ? c : '?';
                        s += 4;
                } else {
                        out[n++] = *s++;
                }
        }
        out[n] = '\0';
}

void sv_logline_parse(const char *line, int64_t now_usec, struct sv_logline *ret)
{
        const char *s = line, *rest;
        int64_t t;
        bool kernel;

        ret->kind = SV_LOGLINE_KERNEL;
        ret->mono_usec = ret->real_usec = UNKNOWN;
        ret->boot_id[0] = '\0';
        ret->msg = line;

        if (*s == '{') {
                ret->kind = SV_LOGLINE_JSON;
                return;
        }
        /* journalctl's separators */
        if (strncmp(s, "-- ", 3) == 0) {
                ret->kind = SV_LOGLINE_OTHER;
                if (strncmp(s, "-- Boot ", 8) == 0 && strlen(s) >= 8 + 32) {
                        bool hex = true;
                        for (int i = 0; i < 32; i++)
                                hex = hex && isxdigit((unsigned char)s[8 + i]);
                        if (hex) {
                                ret->kind = SV_LOGLINE_BOOT;
                                memcpy(ret->boot_id, s + 8, 32);
                                ret->boot_id[32] = '\0';
                                for (int i = 0; i < 32; i++)
                                        ret->boot_id[i] = (char)tolower((unsigned char)ret->boot_id[i]);
                        }
                } else if (strncmp(s, "-- Reboot --", 12) == 0) {
                        ret->kind = SV_LOGLINE_BOOT;
                }
                return;
        }
        /* /dev/kmsg: "pri,seq,usec,flags[,...];text"; dictionary lines start with ' ' */
        if (isdigit((unsigned char)*s)) {
                const char *semi = strchr(s, ';');
                unsigned long long pri, seq, usec;
                int n = 0;
                if (semi && sscanf(s, "%llu,%llu,%llu,%n", &pri, &seq, &usec, &n) == 3 && n > 0 &&
                    s + n <= semi) {
                        ret->mono_usec = (int64_t)usec;
                        unescape(semi + 1, ret->buf, sizeof(ret->buf));
                        ret->msg = ret->buf;
                        /* facility 0 is the kernel; others are /dev/kmsg writers */
                        if ((pri >> 3) != 0)
                                ret->kind = SV_LOGLINE_OTHER;
                        return;
                }
        }
        if (*s == ' ' && strchr(s, '=') && !strchr(s, ':')) {
                ret->kind = SV_LOGLINE_OTHER; /* " SUBSYSTEM=..." of /dev/kmsg */
                return;
        }
        /* dmesg -x: "kern  :warn  : " */
        if (strncmp(s, "kern ", 5) == 0 || strncmp(s, "kern:", 5) == 0) {
                const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (c2 && c2[1] == ' ')
                        s = c2 + 2;
        }
        /* "[  123.456] " — dmesg, or journalctl short-monotonic */
        if ((rest = mono_stamp(s, &t))) {
                const char *m;
                ret->mono_usec = t;
                s = rest;
                /* short-monotonic: "[ts] host kernel: msg" */
                m = syslog_ident(s, &kernel);
                if (m) {
                        if (!kernel) {
                                ret->kind = SV_LOGLINE_OTHER;
                                return;
                        }
                        s = m;
                }
                ret->msg = s;
                return;
        }
        if ((rest = wall_stamp(s, now_usec, &t))) {
                const char *m;
                ret->real_usec = t;
                s = rest;
                m = syslog_ident(s, &kernel);
                if (m && !kernel) {
                        ret->kind = SV_LOGLINE_OTHER;
                        return;
                }
                if (m)
                        s = m;
                /* syslog files keep the kernel's own stamp too */
                if ((rest = mono_stamp(s, &t))) {
                        ret->mono_usec = t;
                        s = rest;
                }
                ret->msg = s;
                return;
        }
        ret->msg = s;
}

int sv_oomrec_push(struct sv_oomrec ***arr, size_t *n, struct sv_oomrec *r)
{
        struct sv_oomrec **a = realloc(*arr, (*n + 1) * sizeof(*a));

        if (!a) {
                sv_oomrec_free(r);
                return -ENOMEM;
        }
        a[(*n)++] = r;
        *arr = a;
        return 0;
}

static const char *json_field(void *userdata, const char *field)
{
        json_object *v;

        if (!json_object_object_get_ex(userdata, field, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static int64_t json_usec(json_object *o, const char *field)
{
        const char *s = json_field(o, field);
        char *end;
        long long v;

        if (!s)
                return UNKNOWN;
        v = strtoll(s, &end, 10);
        return *end || end == s ? UNKNOWN : (int64_t)v;
}

/* One JSON line: a journal entry (kernel message or cgsentryd kill) or a
 * history record. */
static int json_line(struct sv_oomlog *p, const char *line, struct sv_oomrec ***out, size_t *n)
{
        json_object *o = json_tokener_parse(line);
        struct sv_oomrec *r = NULL;
        const char *transport, *msg;
        int e = 0;

        if (!o)
                return 0;
        if (json_object_object_get_ex(o, "source", NULL)) {
                if (sv_oomrec_from_json(o, &r) == 0)
                        e = sv_oomrec_push(out, n, r);
        } else if (sv_oomrec_from_journal(json_field, o, &r) == 0) {
                e = sv_oomrec_push(out, n, r);
        } else if ((transport = json_field(o, "_TRANSPORT")) && strcmp(transport, "kernel") == 0 &&
                   (msg = json_field(o, "MESSAGE"))) {
                int64_t mono = json_usec(o, "_SOURCE_MONOTONIC_TIMESTAMP");
                e = sv_oomlog_feed(p, msg, mono, json_usec(o, "__REALTIME_TIMESTAMP"),
                                   json_field(o, "_BOOT_ID"));
        }
        json_object_put(o);
        return e;
}

int sv_oomlog_read_file(FILE *f, int64_t now_usec, struct sv_oomrec ***ret, size_t *ret_n)
{
        struct sv_oomlog *p = NULL;
        struct sv_oomrec **out = NULL, **got;
        struct sv_logline *ll = malloc(sizeof(*ll));
        size_t n = 0, cap = 0, k;
        char *line = NULL, boot[33] = "";
        ssize_t len;
        int e;

        if (!ll)
                return -ENOMEM;
        e = sv_oomlog_new(&p);
        while (e == 0 && (len = getline(&line, &cap, f)) >= 0) {
                while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                        line[--len] = '\0';
                sv_logline_parse(line, now_usec, ll);
                switch (ll->kind) {
                case SV_LOGLINE_KERNEL:
                        e = sv_oomlog_feed(p, ll->msg, ll->mono_usec, ll->real_usec, boot);
                        break;
                case SV_LOGLINE_BOOT:
                        /* an unknown id ("-- Reboot --") still starts a new boot */
                        snprintf(boot, sizeof(boot), "%s", ll->boot_id);
                        sv_oomlog_new_boot(p, boot);
                        break;
                case SV_LOGLINE_JSON:
                        e = json_line(p, line, &out, &n);
                        break;
                case SV_LOGLINE_OTHER:
                        break;
                }
        }
        if (e == 0 && ferror(f))
                e = -EIO;
        if (e == 0) {
                sv_oomlog_flush(p);
                k = sv_oomlog_take(p, &got);
                for (size_t i = 0; i < k && e == 0; i++) {
                        e = sv_oomrec_push(&out, &n, got[i]);
                        got[i] = NULL;
                }
                for (size_t i = 0; i < k; i++)
                        sv_oomrec_free(got[i]);
                free(got);
        }
        free(line);
        free(ll);
        sv_oomlog_free(p);
        if (e < 0) {
                for (size_t i = 0; i < n; i++)
                        sv_oomrec_free(out[i]);
                free(out);
                return e;
        }
        *ret = out;
        *ret_n = n;
        return 0;
}
