/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsers for the text the kernel writes in cgroupfs and procfs (see parse.h).
 *
 * Buffers need not end in a NUL, so every helper works on a (pointer,
 * length) span and nothing here calls a str*() function on them. Numbers
 * are parsed by hand for the same reason, and because strtoull() would
 * quietly accept signs, leading blanks and "0x".
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

/* The kernel ends a value with exactly one '\n'; anything else is content. */
static size_t chomp(const char *buf, size_t len)
{
        return len > 0 && buf[len - 1] == '\n' ? len - 1 : len;
}

static bool span_eq(const char *s, size_t n, const char *word)
{
        return strlen(word) == n && memcmp(s, word, n) == 0;
}

/*
 * Decimal digits only. A bad character wins over overflow, so that
 * "99999999999999999999x" is reported as garbage rather than as too large.
 */
static int parse_digits(const char *s, size_t n, uint64_t *ret)
{
        bool overflow = false;
        uint64_t v = 0;

        if (n == 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                unsigned d;

                if (!is_digit(s[i]))
                        return -EINVAL;
                if (overflow)
                        continue;
                d = (unsigned)(s[i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        overflow = true;
                else
                        v = v * 10 + d;
        }
        if (overflow)
                return -ERANGE;
        *ret = v;
        return 0;
}

static int parse_u64_le(const char *s, size_t n, uint64_t max, uint64_t *ret)
{
        uint64_t v;
        int r;

        r = parse_digits(s, n, &v);
        if (r < 0)
                return r;
        if (v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

static int parse_int_span(const char *s, size_t n, int *ret)
{
        bool neg = n > 0 && s[0] == '-';
        uint64_t v;
        int r;

        r = parse_digits(s + neg, n - neg, &v);
        if (r < 0)
                return r;
        if (v > (neg ? (uint64_t)INT_MAX + 1 : (uint64_t)INT_MAX))
                return -ERANGE;
        *ret = neg ? (int)-(int64_t)v : (int)v;
        return 0;
}

/* pid 0 is the idle task, which never shows up in cgroup.procs or /proc. */
static int parse_pid_span(const char *s, size_t n, int *ret)
{
        uint64_t v;
        int r;

        r = parse_u64_le(s, n, INT_MAX, &v);
        if (r < 0)
                return r;
        if (v == 0)
                return -EINVAL;
        *ret = (int)v;
        return 0;
}

/* Fields the kernel prints with %d or %ld that we only step over. */
static bool is_integer(const char *s, size_t n)
{
        size_t i = n > 0 && s[0] == '-';

        if (i == n)
                return false;
        for (; i < n; i++)
                if (!is_digit(s[i]))
                        return false;
        return true;
}

/*
 * Yields each line without its '\n'. The last line may lack the '\n' (a
 * value written without one is still whole); an empty line is yielded as
 * such, and callers reject it, since no file we read contains one.
 */
static bool next_line(const char **p, const char *end, const char **ret_line, size_t *ret_len)
{
        const char *nl;

        if (*p >= end)
                return false;
        nl = memchr(*p, '\n', (size_t)(end - *p));
        if (!nl)
                nl = end;
        *ret_line = *p;
        *ret_len = (size_t)(nl - *p);
        *p = nl < end ? nl + 1 : end;
        return true;
}

/*
 * Fields separated by exactly one space, as the kernel's seq_printf()s
 * write them; a doubled or trailing space means the text is not what we
 * think it is. *p points at the separator before the field.
 */
static int next_field(const char **p, const char *end, const char **ret, size_t *ret_len)
{
        const char *s, *e;

        if (*p >= end || **p != ' ')
                return -EINVAL;
        s = *p + 1;
        e = memchr(s, ' ', (size_t)(end - s));
        if (!e)
                e = end;
        if (e == s)
                return -EINVAL;
        *ret = s;
        *ret_len = (size_t)(e - s);
        *p = e;
        return 0;
}

/* "key value" with one space, as in memory.events, memory.stat and cgroup.events. */
static int split_space(const char *line, size_t n, const char **ret_key, size_t *ret_klen,
                       const char **ret_val, size_t *ret_vlen)
{
        const char *sp = memchr(line, ' ', n);

        if (!sp || sp == line)
                return -EINVAL;
        *ret_key = line;
        *ret_klen = (size_t)(sp - line);
        *ret_val = sp + 1;
        *ret_vlen = n - *ret_klen - 1;
        return 0;
}

/* "Key:<value>" as in /proc/PID/status and /proc/meminfo; the value keeps its blanks. */
static int split_colon(const char *line, size_t n, const char **ret_key, size_t *ret_klen,
                       const char **ret_val, size_t *ret_vlen)
{
        const char *colon = memchr(line, ':', n);

        if (!colon || colon == line)
                return -EINVAL;
        *ret_key = line;
        *ret_klen = (size_t)(colon - line);
        *ret_val = colon + 1;
        *ret_vlen = n - *ret_klen - 1;
        return 0;
}

/*
 * "   12345 kB": right-aligned after the tab. Requiring the unit also
 * catches a read that stopped inside the number.
 */
static int parse_kb(const char *s, size_t n, uint64_t *ret)
{
        size_t i = 0, start;

        while (i < n && is_blank(s[i]))
                i++;
        start = i;
        while (i < n && is_digit(s[i]))
                i++;
        uint64_t v;
        int r;

        if (n - i != 3 || memcmp(s + i, " kB", 3) != 0)
                return -EINVAL;
        r = parse_digits(s + start, i - start, &v);
        if (r < 0)
                return r;
        /* Callers turn kB into bytes and add several up (oom_badness()): a
         * count whose byte value does not fit in 64 bits is not a memory size. */
        if (v > UINT64_MAX / 1024)
                return -ERANGE;
        *ret = v;
        return 0;
}

/*
 * "1.53" as psi_show() prints it ("%lu.%02lu"). The syntax is checked first
 * because strtod() alone would also take "inf", "0x1p3", signs and blanks.
 * strtod() needs a NUL, hence the bounded copy; under a locale with a
 * decimal comma it would stop at the '.', which the end check turns into
 * an error instead of a misread value.
 */
static int parse_decimal(const char *s, size_t n, double *ret)
{
        char tmp[32], *e;
        size_t i = 0, frac;
        double d;

        while (i < n && is_digit(s[i]))
                i++;
        if (i == 0)
                return -EINVAL;
        if (i < n) {
                if (s[i] != '.')
                        return -EINVAL;
                frac = ++i;
                while (i < n && is_digit(s[i]))
                        i++;
                if (i == frac || i != n)
                        return -EINVAL;
        }
        if (n >= sizeof(tmp))
                return -EINVAL;
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        d = strtod(tmp, &e);
        if (e != tmp + n)
                return -EINVAL;
        *ret = d;
        return 0;
}

/* ---- single values ------------------------------------------------------- */

int sv_parse_u64(const char *buf, size_t len, uint64_t *ret)
{
        return parse_digits(buf, chomp(buf, len), ret);
}

int sv_parse_int(const char *buf, size_t len, int *ret)
{
        return parse_int_span(buf, chomp(buf, len), ret);
}

int sv_parse_limit(const char *buf, size_t len, uint64_t *ret)
{
        size_t n = chomp(buf, len);

        if (span_eq(buf, n, "max")) {
                *ret = SV_LIMIT_MAX;
                return 0;
        }
        return parse_digits(buf, n, ret);
}

int sv_parse_bool01(const char *buf, size_t len, bool *ret)
{
        size_t n = chomp(buf, len);

        if (n != 1 || (buf[0] != '0' && buf[0] != '1'))
                return -EINVAL;
        *ret = buf[0] == '1';
        return 0;
}

/* ---- "key value" files --------------------------------------------------- */

struct kv_field {
        const char *key;
        size_t offset; /* of a uint64_t in the output struct */
        bool required;
};

#define KV(type, field, req) { #field, offsetof(type, field), req }

/*
 * Every line must be "key u64", known or not: a line that is not is a torn
 * or foreign file, and ignoring it would hide that. A known key seen twice
 * means two reads were spliced together.
 */
static int parse_kv_u64(const char *buf, size_t len, const struct kv_field *fields,
                        size_t n_fields, void *out)
{
        const char *p = buf, *end, *line;
        uint64_t seen = 0;
        size_t n;

        if (len == 0)
                return -EINVAL;
        end = buf + len;
        while (next_line(&p, end, &line, &n)) {
                const char *key, *val;
                size_t klen, vlen;
                uint64_t v;
                int r;

                r = split_space(line, n, &key, &klen, &val, &vlen);
                if (r < 0)
                        return r;
                r = parse_digits(val, vlen, &v);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n_fields; i++) {
                        if (!span_eq(key, klen, fields[i].key))
                                continue;
                        if (seen & (UINT64_C(1) << i))
                                return -EINVAL;
                        seen |= UINT64_C(1) << i;
                        *(uint64_t *)(void *)((char *)out + fields[i].offset) = v;
                        break;
                }
        }
        for (size_t i = 0; i < n_fields; i++)
                if (fields[i].required && !(seen & (UINT64_C(1) << i)))
                        return -EINVAL;
        return 0;
}

/* oom_group_kill arrived in 5.17. */
static const struct kv_field memory_events_fields[] = {
        KV(struct sv_memory_events, low, true),
        KV(struct sv_memory_events, high, true),
        KV(struct sv_memory_events, max, true),
        KV(struct sv_memory_events, oom, true),
        KV(struct sv_memory_events, oom_kill, true),
        KV(struct sv_memory_events, oom_group_kill, false),
};

int sv_parse_memory_events(const char *buf, size_t len, struct sv_memory_events *ret)
{
        struct sv_memory_events ev = {};
        int r;

        r = parse_kv_u64(buf, len, memory_events_fields, ELEMENTSOF(memory_events_fields), &ev);
        if (r < 0)
                return r;
        *ret = ev;
        return 0;
}

/*
 * Only anon and file are in every cgroup v2 memory.stat; others arrived
 * over 5.x and 6.x (kernel in 5.18, workingset_refault_{anon,file} in 5.9).
 */
static const struct kv_field memory_stat_fields[] = {
        KV(struct sv_memory_stat, anon, true),
        KV(struct sv_memory_stat, file, true),
        KV(struct sv_memory_stat, kernel, false),
        KV(struct sv_memory_stat, kernel_stack, false),
        KV(struct sv_memory_stat, pagetables, false),
        KV(struct sv_memory_stat, sock, false),
        KV(struct sv_memory_stat, shmem, false),
        KV(struct sv_memory_stat, file_mapped, false),
        KV(struct sv_memory_stat, file_dirty, false),
        KV(struct sv_memory_stat, file_writeback, false),
        KV(struct sv_memory_stat, swapcached, false),
        KV(struct sv_memory_stat, active_anon, false),
        KV(struct sv_memory_stat, inactive_anon, false),
        KV(struct sv_memory_stat, active_file, false),
        KV(struct sv_memory_stat, inactive_file, false),
        KV(struct sv_memory_stat, unevictable, false),
        KV(struct sv_memory_stat, slab, false),
        KV(struct sv_memory_stat, slab_reclaimable, false),
        KV(struct sv_memory_stat, slab_unreclaimable, false),
        KV(struct sv_memory_stat, sec_pagetables, false),
        KV(struct sv_memory_stat, percpu, false),
        KV(struct sv_memory_stat, vmalloc, false),
        KV(struct sv_memory_stat, zswap, false),
        KV(struct sv_memory_stat, workingset_refault_anon, false),
        KV(struct sv_memory_stat, workingset_refault_file, false),
        KV(struct sv_memory_stat, pgscan, false),
        KV(struct sv_memory_stat, pgsteal, false),
        KV(struct sv_memory_stat, pgfault, false),
        KV(struct sv_memory_stat, pgmajfault, false),
};

_Static_assert(ELEMENTSOF(memory_stat_fields) <= 64, "parse_kv_u64() tracks keys in a u64");

int sv_parse_memory_stat(const char *buf, size_t len, struct sv_memory_stat *ret)
{
        struct sv_memory_stat st = {};
        int r;

        r = parse_kv_u64(buf, len, memory_stat_fields, ELEMENTSOF(memory_stat_fields), &st);
        if (r < 0)
                return r;
        *ret = st;
        return 0;
}

/* cgroup.events is "key 0|1"; frozen arrived in 5.2. */
struct cgroup_events_raw {
        uint64_t populated, frozen;
};

static const struct kv_field cgroup_events_fields[] = {
        KV(struct cgroup_events_raw, populated, true),
        KV(struct cgroup_events_raw, frozen, false),
};

int sv_parse_cgroup_events(const char *buf, size_t len, struct sv_cgroup_events *ret)
{
        struct cgroup_events_raw raw = {};
        int r;

        r = parse_kv_u64(buf, len, cgroup_events_fields, ELEMENTSOF(cgroup_events_fields), &raw);
        if (r < 0)
                return r;
        if (raw.populated > 1 || raw.frozen > 1)
                return -EINVAL;
        *ret = (struct sv_cgroup_events) {
                .populated = raw.populated,
                .frozen = raw.frozen,
        };
        return 0;
}

/* ---- PSI ----------------------------------------------------------------- */

/* After "some"/"full": " avg10=X avg60=X avg300=X total=N". */
static int parse_psi_line(const char *s, size_t n, struct sv_psi_line *ret)
{
        struct sv_psi_line l = {};
        const char *p = s, *end = s + n, *tok;
        unsigned seen = 0;
        size_t tlen;

        while (p < end) {
                const char *eq, *val;
                size_t klen, vlen;
                unsigned bit;
                int r;

                r = next_field(&p, end, &tok, &tlen);
                if (r < 0)
                        return r;
                eq = memchr(tok, '=', tlen);
                if (!eq || eq == tok)
                        return -EINVAL;
                klen = (size_t)(eq - tok);
                val = eq + 1;
                vlen = tlen - klen - 1;

                if (span_eq(tok, klen, "avg10")) {
                        bit = 1u << 0;
                        r = parse_decimal(val, vlen, &l.avg10);
                } else if (span_eq(tok, klen, "avg60")) {
                        bit = 1u << 1;
                        r = parse_decimal(val, vlen, &l.avg60);
                } else if (span_eq(tok, klen, "avg300")) {
                        bit = 1u << 2;
                        r = parse_decimal(val, vlen, &l.avg300);
                } else if (span_eq(tok, klen, "total")) {
                        bit = 1u << 3;
                        r = parse_digits(val, vlen, &l.total_usec);
                } else {
                        continue;
                }
                if (r < 0)
                        return r;
                if (seen & bit)
                        return -EINVAL;
                seen |= bit;
        }
        if (seen != 0xf)
                return -EINVAL;
        *ret = l;
        return 0;
}

int sv_parse_psi(const char *buf, size_t len, struct sv_psi *ret)
{
        struct sv_psi psi = {};
        const char *p = buf, *end, *line;
        bool has_some = false;
        size_t n;

        if (len == 0)
                return -EINVAL;
        end = buf + len;
        while (next_line(&p, end, &line, &n)) {
                const char *sp = memchr(line, ' ', n);
                struct sv_psi_line *dst;
                bool *have;
                size_t klen;
                int r;

                if (!sp || sp == line)
                        return -EINVAL;
                klen = (size_t)(sp - line);
                if (span_eq(line, klen, "some")) {
                        dst = &psi.some;
                        have = &has_some;
                } else if (span_eq(line, klen, "full")) {
                        dst = &psi.full;
                        have = &psi.has_full;
                } else {
                        continue;
                }
                if (*have)
                        return -EINVAL;
                r = parse_psi_line(sp, n - klen, dst);
                if (r < 0)
                        return r;
                *have = true;
        }
        if (!has_some)
                return -EINVAL;
        *ret = psi;
        return 0;
}

/* ---- cgroup.controllers, cgroup.procs ------------------------------------ */

static const struct {
        const char *name;
        unsigned bit;
} controllers[] = {
        { "cpuset", SV_CTRL_CPUSET },
        { "cpu", SV_CTRL_CPU },
        { "io", SV_CTRL_IO },
        { "memory", SV_CTRL_MEMORY },
        { "hugetlb", SV_CTRL_HUGETLB },
        { "pids", SV_CTRL_PIDS },
        { "rdma", SV_CTRL_RDMA },
        { "misc", SV_CTRL_MISC },
};

static unsigned controller_bit(const char *s, size_t n)
{
        for (size_t i = 0; i < ELEMENTSOF(controllers); i++)
                if (span_eq(s, n, controllers[i].name))
                        return controllers[i].bit;
        return 0;
}

int sv_parse_controllers(const char *buf, size_t len, unsigned *ret)
{
        const char *p, *end;
        unsigned mask = 0;
        size_t n;

        /* The kernel writes nothing at all for an empty set; "\n" is accepted too. */
        n = chomp(buf, len);
        if (n == 0) {
                *ret = 0;
                return 0;
        }
        if (memchr(buf, '\n', n))
                return -EINVAL;
        p = buf;
        end = buf + n;
        for (;;) {
                const char *e = memchr(p, ' ', (size_t)(end - p));

                if (!e)
                        e = end;
                if (e == p)
                        return -EINVAL;
                mask |= controller_bit(p, (size_t)(e - p));
                if (e == end)
                        break;
                p = e + 1;
        }
        *ret = mask;
        return 0;
}

static size_t count_lines(const char *buf, size_t len)
{
        const char *p = buf, *end = buf + len, *line;
        size_t n = 0, l;

        while (next_line(&p, end, &line, &l))
                n++;
        return n;
}

int sv_parse_pids(const char *buf, size_t len, int **ret, size_t *ret_n)
{
        const char *p = buf, *end, *line;
        size_t n = 0, cap, l;
        int *pids;

        if (len == 0) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        end = buf + len;
        cap = count_lines(buf, len);
        pids = calloc(cap, sizeof(*pids));
        if (!pids)
                return -ENOMEM;
        while (next_line(&p, end, &line, &l)) {
                int r = parse_pid_span(line, l, &pids[n]);

                if (r < 0) {
                        free(pids);
                        return r;
                }
                n++;
        }
        *ret = pids;
        *ret_n = n;
        return 0;
}

/* ---- procfs -------------------------------------------------------------- */

/* "Uid:\t1000\t1000\t1000\t1000": real, effective, saved, fs; the first is the real one. */
static int parse_status_uid(const char *s, size_t n, uint32_t *ret)
{
        const char *p = s, *end = s + n;
        uint64_t ids[4];

        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                const char *f, *e;
                int r;

                if (p >= end || *p != '\t')
                        return -EINVAL;
                f = p + 1;
                e = memchr(f, '\t', (size_t)(end - f));
                if (!e)
                        e = end;
                r = parse_u64_le(f, (size_t)(e - f), UINT32_MAX, &ids[i]);
                if (r < 0)
                        return r;
                p = e;
        }
        if (p != end)
                return -EINVAL;
        *ret = (uint32_t)ids[0];
        return 0;
}

static int parse_status_int(const char *s, size_t n, bool allow_zero, int *ret)
{
        uint64_t v;
        int r;

        while (n > 0 && is_blank(*s)) {
                s++;
                n--;
        }
        r = parse_u64_le(s, n, INT_MAX, &v);
        if (r < 0)
                return r;
        if (v == 0 && !allow_zero)
                return -EINVAL;
        *ret = (int)v;
        return 0;
}

enum status_kind {
        STATUS_NAME,
        STATUS_ID,   /* Tgid, Pid: positive */
        STATUS_PPID, /* 0 for init and kthreadd */
        STATUS_UID,
        STATUS_KB,
};

static const struct {
        const char *key;
        enum status_kind kind;
        size_t offset;
} status_fields[] = {
        { "Name", STATUS_NAME, offsetof(struct sv_proc_status, name) },
        { "Tgid", STATUS_ID, offsetof(struct sv_proc_status, tgid) },
        { "Pid", STATUS_ID, offsetof(struct sv_proc_status, pid) },
        { "PPid", STATUS_PPID, offsetof(struct sv_proc_status, ppid) },
        { "Uid", STATUS_UID, offsetof(struct sv_proc_status, uid) },
        /* Written together by task_mem() whenever the task has an mm. */
        { "VmSize", STATUS_KB, offsetof(struct sv_proc_status, vm_size_kb) },
        { "RssAnon", STATUS_KB, offsetof(struct sv_proc_status, rss_anon_kb) },
        { "RssFile", STATUS_KB, offsetof(struct sv_proc_status, rss_file_kb) },
        { "RssShmem", STATUS_KB, offsetof(struct sv_proc_status, rss_shmem_kb) },
        { "VmSwap", STATUS_KB, offsetof(struct sv_proc_status, vm_swap_kb) },
        { "VmPTE", STATUS_KB, offsetof(struct sv_proc_status, vm_pte_kb) },
};

#define STATUS_REQUIRED 0x01fu
#define STATUS_MM 0x7e0u

_Static_assert(ELEMENTSOF(status_fields) == 11,
               "STATUS_REQUIRED and STATUS_MM are bit masks over status_fields");

static int parse_status_value(enum status_kind kind, const char *val, size_t vlen, void *field)
{
        switch (kind) {
        case STATUS_NAME: {
                char *name = field;
                size_t n;

                /* Kept as the kernel escaped it ("\\n", "\\\\"): it is only displayed. */
                if (vlen > 0 && val[0] == '\t') {
                        val++;
                        vlen--;
                }
                n = vlen < SV_COMM_LEN - 1 ? vlen : SV_COMM_LEN - 1;
                memcpy(name, val, n);
                name[n] = '\0';
                return 0;
        }
        case STATUS_ID:
                return parse_status_int(val, vlen, false, field);
        case STATUS_PPID:
                return parse_status_int(val, vlen, true, field);
        case STATUS_UID:
                return parse_status_uid(val, vlen, field);
        case STATUS_KB:
                return parse_kb(val, vlen, field);
        }
        return -EINVAL;
}

/*
 * A task without an mm (kernel thread, zombie) has none of the Vm and Rss
 * lines. Some but not all of them is a read that stopped half-way, which
 * must not pass for a task that uses no memory.
 */
int sv_parse_proc_status(const char *buf, size_t len, struct sv_proc_status *ret)
{
        struct sv_proc_status st = {};
        const char *p = buf, *end, *line;
        unsigned seen = 0, mm;
        size_t n;

        if (len == 0)
                return -EINVAL;
        end = buf + len;
        while (next_line(&p, end, &line, &n)) {
                const char *key, *val;
                size_t klen, vlen;
                int r;

                r = split_colon(line, n, &key, &klen, &val, &vlen);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < ELEMENTSOF(status_fields); i++) {
                        if (!span_eq(key, klen, status_fields[i].key))
                                continue;
                        if (seen & (1u << i))
                                return -EINVAL;
                        r = parse_status_value(status_fields[i].kind, val, vlen,
                                               (char *)&st + status_fields[i].offset);
                        if (r < 0)
                                return r;
                        seen |= 1u << i;
                        break;
                }
        }
        if ((seen & STATUS_REQUIRED) != STATUS_REQUIRED)
                return -EINVAL;
        mm = seen & STATUS_MM;
        if (mm != 0 && mm != STATUS_MM)
                return -EINVAL;
        st.has_mm = mm != 0;
        *ret = st;
        return 0;
}

/*
 * "pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt
 * majflt cmajflt utime stime cutime cstime priority nice num_threads
 * itrealvalue starttime …". comm is printed raw and may hold anything,
 * ')' and ' ' included, but the fields after it cannot contain ')'.
 */
int sv_parse_proc_stat(const char *buf, size_t len, struct sv_proc_stat *ret)
{
        struct sv_proc_stat st = {};
        const char *lp, *rp, *p, *end, *tok;
        size_t n, tlen, clen;
        int r;

        n = chomp(buf, len);
        if (n == 0)
                return -EINVAL;
        lp = memchr(buf, '(', n);
        rp = memrchr(buf, ')', n);
        if (!lp || !rp || rp < lp)
                return -EINVAL;
        if (lp - buf < 2 || lp[-1] != ' ')
                return -EINVAL;
        r = parse_pid_span(buf, (size_t)(lp - 1 - buf), &st.pid);
        if (r < 0)
                return r;

        clen = (size_t)(rp - lp - 1);
        if (clen > SV_COMM_LEN - 1)
                clen = SV_COMM_LEN - 1;
        memcpy(st.comm, lp + 1, clen);

        p = rp + 1;
        end = buf + n;
        for (unsigned field = 3; field <= 22; field++) {
                r = next_field(&p, end, &tok, &tlen);
                if (r < 0)
                        return r;
                switch (field) {
                case 3:
                        /* One letter from task_state_array[]. */
                        if (tlen != 1 || !((tok[0] >= 'A' && tok[0] <= 'Z') ||
                                           (tok[0] >= 'a' && tok[0] <= 'z')))
                                return -EINVAL;
                        st.state = tok[0];
                        break;
                case 4: {
                        uint64_t v;

                        r = parse_u64_le(tok, tlen, INT_MAX, &v);
                        if (r < 0)
                                return r;
                        st.ppid = (int)v;
                        break;
                }
                case 9: {
                        /* Older kernels print it with %lu. */
                        uint64_t v;

                        r = parse_u64_le(tok, tlen, UINT32_MAX, &v);
                        if (r < 0)
                                return r;
                        st.flags = (uint32_t)v;
                        break;
                }
                case 22:
                        r = parse_digits(tok, tlen, &st.starttime);
                        if (r < 0)
                                return r;
                        break;
                default:
                        if (!is_integer(tok, tlen))
                                return -EINVAL;
                        break;
                }
        }
        /* The fields after starttime (vsize … exit_code) are all numbers too. */
        while (p < end) {
                r = next_field(&p, end, &tok, &tlen);
                if (r < 0)
                        return r;
                if (!is_integer(tok, tlen))
                        return -EINVAL;
        }
        *ret = st;
        return 0;
}

/* The /proc/meminfo lines cgsentry reads; MemTotal and SwapTotal are in
 * every kernel's file, the others are optional (MemAvailable: 3.14+). */
static const struct {
        const char *key;
        size_t offset;
        unsigned bit;
} meminfo_fields[] = {
        { "MemTotal", offsetof(struct sv_meminfo, mem_total_kb), SV_MEMINFO_MEM_TOTAL },
        { "MemFree", offsetof(struct sv_meminfo, mem_free_kb), SV_MEMINFO_MEM_FREE },
        { "MemAvailable", offsetof(struct sv_meminfo, mem_available_kb), SV_MEMINFO_MEM_AVAILABLE },
        { "SwapTotal", offsetof(struct sv_meminfo, swap_total_kb), SV_MEMINFO_SWAP_TOTAL },
        { "SwapFree", offsetof(struct sv_meminfo, swap_free_kb), SV_MEMINFO_SWAP_FREE },
        { "CommitLimit", offsetof(struct sv_meminfo, commit_limit_kb), SV_MEMINFO_COMMIT_LIMIT },
        { "Committed_AS", offsetof(struct sv_meminfo, committed_as_kb), SV_MEMINFO_COMMITTED_AS },
};

int sv_parse_meminfo_all(const char *buf, size_t len, struct sv_meminfo *ret)
{
        const char *p = buf, *end, *line;
        struct sv_meminfo mi = {};
        size_t n;

        if (len == 0)
                return -EINVAL;
        end = buf + len;
        while (next_line(&p, end, &line, &n)) {
                const char *key, *val;
                size_t klen, vlen, i;
                int r;

                r = split_colon(line, n, &key, &klen, &val, &vlen);
                if (r < 0)
                        return r;
                for (i = 0; i < ELEMENTSOF(meminfo_fields); i++)
                        if (span_eq(key, klen, meminfo_fields[i].key))
                                break;
                if (i == ELEMENTSOF(meminfo_fields))
                        continue;
                if (mi.have & meminfo_fields[i].bit)
                        return -EINVAL;
                r = parse_kb(val, vlen, (uint64_t *)(void *)((char *)&mi + meminfo_fields[i].offset));
                if (r < 0)
                        return r;
                mi.have |= meminfo_fields[i].bit;
        }
        if (!(mi.have & SV_MEMINFO_MEM_TOTAL) || !(mi.have & SV_MEMINFO_SWAP_TOTAL))
                return -EINVAL;
        *ret = mi;
        return 0;
}

int sv_parse_meminfo(const char *buf, size_t len, uint64_t *ret_mem_total_kb,
                     uint64_t *ret_swap_total_kb)
{
        struct sv_meminfo mi;
        int r = sv_parse_meminfo_all(buf, len, &mi);

        if (r < 0)
                return r;
        *ret_mem_total_kb = mi.mem_total_kb;
        *ret_swap_total_kb = mi.swap_total_kb;
        return 0;
}

/* ---- user input ---------------------------------------------------------- */

/*
 * digits[.digits][K|M|G|T], case-insensitive unit, or "max". A fraction needs
 * a unit: there are no fractional bytes to round to.
 */
int sv_parse_size(const char *s, uint64_t *ret)
{
        static const struct {
                char unit;
                unsigned shift;
        } units[] = {
                { 'K', 10 },
                { 'M', 20 },
                { 'G', 30 },
                { 'T', 40 },
        };
        size_t n, i = 0, int_len, frac_start = 0, frac_end = 0;
        uint64_t mult = 1, v, frac = 0;
        int r;

        if (!s)
                return -EINVAL;
        if (strcmp(s, "max") == 0) {
                *ret = SV_LIMIT_MAX;
                return 0;
        }
        n = strlen(s);
        while (i < n && is_digit(s[i]))
                i++;
        int_len = i;
        if (int_len == 0)
                return -EINVAL;
        if (i < n && s[i] == '.') {
                frac_start = ++i;
                while (i < n && is_digit(s[i]))
                        i++;
                frac_end = i;
                if (frac_end == frac_start)
                        return -EINVAL;
        }
        if (i < n) {
                char c = s[i];
                size_t u;

                if (c >= 'a' && c <= 'z')
                        c = (char)(c - 'a' + 'A');
                for (u = 0; u < ELEMENTSOF(units); u++)
                        if (units[u].unit == c)
                                break;
                if (u == ELEMENTSOF(units) || i + 1 != n)
                        return -EINVAL;
                mult = UINT64_C(1) << units[u].shift;
        }
        if (frac_end > 0 && mult == 1)
                return -EINVAL;

        r = parse_digits(s, int_len, &v);
        if (r < 0)
                return r;
        if (v > UINT64_MAX / mult)
                return -ERANGE;
        v *= mult;

        /*
         * floor(0.d1d2…dn × mult) exactly, in integers: long multiplication
         * from the last digit, keeping only the carry into the units. The
         * carry stays below mult, so nothing overflows however many digits.
         */
        for (size_t j = frac_end; j > frac_start; j--)
                frac = ((uint64_t)(s[j - 1] - '0') * mult + frac) / 10;
        if (frac > UINT64_MAX - v)
                return -ERANGE;
        *ret = v + frac;
        return 0;
}
