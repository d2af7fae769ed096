/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <grp.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cgsentry/supervise.h"
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

int cgsentry_parse_tripwire(const char *v, unsigned *ret_permyriad, char *msg, size_t msg_size)
{
        if (strcmp(v, "off") == 0) {
                *ret_permyriad = 0;
                return 0;
        }
        /* Below 100%: memory.high at memory.max would never fire first. */
        return sv_parse_percent(v, CGSENTRY_TRIPWIRE_MIN_PERMYRIAD,
                                CGSENTRY_TRIPWIRE_MAX_PERMYRIAD, ret_permyriad, msg, msg_size);
}

int cgsentry_parse_pressure(const char *v, struct cgsentry_pressure *ret, char *msg,
                            size_t msg_size)
{
        char kind[8], pct[32], win[32], extra[2], sub[192];
        struct cgsentry_pressure p = { .enabled = true };
        unsigned permyriad;
        int r;

        if (strcmp(v, "off") == 0) {
                *ret = (struct cgsentry_pressure){ 0 };
                return 0;
        }
        if (sscanf(v, "%7s %31s %31s %1s", kind, pct, win, extra) != 3 ||
            (strcmp(kind, "some") != 0 && strcmp(kind, "full") != 0)) {
                snprintf(msg, msg_size, "expected \"some|full PERCENT WINDOW\", e.g. "
                                        "\"some 20%% 2s\", or off");
                return -EINVAL;
        }
        p.full = strcmp(kind, "full") == 0;
        r = sv_parse_percent(pct, 1, 10000, &permyriad, sub, sizeof(sub));
        if (r < 0) {
                snprintf(msg, msg_size, "PERCENT %s: %s", pct, sub);
                return r;
        }
        /* psi.rst: windows of 500ms to 10s. */
        r = sv_parse_duration(win, CGSENTRY_PSI_WINDOW_MIN_USEC, CGSENTRY_PSI_WINDOW_MAX_USEC,
                              &p.window_usec, sub, sizeof(sub));
        if (r < 0) {
                snprintf(msg, msg_size, "WINDOW %s: %s", win, sub);
                return r;
        }
        p.stall_usec = p.window_usec * permyriad / 10000;
        *ret = p;
        return 0;
}

/* KillSignal=SIGKILL or SIGTERM:5s,SIGKILL */
static int parse_kill_signal(const char *v, uint64_t *ret_grace, char *msg, size_t msg_size)
{
        const char *comma;
        char dur[32], sub[192];
        size_t n;
        int r;

        if (strcmp(v, "SIGKILL") == 0) {
                *ret_grace = 0;
                return 0;
        }
        comma = strchr(v, ',');
        n = comma ? (size_t)(comma - (v + 8)) : 0;
        if (strncmp(v, "SIGTERM:", 8) != 0 || !comma || strcmp(comma, ",SIGKILL") != 0 ||
            n == 0 || n >= sizeof(dur)) {
                snprintf(msg, msg_size, "expected SIGKILL or SIGTERM:DURATION,SIGKILL");
                return -EINVAL;
        }
        memcpy(dur, v + 8, n);
        dur[n] = '\0';
        r = sv_parse_duration(dur, CGSENTRY_GRACE_MIN_USEC, CGSENTRY_GRACE_MAX_USEC, ret_grace,
                              sub, sizeof(sub));
        if (r < 0)
                snprintf(msg, msg_size, "grace period %s: %s", dur, sub);
        return r;
}

