/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

struct loader {
        struct cgsentry_config *cfg;
        const char *file;
        unsigned line;    /* counted by the reader: inih calls it once per line */
        unsigned section_line; /* of the last [Section] header */
        FILE *in;         /* for file input */
        const char *text; /* for string input */
        FILE *errors;
        int n_errors;
};

static void bad(struct loader *l, const char *fmt, ...)
{
        va_list ap;

        l->n_errors++;
        if (!l->errors)
                return;
        fprintf(l->errors, "%s:%u: ", l->file, l->line);
        va_start(ap, fmt);
        vfprintf(l->errors, fmt, ap);
        va_end(ap);
        fputc('\n', l->errors);
}

int cgsentry_parse_duration(const char *s, uint64_t *ret_usec)
{
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                { "us", 1 }, { "ms", 1000 }, { "s", 1000000 }, { "sec", 1000000 },
                { "min", 60000000ull }, { "m", 60000000ull }, { "h", 3600000000ull },
        };
        char *end;
        double v;

        if (!s || !*s)
                return -EINVAL;
        errno = 0;
        v = strtod(s, &end);
        if (errno || end == s || v < 0 || s[0] == '-' || s[0] == '+')
                return -EINVAL;
        if (*end == '\0') {
                *ret_usec = (uint64_t)(v * 1000000);
                return 0;
        }
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
                if (strcmp(end, units[i].suffix) == 0) {
                        if (v * (double)units[i].usec > 1e18)
                                return -ERANGE;
                        *ret_usec = (uint64_t)(v * (double)units[i].usec);
                        return 0;
                }
        return -EINVAL;
}

static int parse_bool(const char *v, bool *ret)
{
        if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") ||
            !strcasecmp(v, "on")) {
                *ret = true;
                return 0;
        }
        if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") ||
            !strcasecmp(v, "off")) {
                *ret = false;
                return 0;
        }
        return -EINVAL;
}

/* "90%" or "90.5%" -> permyriad, 1..10000 exclusive of 0 */
static int parse_percent(const char *v, unsigned *ret)
{
        char *end;
        double d;

        errno = 0;
        d = strtod(v, &end);
        if (errno || end == v || strcmp(end, "%") != 0 || d <= 0 || d > 100)
                return -EINVAL;
        *ret = (unsigned)(d * 100 + 0.5);
        return 0;
}

/* "some 20% 2s" / "full 10% 1s": stall share of each window, window length.
 * The kernel accepts windows of 500ms..10s (2s multiples unprivileged). */
static int parse_pressure(const char *v, struct cgsentry_pressure *ret)
{
        char kind[8], pct[32], win[32], extra[2];
        struct cgsentry_pressure p = { .enabled = true };
        unsigned permyriad;

        if (sscanf(v, "%7s %31s %31s %1s", kind, pct, win, extra) != 3)
                return -EINVAL;
        if (strcmp(kind, "full") == 0)
                p.full = true;
        else if (strcmp(kind, "some") != 0)
                return -EINVAL;
        if (parse_percent(pct, &permyriad) < 0 || cgsentry_parse_duration(win, &p.window_usec) < 0)
                return -EINVAL;
        if (p.window_usec < 500000 || p.window_usec > 10000000)
                return -ERANGE;
        p.stall_usec = p.window_usec * permyriad / 10000;
        *ret = p;
        return 0;
}

/* KillSignal=SIGKILL or SIGTERM:5s,SIGKILL */
static int parse_kill_signal(const char *v, uint64_t *ret_grace)
{
        if (strcmp(v, "SIGKILL") == 0) {
                *ret_grace = 0;
                return 0;
        }
        if (strncmp(v, "SIGTERM:", 8) == 0) {
                const char *comma = strchr(v, ',');
                char dur[32];
                size_t n;

                if (!comma || strcmp(comma, ",SIGKILL") != 0)
                        return -EINVAL;
                n = (size_t)(comma - (v + 8));
                if (n == 0 || n >= sizeof(dur))
                        return -EINVAL;
                memcpy(dur, v + 8, n);
                dur[n] = '\0';
                return cgsentry_parse_duration(dur, ret_grace);
        }
        return -EINVAL;
}