int cgsentry_parse_policy(const char *v, char **ret_name, char **ret_options, char *msg,
                          size_t msg_size)
{
        /* "NAME [OPTIONS...]": the options go to the plugin's init(). */
        size_t n = strcspn(v, " \t");
        const char *opts = v + n + strspn(v + n, " \t");
        char *name, *options = NULL;

        if (n == 0 || n > 64 || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n) {
                snprintf(msg, msg_size, "expected a policy name ([a-z0-9_-], at most 64) and "
                                        "options");
                return -EINVAL;
        }
        name = strndup(v, n);
        if (!name || (*opts && !(options = strdup(opts)))) {
                free(name);
                return -ENOMEM;
        }
        free(*ret_name);
        *ret_name = name;
        free(*ret_options);
        *ret_options = options;
        return 0;
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

struct cgsentry_rule *cgsentry_config_add_rule(struct cgsentry_config *c, const char *name,
                                               const char *file, unsigned line)
{
        struct cgsentry_rule *rules, *r;

        rules = realloc(c->rules, (c->n_rules + 1) * sizeof(*rules));
        if (!rules)
                return NULL;
        c->rules = rules;
        r = &rules[c->n_rules];
        memset(r, 0, sizeof(*r));
        r->name = strdup(name);
        r->file = strdup(file);
        r->line = line;
        r->cooldown_usec = CGSENTRY_COOLDOWN_DEFAULT_USEC;
        r->hook_timeout_usec = CGSENTRY_HOOK_TIMEOUT_DEFAULT_USEC;
        if (!r->name || !r->file) {
                free(r->name);
                free(r->file);
                return NULL;
        }
        c->n_rules++;
        return r;
}

int cgsentry_rule_add_protect(struct cgsentry_rule *r, const char *glob)
{
        char **p = realloc(r->protect, (r->n_protect + 1) * sizeof(*p));

        if (!p)
                return -ENOMEM;
        r->protect = p;
        if (!(p[r->n_protect] = strdup(glob)))
                return -ENOMEM;
        r->n_protect++;
        return 0;
}

int cgsentry_rule_set_match(struct cgsentry_rule *r, const char *glob)
{
        return set_string(&r->match, glob);
}

void cgsentry_strv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

int cgsentry_parse_command(const char *v, char ***ret, char *msg, size_t msg_size)
{
        static const char blanks[] = " \t";
        char **argv = NULL;
        size_t n = 0;

        if (v[0] != '/') {
                snprintf(msg, msg_size, "expected an absolute path to an executable");
                return -EINVAL;
        }
        if (strpbrk(v, "\"'\\")) {
                snprintf(msg, msg_size, "quotes and backslashes are not supported (no shell "
                                        "runs the command): put the command in a script");
                return -EINVAL;
        }
        for (const char *p = v + strspn(v, blanks); *p; p += strspn(p, blanks)) {
                size_t len = strcspn(p, blanks);
                char **a = realloc(argv, (n + 2) * sizeof(*argv));
                if (!a || !(a[n] = strndup(p, len))) {
                        cgsentry_strv_free(a ? (a[n] = NULL, a) : argv);
                        return -ENOMEM;
                }
                argv = a;
                argv[++n] = NULL;
                p += len;
        }
        cgsentry_strv_free(*ret);
        *ret = argv;
        return 0;
}

static int set_command(struct loader *l, const char *key, const char *v, char ***ret)
{
        char msg[256];
        int r;

        if (!*v) { /* an empty assignment resets, as in systemd units */
                cgsentry_strv_free(*ret);
                *ret = NULL;
                return 0;
        }
        r = cgsentry_parse_command(v, ret, msg, sizeof(msg));
        if (r == -EINVAL)
                bad(l, "%s=%s: %s", key, v, msg);
        return r == -ENOMEM ? r : 0;
}

static struct cgsentry_rule *new_rule(struct loader *l, const char *name)
{
        return cgsentry_config_add_rule(l->cfg, name, l->file,
                                        l->section_line ? l->section_line : l->line);
}

static int rule_key(struct loader *l, struct cgsentry_rule *r, const char *key, const char *v)
{
        char msg[256];
        int e;

        if (strcmp(key, "Match") == 0) {
                if (!*v || v[0] == '/' || v[0] == '.' || strstr(v, "/.") || strstr(v, "//"))
                        bad(l, "Match=%s: expected a path relative to the cgroup root, without "
                               "'.' or '..' components", v);
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
                if (cgsentry_parse_tripwire(v, &r->tripwire_permyriad, msg, sizeof(msg)) < 0)
                        bad(l, "Tripwire=%s: %s of memory.max, or off", v, msg);
        } else if (strcmp(key, "PressureStall") == 0) {
                if (cgsentry_parse_pressure(v, &r->pressure, msg, sizeof(msg)) < 0)
                        bad(l, "PressureStall=%s: %s", v, msg);
        } else if ((e = cgsentry_node_rule_key(&r->node, key, v, msg, sizeof(msg))) != 0) {
                if (e < 0)
                        bad(l, "%s=%s: %s", key, v, msg);
        } else if (strcmp(key, "Policy") == 0) {
                e = cgsentry_parse_policy(v, &r->policy, &r->policy_options, msg, sizeof(msg));
                if (e == -ENOMEM)
                        return e;
                if (e < 0)
                        bad(l, "Policy=%s: %s", v, msg);
        } else if (strcmp(key, "Protect") == 0) {
                if (!*v || v[0] == '/')
                        bad(l, "Protect=%s: expected a cgroup glob relative to the root", v);
                else if (cgsentry_rule_add_protect(r, v) < 0)
                        return -ENOMEM;
        } else if (strcmp(key, "DryRun") == 0) {
                if (parse_bool(v, &r->dry_run) < 0)
                        bad(l, "DryRun=%s: expected yes or no", v);
        } else if (strcmp(key, "Cooldown") == 0) {
                if (sv_parse_duration(v, 0, CGSENTRY_COOLDOWN_MAX_USEC, &r->cooldown_usec, msg,
                                      sizeof(msg)) < 0)
                        bad(l, "Cooldown=%s: %s", v, msg);
        } else if (strcmp(key, "KillSignal") == 0) {
                if (parse_kill_signal(v, &r->term_grace_usec, msg, sizeof(msg)) < 0)
                        bad(l, "KillSignal=%s: %s", v, msg);
        } else if (strcmp(key, "ExecBeforeKill") == 0) {
                return set_command(l, key, v, &r->exec_before_kill);
        } else if (strcmp(key, "ExecAfterKill") == 0) {
                return set_command(l, key, v, &r->exec_after_kill);
        } else if (strcmp(key, "HookTimeout") == 0) {
                if (sv_parse_duration(v, CGSENTRY_HOOK_TIMEOUT_MIN_USEC,
                                      CGSENTRY_HOOK_TIMEOUT_MAX_USEC, &r->hook_timeout_usec, msg,
                                      sizeof(msg)) < 0)
                        bad(l, "HookTimeout=%s: %s", v, msg);
        } else {
                bad(l, "unknown key %s= in a [Rule] section", key);
        }
        return 0;
}

/* The [Daemon] keys of the control socket and the metrics; 1 to go on. */
static int daemon_key(struct loader *l, const char *key, const char *v)
{
        struct cgsentry_config *c = l->cfg;
        char msg[256];

        if (strcmp(key, "ControlSocket") == 0) {
                bool on;
                if (parse_bool(v, &on) == 0 && !on) {
                        c->control_socket_off = true;
                        return 1;
                }
                if (v[0] != '/') {
                        bad(l, "ControlSocket=%s: expected an absolute path, or no", v);
                        return 1;
                }
                c->control_socket_off = false;
                return set_string(&c->control_socket, v) == 0;
        }
        if (strcmp(key, "ControlGroup") == 0) {
                struct group gr, *res = NULL;
                char buf[4096];
                if (!*v) {
                        free(c->control_group);
                        c->control_group = NULL;
                        return 1;
                }
                /* Resolved now: a typo must fail the load, not lock everyone out. */
                if (getgrnam_r(v, &gr, buf, sizeof(buf), &res) != 0 || !res) {
                        bad(l, "ControlGroup=%s: no such group", v);
                        return 1;
                }
                c->control_gid = res->gr_gid;
                return set_string(&c->control_group, v) == 0;
        }
        if (strcmp(key, "MetricsTextfile") == 0) {
                if (!*v) {
                        free(c->metrics_textfile);
                        c->metrics_textfile = NULL;
                        return 1;
                }
                if (v[0] != '/' || v[strlen(v) - 1] == '/') {
                        bad(l, "MetricsTextfile=%s: expected an absolute file path", v);
                        return 1;
                }
                return set_string(&c->metrics_textfile, v) == 0;
        }
        if (strcmp(key, "MetricsInterval") == 0) {
                bool on;
                if (parse_bool(v, &on) == 0 && !on) {
                        c->metrics_interval_usec = 0;
                        return 1;
                }
                if (sv_parse_duration(v, CGSENTRY_METRICS_INTERVAL_MIN_USEC,
                                      CGSENTRY_METRICS_INTERVAL_MAX_USEC,
                                      &c->metrics_interval_usec, msg, sizeof(msg)) < 0)
                        bad(l, "MetricsInterval=%s: %s, or off", v, msg);
                return 1;
        }
        bad(l, "unknown key %s= in [Daemon]", key);
        return 1;
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
                if (strcmp(key, "StateDirectory") == 0) {
                        if (value[0] != '/') {
                                bad(l, "StateDirectory=%s: expected an absolute path", value);
                                return 1;
                        }
                        return set_string(&l->cfg->state_dir, value) == 0;
                }
                return daemon_key(l, key, value);
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

/* The next whole line of the input, without its newline, malloc'ed; NULL
 * at the end. */
static char *next_line(struct loader *l)
{
        char *line = NULL;
        size_t cap = 0, n;

        if (l->in) {
                ssize_t got = getline(&line, &cap, l->in);
                if (got < 0) {
                        free(line);
                        return NULL;
                }
                n = (size_t)got;
        } else {
                if (!*l->text)
                        return NULL;
                n = strcspn(l->text, "\n");
                line = strndup(l->text, n);
                l->text += n + (l->text[n] == '\n');
                if (!line)
                        return NULL;
        }
        n = strlen(line); /* a NUL byte ends the line, as for inih */
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = '\0';
        return line;
}

/*
 * inih reads at most INI_MAX_LINE bytes a line and 50 of a section name,
 * and takes an indented line for the continuation of the previous value.
 * Silently, each changes what a file means (the tail of a long comment
 * ending in "DryRun=yes" became a key; two long rule names merged), so
 * every such line is an error here, and inih is given an empty line
 * instead of it.
 */
static const char *line_problem(const char *line, int num)
{
        const char *p = line + strspn(line, " \t");

        if (strlen(line) + 2 > (size_t)num)
                return "line too long";
        if (!*p || *p == '#' || *p == ';')
                return NULL;
        if (p != line)
                return "indented line: continuation lines are not supported; remove the leading "
                       "blanks";
        if (*p == '[') {
                size_t len = strcspn(p + 1, "]");
                if (len >= CGSENTRY_CONF_NAME_MAX)
                        return "section name too long";
        }
        return NULL;
}

static char *read_line(char *str, int num, void *stream)
{
        struct loader *l = stream;
        char *line = next_line(l);
        const char *problem;

        if (!line)
                return NULL;
        l->line++;
        problem = line_problem(line, num);
        if (problem) {
                if (strcmp(problem, "line too long") == 0)
                        bad(l, "line too long (%zu bytes, at most %d)", strlen(line), num - 2);
                else if (strcmp(problem, "section name too long") == 0)
                        bad(l, "section name too long (at most %d bytes)",
                            CGSENTRY_CONF_NAME_MAX - 1);
                else
                        bad(l, "%s", problem);
                str[0] = '\0';
        } else {
                snprintf(str, (size_t)num, "%s\n", line);
                if (line[0] == '[')
                        l->section_line = l->line;
        }
        free(line);
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
                l->file = r->file;
                l->line = r->line;
                if (!r->match)
                        bad(l, "[Rule %s] has no Match=", r->name);
                /* Checked once every file is read: a drop-in may add either. */
                if (r->exec_before_kill && !r->term_grace_usec)
                        bad(l, "[Rule %s] has ExecBeforeKill= but no grace period: it runs "
                               "within KillSignal=SIGTERM:DURATION,SIGKILL's grace, never "
                               "delaying a SIGKILL", r->name);
        }
        return l->n_errors ? -EINVAL : 0;
}

struct cgsentry_config *cgsentry_config_new(void)
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

        l.cfg = cgsentry_config_new();
        if (!l.cfg)
                return -ENOMEM;
        return finish(&l, parse_one(&l, read_line), ret);
}

static int load_file(struct loader *l, const char *path)
{
        int r;

        struct stat st;

        l->in = fopen(path, "re");
        if (!l->in) {
                r = -errno;
                if (l->errors)
                        fprintf(l->errors, "%s: %s\n", path, strerror(-r));
                return r;
        }
        /* A directory opens fine and reads as nothing: "0 rules, OK". */
        if (fstat(fileno(l->in), &st) < 0 || !S_ISREG(st.st_mode)) {
                r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
                if (l->errors)
                        fprintf(l->errors, "%s: %s\n", path,
                                r == -EISDIR ? "is a directory, not a configuration file"
                                             : "not a regular file");
                fclose(l->in);
                l->in = NULL;
                return r;
        }
        l->file = path;
        r = parse_one(l, read_line);
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

        l.cfg = cgsentry_config_new();
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
                cgsentry_strv_free(r->exec_before_kill);
                cgsentry_strv_free(r->exec_after_kill);
        }
        free(c->rules);
        free(c->cgroup_root);
        free(c->proc_root);
        free(c->policy_dir);
        free(c->state_dir);
        free(c->control_socket);
        free(c->control_group);
        free(c->metrics_textfile);
        free(c);
}

const struct cgsentry_rule *cgsentry_config_match(const struct cgsentry_config *c,
                                                  const char *path)
{
        for (size_t i = 0; i < c->n_rules; i++)
                if (sv_glob_match(c->rules[i].match, path))
                        return &c->rules[i];
        return NULL;
}