static int set_string(char **field, const char *v)
{
        char *s = strdup(v);
        if (!s)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

static struct cgsentry_rule *new_rule(struct loader *l, const char *name)
{
        struct cgsentry_config *c = l->cfg;
        struct cgsentry_rule *rules, *r;

        rules = realloc(c->rules, (c->n_rules + 1) * sizeof(*rules));
        if (!rules)
                return NULL;
        c->rules = rules;
        r = &rules[c->n_rules];
        memset(r, 0, sizeof(*r));
        r->name = strdup(name);
        r->file = strdup(l->file);
        r->line = l->section_line ? l->section_line : l->line;
        r->cooldown_usec = CGSENTRY_COOLDOWN_DEFAULT_USEC;
        if (!r->name || !r->file) {
                free(r->name);
                free(r->file);
                return NULL;
        }
        c->n_rules++;
        return r;
}

static int rule_key(struct loader *l, struct cgsentry_rule *r, const char *key, const char *v)
{
        if (strcmp(key, "Match") == 0) {
                if (!*v || v[0] == '/' || strstr(v, ".."))
                        bad(l, "Match=%s: expected a path relative to the cgroup root", v);
                else if (set_string(&r->match, v) < 0)
                        return -ENOMEM;
        } else if (strcmp(key, "OOMGroup") == 0) {
                if (parse_bool(v, &r->oom_group) < 0)
                        bad(l, "OOMGroup=%s: expected yes or no", v);
        } else if (strcmp(key, "OnKernelOOMKill") == 0) {
                if (strcmp(v, "group-kill") == 0)
                        r->on_kernel_oom_kill = true;
                else if (strcmp(v, "ignore") == 0)
                        r->on_kernel_oom_kill = false;
                else
                        bad(l, "OnKernelOOMKill=%s: expected group-kill or ignore", v);
        } else if (strcmp(key, "Tripwire") == 0) {
                if (strcmp(v, "off") == 0)
                        r->tripwire_permyriad = 0;
                else if (parse_percent(v, &r->tripwire_permyriad) < 0 ||
                         r->tripwire_permyriad >= 10000)
                        bad(l, "Tripwire=%s: expected a percentage of memory.max below 100%%, "
                               "e.g. 90%%, or off", v);
        } else if (strcmp(key, "PressureStall") == 0) {
                int e = strcmp(v, "off") == 0 ? (r->pressure.enabled = false, 0)
                                              : parse_pressure(v, &r->pressure);
                if (e == -ERANGE)
                        bad(l, "PressureStall=%s: the window must be between 500ms and 10s", v);
                else if (e < 0)
                        bad(l, "PressureStall=%s: expected \"some|full PERCENT WINDOW\", "
                               "e.g. \"some 20%% 2s\"", v);
        } else if (strcmp(key, "Policy") == 0) {
                /* "NAME [OPTIONS...]": the options go to the plugin's init(). */
                size_t n = strcspn(v, " \t");
                const char *opts = v + n + strspn(v + n, " \t");
                if (n == 0 || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n) {
                        bad(l, "Policy=%s: expected a policy name ([a-z0-9_-]) and options", v);
                } else {
                        char *name = strndup(v, n);
                        if (!name)
                                return -ENOMEM;
                        free(r->policy);
                        r->policy = name;
                        free(r->policy_options);
                        r->policy_options = *opts ? strdup(opts) : NULL;
                        if (*opts && !r->policy_options)
                                return -ENOMEM;
                }
        } else if (strcmp(key, "Protect") == 0) {
                char **p = realloc(r->protect, (r->n_protect + 1) * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                r->protect = p;
                if (!*v || v[0] == '/')
                        bad(l, "Protect=%s: expected a cgroup glob relative to the root", v);
                else if (!(p[r->n_protect++] = strdup(v)))
                        return -ENOMEM;
        } else if (strcmp(key, "DryRun") == 0) {
                if (parse_bool(v, &r->dry_run) < 0)
                        bad(l, "DryRun=%s: expected yes or no", v);
        } else if (strcmp(key, "Cooldown") == 0) {
                if (cgsentry_parse_duration(v, &r->cooldown_usec) < 0)
                        bad(l, "Cooldown=%s: expected a duration such as 10s", v);
        } else if (strcmp(key, "KillSignal") == 0) {
                if (parse_kill_signal(v, &r->term_grace_usec) < 0)
                        bad(l, "KillSignal=%s: expected SIGKILL or SIGTERM:DURATION,SIGKILL", v);
        } else {
                bad(l, "unknown key %s= in a [Rule] section", key);
        }
        return 0;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
        struct loader *l = user;

        if (strcmp(section, "Daemon") == 0) {
                if (strcmp(key, "CgroupRoot") == 0)
                        return set_string(&l->cfg->cgroup_root, value) == 0;
                if (strcmp(key, "ProcRoot") == 0)
                        return set_string(&l->cfg->proc_root, value) == 0;
                if (strcmp(key, "PolicyDir") == 0)
                        return set_string(&l->cfg->policy_dir, value) == 0;
                bad(l, "unknown key %s= in [Daemon]", key);
                return 1;
        }
        if (strncmp(section, "Rule ", 5) == 0 && section[5]) {
                /* A drop-in section with an existing rule's name extends or
                 * overrides that rule, as systemd drop-ins do. Looked up by name
                 * each time: new_rule() may move the array. */
                struct cgsentry_rule *r = NULL;
                for (size_t i = 0; i < l->cfg->n_rules && !r; i++)
                        if (strcmp(l->cfg->rules[i].name, section + 5) == 0)
                                r = &l->cfg->rules[i];
                if (!r && !(r = new_rule(l, section + 5)))
                        return 0;
                return rule_key(l, r, key, value) == 0;
        }
        bad(l, "unknown section [%s]; expected [Daemon] or [Rule NAME]", section);
        return 1;
}

static void count_line(struct loader *l, const char *str)
{
        l->line++;
        str += strspn(str, " \t");
        if (*str == '[')
                l->section_line = l->line;
}

static char *read_line_file(char *str, int num, void *stream)
{
        struct loader *l = stream;
        char *r = fgets(str, num, l->in);
        if (r)
                count_line(l, r);
        return r;
}

static char *read_line_string(char *str, int num, void *stream)
{
        struct loader *l = stream;
        size_t n = 0;

        if (!*l->text)
                return NULL;
        while (l->text[n] && l->text[n] != '\n' && n + 2 < (size_t)num)
                n++;
        if (l->text[n] == '\n')
                n++;
        memcpy(str, l->text, n);
        str[n] = '\0';
        l->text += n;
        count_line(l, str);
        return str;
}

static int parse_one(struct loader *l, ini_reader reader)
{
        int r;

        l->line = l->section_line = 0;
        r = ini_parse_stream(reader, l, handler, l);
        if (r > 0) {
                /* inih reports the first line it could not parse at all. */
                unsigned saved = l->line;
                l->line = (unsigned)r;
                bad(l, "syntax error: expected [Section] or Key=Value");
                l->line = saved;
        } else if (r < 0) {
                return -ENOMEM;
        }
        return 0;
}

static int validate(struct loader *l)
{
        for (size_t i = 0; i < l->cfg->n_rules; i++) {
                struct cgsentry_rule *r = &l->cfg->rules[i];
                if (!r->match) {
                        l->file = r->file;
                        l->line = r->line;
                        bad(l, "[Rule %s] has no Match=", r->name);
                }
        }
        return l->n_errors ? -EINVAL : 0;
}

static struct cgsentry_config *config_new(void)
{
        struct cgsentry_config *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->cgroup_root = strdup("/sys/fs/cgroup");
        c->proc_root = strdup("/proc");
        if (!c->cgroup_root || !c->proc_root) {
                cgsentry_config_free(c);
                return NULL;
        }
        return c;
}

static int finish(struct loader *l, int r, struct cgsentry_config **ret)
{
        if (r == 0)
                r = validate(l);
        if (r < 0) {
                cgsentry_config_free(l->cfg);
                return r;
        }
        *ret = l->cfg;
        return 0;
}

int cgsentry_config_load_string(const char *text, const char *name, FILE *errors,
                                struct cgsentry_config **ret)
{
        struct loader l = { .file = name, .text = text, .errors = errors };

        l.cfg = config_new();
        if (!l.cfg)
                return -ENOMEM;
        return finish(&l, parse_one(&l, read_line_string), ret);
}

static int load_file(struct loader *l, const char *path)
{
        int r;

        l->in = fopen(path, "re");
        if (!l->in) {
                r = -errno;
                if (l->errors)
                        fprintf(l->errors, "%s: %s\n", path, strerror(-r));
                return r;
        }
        l->file = path;
        r = parse_one(l, read_line_file);
        fclose(l->in);
        l->in = NULL;
        return r;
}

static int filter_conf(const struct dirent *de)
{
        size_t n = strlen(de->d_name);
        return de->d_name[0] != '.' && n > 5 && strcmp(de->d_name + n - 5, ".conf") == 0;
}

int cgsentry_config_load(const char *path, FILE *errors, struct cgsentry_config **ret)
{
        struct loader l = { .errors = errors };
        struct dirent **names = NULL;
        char dir[PATH_MAX], *slash;
        char **paths = NULL;
        int n = 0, r;

        l.cfg = config_new();
        if (!l.cfg)
                return -ENOMEM;
        r = load_file(&l, path);
        if (r < 0)
                return finish(&l, r, ret);

        /* Drop-ins: conf.d/ beside the main file, lexical order, like systemd. */
        snprintf(dir, sizeof(dir), "%s", path);
        slash = strrchr(dir, '/');
        snprintf(slash ? slash + 1 : dir, sizeof(dir) - (size_t)(slash ? slash + 1 - dir : 0),
                 "conf.d");
        n = scandir(dir, &names, filter_conf, alphasort);
        if (n < 0) {
                n = 0;
                if (errno != ENOENT && errno != ENOTDIR) {
                        r = -errno;
                        if (errors)
                                fprintf(errors, "%s: %s\n", dir, strerror(errno));
                }
        }
        paths = calloc((size_t)n + 1, sizeof(*paths));
        for (int i = 0; i < n; i++) {
                if (r == 0 && paths && asprintf(&paths[i], "%s/%s", dir, names[i]->d_name) > 0)
                        r = load_file(&l, paths[i]);
                free(names[i]);
        }
        free(names);
        if (!paths && n > 0)
                r = -ENOMEM;
        r = finish(&l, r, ret);
        /* Rules keep their own copy of the file name; these were for messages. */
        for (int i = 0; paths && i < n; i++)
                free(paths[i]);
        free(paths);
        return r;
}

void cgsentry_config_free(struct cgsentry_config *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n_rules; i++) {
                struct cgsentry_rule *r = &c->rules[i];
                free(r->name);
                free(r->match);
                free(r->policy);
                free(r->policy_options);
                for (size_t j = 0; j < r->n_protect; j++)
                        free(r->protect[j]);
                free(r->protect);
                free(r->file);
        }
        free(c->rules);
        free(c->cgroup_root);
        free(c->proc_root);
        free(c->policy_dir);
        free(c);
}

/* Match one path component by fnmatch() on a NUL-terminated copy. */
static bool component_match(const char *pat, size_t plen, const char *s, size_t slen)
{
        char p[NAME_MAX + 1], c[NAME_MAX + 1];

        if (plen > NAME_MAX || slen > NAME_MAX)
                return false;
        memcpy(p, pat, plen);
        p[plen] = '\0';
        memcpy(c, s, slen);
        c[slen] = '\0';
        return fnmatch(p, c, FNM_PERIOD) == 0;
}

static bool glob_rec(const char *pat, const char *path)
{
        const char *pe, *se;
        size_t plen;

        if (!*pat)
                return !*path;
        pe = strchrnul(pat, '/');
        plen = (size_t)(pe - pat);
        if (plen == 2 && pat[0] == '*' && pat[1] == '*') {
                const char *rest = *pe ? pe + 1 : pe;
                /* '**' eats zero or more whole components. */
                for (const char *p = path;; ) {
                        if (glob_rec(rest, p))
                                return true;
                        if (!*p)
                                return false;
                        p = strchrnul(p, '/');
                        if (*p)
                                p++;
                }
        }
        if (!*path)
                return false;
        se = strchrnul(path, '/');
        if (!component_match(pat, plen, path, (size_t)(se - path)))
                return false;
        if (!*pe)
                return !*se;
        if (!*se)
                return glob_rec(pe + 1, se);
        return glob_rec(pe + 1, se + 1);
}

bool cgsentry_glob_match(const char *pattern, const char *path)
{
        while (*path == '/')
                path++;
        return glob_rec(pattern, path);
}

const struct cgsentry_rule *cgsentry_config_match(const struct cgsentry_config *c,
                                                  const char *path)
{
        for (size_t i = 0; i < c->n_rules; i++)
                if (cgsentry_glob_match(c->rules[i].match, path))
                        return &c->rules[i];
        return NULL;
}

bool cgsentry_rule_protects(const struct cgsentry_rule *r, const char *path)
{
        for (size_t i = 0; i < r->n_protect; i++)
                if (cgsentry_glob_match(r->protect[i], path))
                        return true;
        return false;
}
