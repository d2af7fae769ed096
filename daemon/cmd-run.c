/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgsentry run: start a command in a cgroup of its own, with memory limits,
 * and supervise it with the same engine as cgsentryd, in-process. If it runs
 * away, the whole tree goes, and cgsentry says why.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libcgroup.h>
#include <linux/sched.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "cgsentry.h"
#include "cgsentry/supervise.h"
#include "config.h"
#include "log.h"
#include "format.h"
#include "parse.h"
#include "run-container.h"
#include "supervisor.h"
#include "syscalls.h"
#include "util.h"


/* --tripwire's default: 90% of --memory-max. */
#define CGSENTRY_RUN_TRIPWIRE_DEFAULT_PERMYRIAD 9000u

/* How long leftover processes get to disappear after cgroup.kill, checked
 * every 10 ms: SIGKILLed tasks exit within milliseconds unless stuck in D. */
#define LEFTOVER_TRIES 500
#define LEFTOVER_INTERVAL_MSEC 10

/* Looking for processes of the tree outside the wrapped cgroup: runtimes
 * move containers when they start them, so often at first, then every
 * 5 s (no kernel event says that a process changed cgroups). */
#define ESCAPE_SCAN_FIRST_MSEC 50
#define ESCAPE_SCAN_MAX_MSEC 5000
/* Escaped processes named in the report, at most. */
#define ESCAPES_MAX 64

struct clone_args_v2 {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
        uint64_t set_tid, set_tid_size, cgroup;
};

struct run {
        /* options */
        uint64_t memory_max, memory_high, swap_max;
        bool has_max, has_high, has_swap, oom_group, keep, quiet, verbose, cgroupns;
        unsigned tripwire_permyriad; /* 0: off */
        struct cgsentry_pressure pressure;
        char *policy, *policy_options;
        const char *name, *parent, *json_report;
        char **argv;
        /* state */
        const char *root;
        char *path; /* relative to the cgroup root */
        char *wrapped; /* "/" + path: as /proc/PID/cgroup names it */
        int cgfd, pidfd;
        int leaf_fd, root_fd, proc_fd;
        pid_t pid;
        uv_loop_t *loop;
        uv_poll_t child_poll;
        uv_signal_t sigs[4];
        uv_timer_t leftover;
        unsigned leftover_tries;
        uv_timer_t escape_timer;
        uint64_t escape_interval;
        uv_signal_t sigchld;
        struct run_escape escapes[ESCAPES_MAX];
        size_t n_escapes;
        struct supervisor *sv;
        int status; /* from waitid */
        bool exited, killed_by_us;
        int term_signal; /* the signal that ended the command, 0 if it exited */
        char kill_trigger[32];
        char kill_why[1024];
        struct sv_trigger kill_trig;
        size_t kill_count;
        struct timespec started;
        struct sv_memory_events events;
        uint64_t peak;
        bool have_peak;
};

static void run_usage(FILE *out)
{
        fputs("Usage: cgsentry run [OPTIONS] -- COMMAND [ARGS...]\n"
              "\n"
              "Run COMMAND in a cgroup of its own with memory limits, supervised like\n"
              "cgsentryd supervises services: if it runs away, the whole process tree is\n"
              "killed at once, and cgsentry says why.\n"
              "\n"
              "Options:\n"
              "      --memory-max SIZE   hard limit (memory.max), e.g. 512M, 2G\n"
              "      --memory-high SIZE  throttling limit (memory.high)\n"
              "      --swap-max SIZE     swap limit (memory.swap.max)\n"
              "      --oom-group         kill the whole tree on OOM (default)\n"
              "      --no-oom-group      let the kernel kill a single process\n"
              "      --tripwire PCT|off  kill the tree at PCT of --memory-max, before the\n"
              "                          kernel's OOM killer (default 90%)\n"
              "      --pressure SPEC     kill on memory pressure, e.g. \"some 20% 2s\"\n"
              "      --policy NAME       victim policy (default kernel)\n"
              "      --name NAME         cgroup name (default cgsentry-run-PID)\n"
              "      --parent CGROUP     create the cgroup below CGROUP (relative to the\n"
              "                          cgroup root; default: our own cgroup)\n"
              "      --keep              keep the cgroup afterwards\n"
              "      --cgroupns          run COMMAND in a private cgroup namespace, with\n"
              "                          cgroup2 mounted again, so that the cgroups a\n"
              "                          container runtime creates are inside the limits\n"
              "      --json-report FILE  write what happened as JSON\n"
              "  -q, --quiet             no messages but errors and the kill notice\n"
              "  -v, --verbose           log the supervisor's decisions\n"
              "  -h, --help              show this help\n"
              "\n"
              "Exit status: COMMAND's own; 128+N if it died of signal N; 137 if cgsentry\n"
              "killed it; 2 on usage or set-up errors (nothing is left behind).\n",
              out);
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
        va_list ap;

        fputs("cgsentry run: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return CGSENTRY_EXIT_ERROR;
}

static int parse_size_opt(const char *opt, const char *v, uint64_t *ret, bool *has)
{
        if (sv_parse_size(v, ret) < 0)
                return fail("%s: invalid size '%s' (use bytes or K, M, G, T suffixes, or max)",
                            opt, v);
        *has = true;
        return 0;
}

static int parse_args(struct run *r, int argc, char **argv)
{
        enum { O_MAX = 256, O_HIGH, O_SWAP, O_GROUP, O_NOGROUP, O_TRIP, O_PRESSURE, O_POLICY,
               O_NAME, O_PARENT, O_KEEP, O_JSON, O_CGROUPNS };
        static const struct option options[] = {
                { "memory-max", required_argument, NULL, O_MAX },
                { "memory-high", required_argument, NULL, O_HIGH },
                { "swap-max", required_argument, NULL, O_SWAP },
                { "oom-group", no_argument, NULL, O_GROUP },
                { "no-oom-group", no_argument, NULL, O_NOGROUP },
                { "tripwire", required_argument, NULL, O_TRIP },
                { "pressure", required_argument, NULL, O_PRESSURE },
                { "policy", required_argument, NULL, O_POLICY },
                { "name", required_argument, NULL, O_NAME },
                { "parent", required_argument, NULL, O_PARENT },
                { "keep", no_argument, NULL, O_KEEP },
                { "json-report", required_argument, NULL, O_JSON },
                { "cgroupns", no_argument, NULL, O_CGROUPNS },
                { "quiet", no_argument, NULL, 'q' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        char msg[256];
        int c;

        optind = 1;
        /* "+": stop at the first non-option, the command's own options are its own. */
        while ((c = getopt_long(argc, argv, "+qvh", options, NULL)) >= 0) {
                switch (c) {
                case O_MAX:
                        if (parse_size_opt("--memory-max", optarg, &r->memory_max, &r->has_max))
                                return CGSENTRY_EXIT_ERROR;
                        break;
                case O_HIGH:
                        if (parse_size_opt("--memory-high", optarg, &r->memory_high, &r->has_high))
                                return CGSENTRY_EXIT_ERROR;
                        break;
                case O_SWAP:
                        if (parse_size_opt("--swap-max", optarg, &r->swap_max, &r->has_swap))
                                return CGSENTRY_EXIT_ERROR;
                        break;
                case O_GROUP:
                        r->oom_group = true;
                        break;
                case O_NOGROUP:
                        r->oom_group = false;
                        break;
                case O_TRIP:
                        if (cgsentry_parse_tripwire(optarg, &r->tripwire_permyriad, msg,
                                                    sizeof(msg)) < 0)
                                return fail("--tripwire %s: %s of --memory-max, or off", optarg,
                                            msg);
                        break;
                case O_PRESSURE:
                        if (cgsentry_parse_pressure(optarg, &r->pressure, msg, sizeof(msg)) < 0)
                                return fail("--pressure %s: %s", optarg, msg);
                        break;
                case O_POLICY: {
                        int e = cgsentry_parse_policy(optarg, &r->policy, &r->policy_options, msg,
                                                      sizeof(msg));
                        if (e == -ENOMEM)
                                return fail("out of memory");
                        if (e < 0)
                                return fail("--policy %s: %s", optarg, msg);
                        break;
                }
                case O_NAME:
                        /* Also a unit name under systemd (NAME.scope): the characters
                         * both accept, so a name works the same everywhere. */
                        if (!*optarg || optarg[0] == '.' || strlen(optarg) > 200 ||
                            optarg[strspn(optarg, "abcdefghijklmnopqrstuvwxyz"
                                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_.-")])
                                return fail("--name: '%s' is not a valid name (letters, digits, "
                                            "':', '_', '.', '-')", optarg);
                        r->name = optarg;
                        break;
                case O_PARENT:
                        r->parent = optarg;
                        break;
                case O_KEEP:
                        r->keep = true;
                        break;
                case O_JSON:
                        r->json_report = optarg;
                        break;
                case O_CGROUPNS:
                        r->cgroupns = true;
                        break;
                case 'q':
                        r->quiet = true;
                        break;
                case 'v':
                        r->verbose = true;
                        break;
                case 'h':
                        run_usage(stdout);
                        exit(CGSENTRY_EXIT_OK);
                default:
                        run_usage(stderr);
                        return CGSENTRY_EXIT_ERROR;
                }
        }
        if (optind >= argc)
                return fail("missing COMMAND; usage: cgsentry run [OPTIONS] -- COMMAND [ARGS...]");
        r->argv = argv + optind;
        if (r->has_high && r->has_max && r->memory_high > r->memory_max &&
            r->memory_high != SV_LIMIT_MAX)
                return fail("--memory-high (%" PRIu64 ") is above --memory-max (%" PRIu64 ")",
                            r->memory_high, r->memory_max);
        return 0;
}

/* The cgroup v2 root must carry the memory controller. */
static int check_cgroup2(const struct run *r)
{
        char path[512], buf[512];
        struct statfs sfs;
        unsigned ctrl = 0;
        ssize_t n;
        int fd;

        if (statfs(r->root, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
                return fail("%s is not a cgroup v2 mount; cgsentry run needs the unified "
                            "hierarchy (boot with systemd.unified_cgroup_hierarchy=1)", r->root);
        snprintf(path, sizeof(path), "%s/cgroup.controllers", r->root);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        n = fd >= 0 ? sv__read_fd(fd, buf, sizeof(buf)) : -errno;
        if (fd >= 0)
                close(fd);
        if (n < 0 || sv_parse_controllers(buf, (size_t)n, &ctrl) < 0 || !(ctrl & SV_CTRL_MEMORY))
                return fail("the memory controller is not available in %s (it may be bound to "
                            "cgroup v1); cgsentry run needs it on cgroup v2", r->root);
        return 0;
}

/* Our own cgroup, from /proc/self/cgroup ("0::/path"). */
static char *own_cgroup(void)
{
        FILE *f = fopen("/proc/self/cgroup", "re");
        char *line = NULL, *ret = NULL;
        size_t n = 0;

        while (f && getline(&line, &n, f) > 0)
                if (strncmp(line, "0::", 3) == 0) {
                        line[strcspn(line, "\n")] = '\0';
                        ret = strdup(line + 3);
                        break;
                }
        free(line);
        if (f)
                fclose(f);
        return ret;
}

/* Wait for systemd to have moved us into @unit's cgroup (the start job runs
 * asynchronously); polling /proc/self/cgroup is simpler than tracking the
 * job over the bus and happens once, before anything is supervised. */
static char *wait_for_scope(const char *unit)
{
        for (int i = 0; i < 500; i++) {
                char *cg = own_cgroup();
                const char *base = cg ? strrchr(cg, '/') : NULL;
                if (base && strcmp(base + 1, unit) == 0)
                        return cg;
                free(cg);
                usleep(10 * 1000);
        }
        return NULL;
}

/* Root talks to systemd directly over its private socket, as systemctl and
 * systemd-run do: that works without (or before) dbus-daemon. Others, and
 * root when that fails, go through the system bus. */
static int connect_systemd(sd_bus **ret)
{
        sd_bus *bus = NULL;
        int e;

        if (geteuid() == 0) {
                e = sd_bus_new(&bus);
                if (e >= 0)
                        e = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
                if (e >= 0)
                        e = sd_bus_start(bus);
                if (e >= 0) {
                        *ret = bus;
                        return 0;
                }
                sd_bus_unref(bus);
        }
        return sd_bus_open_system(ret);
}

/*
 * Under systemd, cgroups belong to systemd: ask it for a transient scope
 * with Delegate=yes (as systemd-run --scope -p Delegate=yes does) holding
 * this process, then split it, since cgroup v2 allows controllers only in
 * cgroups without processes: cgsentry moves into SCOPE/supervisor and the
 * command gets SCOPE/payload, whose limits cgsentry sets. Returns the parent
 * for the payload (the scope, relative to the root) in *ret.
 */
static int systemd_scope(struct run *r, char **ret)
{
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        sd_bus *bus = NULL;
        char unit[256], desc[512], dir[4096], pid[32], *cg = NULL;
        int e;

        snprintf(unit, sizeof(unit), "%s.scope", r->name ? r->name : "cgsentry-run");
        if (!r->name)
                snprintf(unit, sizeof(unit), "cgsentry-run-%d.scope", getpid());
        snprintf(desc, sizeof(desc), "cgsentry run %s", r->argv[0]);
        e = connect_systemd(&bus);
        if (e < 0)
                return fail("cannot reach systemd on the system bus: %s; use --parent", strerror(-e));
        e = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "StartTransientUnit",
                               &error, &reply, "ssa(sv)a(sa(sv))", unit, "fail", 4,
                               "PIDs", "au", 1, (uint32_t)getpid(),
                               "Delegate", "b", 1,
                               "Description", "s", desc,
                               "CollectMode", "s", "inactive-or-failed",
                               0);
        sd_bus_message_unref(reply);
        sd_bus_unref(bus);
        if (e < 0) {
                e = fail("systemd refused a transient scope %s: %s; use --parent", unit,
                         error.message ? error.message : strerror(-e));
                sd_bus_error_free(&error);
                return e;
        }
        cg = wait_for_scope(unit);
        if (!cg)
                return fail("systemd did not move us into %s; use --parent", unit);
        snprintf(dir, sizeof(dir), "%s%s/supervisor", r->root, cg);
        snprintf(pid, sizeof(pid), "%d", getpid());
        e = mkdir(dir, 0755) < 0 ? -errno : 0;
        if (e == 0) {
                char procs[sizeof(dir) + 16];
                snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
                e = sv_cgroup_write(AT_FDCWD, procs, pid);
        }
        if (e < 0) {
                e = fail("cannot set up %s: %s", dir, strerror(-e));
                free(cg);
                return e;
        }
        *ret = cg;
        return 0;
}

/* The parent needs +memory in its subtree_control for the child's limits. */
static int enable_memory(const struct run *r, const char *parent)
{
        char path[4096], buf[256];
        unsigned ctrl = 0;
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "%s/%s/cgroup.subtree_control", r->root, parent);
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return fail("cannot open %s: %s (does --parent exist, and may we write it?)",
                            path, strerror(errno));
        n = sv__read_fd(fd, buf, sizeof(buf));
        if (n >= 0 && sv_parse_controllers(buf, (size_t)n, &ctrl) == 0 && (ctrl & SV_CTRL_MEMORY)) {
                close(fd);
                return 0;
        }
        if (write(fd, "+memory", 7) < 0) {
                int e = errno;
                close(fd);
                if (e == EBUSY)
                        return fail("cannot enable the memory controller below /%s: it has "
                                    "processes of its own (cgroup v2 allows controllers only "
                                    "in cgroups without processes); use --parent with an "
                                    "empty, delegated cgroup, e.g. mkdir %s/cgsentry.slice && "
                                    "cgsentry run --parent cgsentry.slice ...", parent, r->root);
                return fail("cannot enable the memory controller in %s: %s", path, strerror(e));
        }
        close(fd);
        return 0;
}

static int lcg_error(const char *what, int e)
{
        return fail("%s: %s", what, cgroup_strerror(e));
}

/* Create the cgroup and set its limits with libcgroup. */
static int create_cgroup(struct run *r)
{
        struct cgroup_controller *mem;
        struct cgroup *cg;
        char v[32];
        int e;

        e = cgroup_init();
        if (e)
                return lcg_error("libcgroup initialisation", e);
        cg = cgroup_new_cgroup(r->path);
        if (!cg)
                return fail("out of memory");
        mem = cgroup_add_controller(cg, "memory");
        if (!mem) {
                cgroup_free(&cg);
                return fail("libcgroup: cannot add the memory controller");
        }
#define SETV(file, val)                                                                   \
        do {                                                                              \
                if ((val) == SV_LIMIT_MAX)                                                \
                        snprintf(v, sizeof(v), "max");                                    \
                else                                                                      \
                        snprintf(v, sizeof(v), "%" PRIu64, (uint64_t)(val));              \
                if ((e = cgroup_add_value_string(mem, file, v))) {                        \
                        cgroup_free(&cg);                                                 \
                        return lcg_error(file, e);                                        \
                }                                                                         \
        } while (0)
        if (r->has_max)
                SETV("memory.max", r->memory_max);
        if (r->has_high)
                SETV("memory.high", r->memory_high);
        if (r->has_swap)
                SETV("memory.swap.max", r->swap_max);
        SETV("memory.oom.group", (uint64_t)r->oom_group);
#undef SETV
        e = cgroup_create_cgroup(cg, 0);
        cgroup_free(&cg);
        if (e)
                return fail("cannot create %s/%s: %s", r->root, r->path, cgroup_strerror(e));
        return 0;
}

/* The wrapped cgroup and everything below it: the leaf, and what a
 * runtime killed with the command could not remove itself. */
static void remove_cgroup(struct run *r)
{
        int e = r->root_fd >= 0 ? run_remove_tree(r->root_fd, r->path) : -EBADF;

        if (e < 0 && !r->quiet)
                fprintf(stderr, "cgsentry run: cannot remove %s/%s: %s\n", r->root, r->path,
                        strerror(-e));
}

/* The leaf the command starts in, and controllers for W's children (not
 * yet with --cgroupns: the command enters W first, to root its namespace
 * there, and enables them from the leaf). */
static int make_leaf(struct run *r)
{
        int e;

        if (mkdirat(r->cgfd, RUN_LEAF_NAME, 0755) < 0 && errno != EEXIST)
                return fail("cannot create %s/%s/%s: %s", r->root, r->path, RUN_LEAF_NAME,
                            strerror(errno));
        r->leaf_fd = openat(r->cgfd, RUN_LEAF_NAME, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (r->leaf_fd < 0)
                return fail("cannot open %s/%s/%s: %s", r->root, r->path, RUN_LEAF_NAME,
                            strerror(errno));
        if (!r->cgroupns && (e = run_enable_controllers(r->cgfd)) < 0)
                return fail("cannot enable controllers below %s/%s: %s", r->root, r->path,
                            strerror(-e));
        return 0;
}

/* Start the command inside the cgroup: clone3(CLONE_INTO_CGROUP) puts the
 * child there before it runs a single instruction (Linux 5.7+); the fallback
 * has the child move itself before exec. */
static int spawn(struct run *r)
{
        /* With --cgroupns the command roots its namespace in W, then moves
         * into the leaf; otherwise it starts in the leaf. */
        int target = r->cgroupns ? r->cgfd : r->leaf_fd;
        struct clone_args_v2 args = {
                .flags = CLONE_INTO_CGROUP | CLONE_PIDFD,
                .exit_signal = SIGCHLD,
                .cgroup = (uint64_t)target,
        };
        int pidfd = -1;
        long pid;

        fflush(NULL);
        args.pidfd = (uint64_t)(uintptr_t)&pidfd;
        pid = syscall(__NR_clone3, &args, sizeof(args));
        if (pid < 0 && (errno == ENOSYS || errno == E2BIG || errno == EINVAL)) {
                pid = fork();
                if (pid == 0) {
                        int fd = openat(target, "cgroup.procs", O_WRONLY | O_CLOEXEC);
                        if (fd < 0 || write(fd, "0", 1) < 0) {
                                fprintf(stderr, "cgsentry run: cannot enter the cgroup: %m\n");
                                _exit(127);
                        }
                        close(fd);
                }
        }
        if (pid < 0)
                return fail("cannot start %s: %s", r->argv[0], strerror(errno));
        if (pid == 0) {
                sigset_t all;
                char what[256];
                int e;
                if (r->cgroupns &&
                    (e = run_cgroupns_enter(r->cgfd, r->leaf_fd, r->root, what, sizeof(what))) < 0) {
                        fprintf(stderr, "cgsentry run: --cgroupns: %s: %s\n", what, strerror(-e));
                        _exit(127);
                }
                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                for (int s = 1; s < NSIG; s++)
                        signal(s, SIG_DFL);
                execvp(r->argv[0], r->argv);
                fprintf(stderr, "cgsentry run: cannot execute %s: %m\n", r->argv[0]);
                _exit(errno == ENOENT ? 127 : 126);
        }
        r->pid = (pid_t)pid;
        if (pidfd < 0)
                pidfd = (int)syscall(__NR_pidfd_open, r->pid, 0);
        r->pidfd = pidfd;
        return pidfd < 0 ? fail("pidfd_open: %s", strerror(errno)) : 0;
}

static void on_kill(void *userdata, const struct supervisor_kill *k)
{
        struct run *r = userdata;

        r->killed_by_us = true;
        r->kill_count += k->n_processes;
        r->kill_trig = *k->trigger;
        snprintf(r->kill_trigger, sizeof(r->kill_trigger), "%s", sv_trigger_name(k->trigger->kind));
        snprintf(r->kill_why, sizeof(r->kill_why), "%s", k->why);
}

static void read_final_stats(struct run *r)
{
        char buf[512];
        ssize_t n;

        n = sv__read_at(r->cgfd, "memory.events", buf, sizeof(buf));
        if (n >= 0)
                (void)sv_parse_memory_events(buf, (size_t)n, &r->events);
        r->have_peak = sv__read_value_at(r->cgfd, "memory.peak", sv_parse_u64, &r->peak) == 0;
}

/* A process of the tree outside the wrapped cgroup: said once per cgroup
 * it went to. It is out of cgsentry's scope, so it is never killed. */
static void on_escape(void *userdata, const struct run_escape *e)
{
        struct run *r = userdata;
        char comm[SV_COMM_ESCAPED_SIZE], *cg, *w;

        for (size_t i = 0; i < r->n_escapes; i++)
                if (strcmp(r->escapes[i].cgroup, e->cgroup) == 0)
                        return;
        if (r->n_escapes == ESCAPES_MAX)
                return;
        r->escapes[r->n_escapes++] = *e;
        cg = sv_escape_dup(e->cgroup);
        w = sv_escape_dup(r->wrapped);
        /* A scope is systemd's answer to a runtime's systemd cgroup manager:
         * no namespace keeps that inside. */
        fprintf(stderr, "cgsentry run: pid %d (%s) of the command's tree left %s for %s: neither "
                "the limits nor cgsentry reach it there; %s\n", (int)e->pid,
                sv_escape(e->comm, comm, sizeof(comm)), w ? w : "?", cg ? cg : "?",
                strstr(e->cgroup, ".scope")
                        ? "the runtime asked systemd for a scope: run it with its cgroupfs "
                          "manager and --cgroupns (crun --cgroup-manager=cgroupfs, podman "
                          "--cgroup-manager=cgroupfs), or keep it in place (crun "
                          "--cgroup-manager=disabled, podman --cgroups=split)"
                : r->cgroupns ? "the runtime asked a manager outside the namespace for its "
                                "cgroup: use its cgroupfs manager (crun "
                                "--cgroup-manager=cgroupfs, podman --cgroup-manager=cgroupfs)"
                              : "run with --cgroupns, or keep the runtime in place (crun "
                                "--cgroup-manager=disabled, podman --cgroups=split)");
        free(cg);
        free(w);
}

static void escape_scan(struct run *r)
{
        (void)run_escapes_scan(r->proc_fd, getpid(), r->wrapped, on_escape, r);
}

static void escape_timer_cb(uv_timer_t *t)
{
        struct run *r = t->data;

        escape_scan(r);
        r->escape_interval = r->escape_interval * 2 > ESCAPE_SCAN_MAX_MSEC
                                     ? ESCAPE_SCAN_MAX_MSEC
                                     : r->escape_interval * 2;
        uv_timer_start(t, escape_timer_cb, r->escape_interval, 0);
}

/* cgsentry run is the subreaper of the command's tree (so that double
 * forks stay in it, where the escape scan sees them): reap the orphans. */
static void sigchld_cb(uv_signal_t *h, int signum)
{
        struct run *r = h->data;

        run_reap_orphans(r->proc_fd, r->pid);
}

static void finish(struct run *r)
{
        read_final_stats(r);
        supervisor_stop(r->sv);
        uv_close((uv_handle_t *)&r->leftover, NULL);
        uv_close((uv_handle_t *)&r->escape_timer, NULL);
        uv_close((uv_handle_t *)&r->sigchld, NULL);
        for (size_t i = 0; i < 4; i++)
                uv_close((uv_handle_t *)&r->sigs[i], NULL);
}

static void leftover_cb(uv_timer_t *t)
{
        struct run *r = t->data;

        if (sv_cgroup_populated(r->cgfd, "") == 1 && --r->leftover_tries > 0)
                return;
        uv_timer_stop(t);
        finish(r);
}

static void child_cb(uv_poll_t *h, int status, int events)
{
        struct run *r = h->data;
        siginfo_t si = {};

        if (waitid(P_PIDFD, (id_t)r->pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
                return;
        uv_poll_stop(h);
        uv_close((uv_handle_t *)h, NULL);
        r->exited = true;
        r->status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
        r->term_signal = si.si_code == CLD_EXITED ? 0 : si.si_status;
        uv_timer_stop(&r->escape_timer);
        escape_scan(r); /* what ran outside until now, also when it was quick */
        /* What the command left behind in its cgroup goes with it, like
         * systemd's KillMode=control-group: nothing escapes the limit. */
        if (sv_cgroup_populated(r->cgfd, "") == 1 && !r->keep) {
                (void)sv_kill_cgroup(r->cgfd, "");
                r->leftover_tries = LEFTOVER_TRIES;
                uv_timer_start(&r->leftover, leftover_cb, LEFTOVER_INTERVAL_MSEC,
                               LEFTOVER_INTERVAL_MSEC);
                return;
        }
        finish(r);
}

static void signal_cb(uv_signal_t *h, int signum)
{
        struct run *r = h->data;

        /* Forward; we exit when the command does, and clean up after it. */
        if (!r->exited)
                syscall(__NR_pidfd_send_signal, r->pidfd, signum, NULL, 0);
}

static const char *signame(int sig)
{
        static char buf[16];
        const char *a = sigabbrev_np(sig);

        if (!a)
                return NULL;
        snprintf(buf, sizeof(buf), "SIG%s", a);
        return buf;
}

static int write_report(struct run *r, int exit_code, const char *killed_by)
{
        json_object *o = json_object_new_object(), *cmd = json_object_new_array(), *ev;
        struct timespec now;
        FILE *f;
        int ret = 0;

        clock_gettime(CLOCK_MONOTONIC, &now);
        for (char **a = r->argv; *a; a++)
                json_object_array_add(cmd, json_object_new_string(*a));
        json_object_object_add(o, "command", cmd);
        {
                char cg[4096];
                snprintf(cg, sizeof(cg), "/%s", r->path);
                json_object_object_add(o, "cgroup", json_object_new_string(cg));
        }
        json_object_object_add(o, "memory_max", r->has_max && r->memory_max != SV_LIMIT_MAX
                                                        ? json_object_new_uint64(r->memory_max)
                                                        : NULL);
        json_object_object_add(o, "exit_code", json_object_new_int(exit_code));
        json_object_object_add(o, "signal",
                               r->term_signal && signame(r->term_signal)
                                       ? json_object_new_string(signame(r->term_signal))
                                       : NULL);
        json_object_object_add(o, "killed_by", killed_by ? json_object_new_string(killed_by) : NULL);
        json_object_object_add(o, "trigger", r->killed_by_us
                                                     ? json_object_new_string(r->kill_trigger)
                                                     : NULL);
        json_object_object_add(o, "reason", r->killed_by_us ? json_object_new_string(r->kill_why)
                                                            : NULL);
        json_object_object_add(o, "figures", r->killed_by_us ? sv__json_trigger(&r->kill_trig)
                                                             : NULL);
        json_object_object_add(o, "processes_killed", json_object_new_uint64(r->kill_count));
        json_object_object_add(o, "memory_peak",
                               r->have_peak ? json_object_new_uint64(r->peak) : NULL);
        ev = json_object_new_object();
        json_object_object_add(ev, "high", json_object_new_uint64(r->events.high));
        json_object_object_add(ev, "max", json_object_new_uint64(r->events.max));
        json_object_object_add(ev, "oom", json_object_new_uint64(r->events.oom));
        json_object_object_add(ev, "oom_kill", json_object_new_uint64(r->events.oom_kill));
        json_object_object_add(ev, "oom_group_kill",
                               json_object_new_uint64(r->events.oom_group_kill));
        json_object_object_add(o, "memory_events", ev);
        json_object_object_add(o, "cgroupns", json_object_new_boolean(r->cgroupns));
        {
                json_object *esc = json_object_new_array();
                for (size_t i = 0; esc && i < r->n_escapes; i++) {
                        json_object *e = json_object_new_object();
                        char *cg = sv_escape_dup(r->escapes[i].cgroup);
                        char comm[SV_COMM_ESCAPED_SIZE];
                        json_object_object_add(e, "pid", json_object_new_int(r->escapes[i].pid));
                        json_object_object_add(e, "comm", json_object_new_string(
                                sv_escape(r->escapes[i].comm, comm, sizeof(comm))));
                        json_object_object_add(e, "cgroup", json_object_new_string(cg ? cg : "?"));
                        free(cg);
                        json_object_array_add(esc, e);
                }
                json_object_object_add(o, "escaped", esc);
        }
        json_object_object_add(o, "duration_ms",
                               json_object_new_int64((now.tv_sec - r->started.tv_sec) * 1000 +
                                                     (now.tv_nsec - r->started.tv_nsec) / 1000000));
        f = strcmp(r->json_report, "-") == 0 ? stdout : fopen(r->json_report, "we");
        if (!f || fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                                            JSON_C_TO_STRING_SPACED |
                                                                            JSON_C_TO_STRING_NOSLASHESCAPE)) < 0 ||
            (f != stdout && fclose(f) != 0)) {
                fprintf(stderr, "cgsentry run: cannot write %s: %m\n", r->json_report);
                ret = -EIO;
        }
        json_object_put(o);
        return ret;
}

/* The rule cgsentry run supervises its cgroup with, filled in directly
 * from the options (which were checked by the configuration's parsers). */
static struct cgsentry_config *make_config(const struct run *r)
{
        struct cgsentry_config *c = cgsentry_config_new();
        struct cgsentry_rule *rule;

        if (!c)
                return NULL;
        free(c->cgroup_root);
        c->cgroup_root = strdup(r->root);
        rule = c->cgroup_root ? cgsentry_config_add_rule(c, "run", "cgsentry run", 0) : NULL;
        if (!rule || cgsentry_rule_set_match(rule, r->path) < 0 ||
            (r->policy && !(rule->policy = strdup(r->policy))) ||
            (r->policy_options && !(rule->policy_options = strdup(r->policy_options)))) {
                cgsentry_config_free(c);
                return NULL;
        }
        rule->oom_group = r->oom_group;
        rule->on_kernel_oom_kill = r->oom_group;
        /* A tripwire is a fraction of a limit: without --memory-max, none. */
        rule->tripwire_permyriad = r->has_max ? r->tripwire_permyriad : 0;
        rule->pressure = r->pressure;
        return c;
}

int cgsentry_cmd_run(int argc, char **argv)
{
        struct run r = { .oom_group = true, .cgfd = -1, .pidfd = -1, .leaf_fd = -1, .root_fd = -1,
                         .proc_fd = -1, .root = "/sys/fs/cgroup" };
        struct supervisor_opts so = { .embedded = true, .on_kill = on_kill, .userdata = &r };
        struct cgsentry_config *cfg = NULL;
        static const int forwarded[4] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
        const char *killed_by = NULL;
        char *parent = NULL;
        int ret, e;

        r.tripwire_permyriad = CGSENTRY_RUN_TRIPWIRE_DEFAULT_PERMYRIAD;
        ret = parse_args(&r, argc, argv);
        if (ret)
                return ret;
        if (getenv("CGSENTRY_CGROUP_ROOT"))
                r.root = getenv("CGSENTRY_CGROUP_ROOT");
        ret = check_cgroup2(&r);
        if (ret)
                return ret;

        if (r.parent) {
                parent = strdup(r.parent);
        } else if (sd_booted() > 0 && !getenv("CGSENTRY_CGROUP_ROOT")) {
                ret = systemd_scope(&r, &parent);
                if (ret)
                        return ret;
        } else {
                parent = own_cgroup();
        }
        if (!parent)
                return fail("cannot find our own cgroup in /proc/self/cgroup; use --parent");
        {
                char *p = parent;
                while (*p == '/')
                        p++;
                char def[32];
                snprintf(def, sizeof(def), "cgsentry-run-%d", getpid());
                if (asprintf(&r.path, "%s%s%s", p, *p ? "/" : "", r.name ? r.name : def) < 0 ||
                    asprintf(&r.wrapped, "/%s", r.path) < 0) {
                        free(parent);
                        return fail("out of memory");
                }
                ret = enable_memory(&r, *p ? p : ".");
        }
        free(parent);
        if (ret)
                goto out_free;

        cfg = make_config(&r);
        if (!cfg) {
                ret = fail("out of memory");
                goto out_free;
        }

        r.root_fd = open(r.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r.proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (r.root_fd < 0 || r.proc_fd < 0) {
                ret = fail("cannot open %s: %s", r.root_fd < 0 ? r.root : "/proc", strerror(errno));
                cgsentry_config_free(cfg);
                goto out_free;
        }
        ret = create_cgroup(&r);
        if (ret) {
                cgsentry_config_free(cfg);
                goto out_free;
        }
        {
                char p[4096];
                snprintf(p, sizeof(p), "%s/%s", r.root, r.path);
                r.cgfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (r.cgfd < 0) {
                        ret = fail("cannot open %s: %s", p, strerror(errno));
                        cgsentry_config_free(cfg);
                        goto out_remove;
                }
        }
        ret = make_leaf(&r);
        if (ret) {
                cgsentry_config_free(cfg);
                goto out_remove;
        }

        cgsentry_log_set_ident("cgsentry run");
        cgsentry_log_set_max_priority(r.verbose ? LOG_INFO : LOG_ERR);
        r.loop = uv_default_loop();
        e = supervisor_new(r.loop, &so, cfg, &r.sv);
        if (e < 0) {
                cgsentry_config_free(cfg);
                ret = fail("cannot supervise %s: %s", r.path, strerror(-e));
                goto out_remove;
        }
        /* Supervise first, then start: not one allocation escapes. */
        supervisor_start(r.sv);
        for (size_t i = 0; i < 4; i++) {
                uv_signal_init(r.loop, &r.sigs[i]);
                r.sigs[i].data = &r;
                uv_signal_start(&r.sigs[i], signal_cb, forwarded[i]);
        }
        uv_timer_init(r.loop, &r.leftover);
        r.leftover.data = &r;
        uv_timer_init(r.loop, &r.escape_timer);
        r.escape_timer.data = &r;
        uv_signal_init(r.loop, &r.sigchld);
        r.sigchld.data = &r;
        uv_signal_start(&r.sigchld, sigchld_cb, SIGCHLD);
        /* Orphans of the tree (double forks, a runtime's monitor) become
         * ours rather than init's: they stay visible to the escape scan. */
        (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        clock_gettime(CLOCK_MONOTONIC, &r.started);
        ret = spawn(&r);
        if (ret) {
                finish(&r);
                uv_run(r.loop, UV_RUN_DEFAULT);
                goto out_sv;
        }
        uv_poll_init(r.loop, &r.child_poll, r.pidfd);
        r.child_poll.data = &r;
        uv_poll_start(&r.child_poll, UV_READABLE, child_cb);
        r.escape_interval = ESCAPE_SCAN_FIRST_MSEC;
        uv_timer_start(&r.escape_timer, escape_timer_cb, r.escape_interval, 0);
        uv_run(r.loop, UV_RUN_DEFAULT);

        ret = r.status;
        if (r.killed_by_us) {
                killed_by = "cgsentry";
                ret = 137;
                fprintf(stderr, "cgsentry run: killed %s (%zu process%s) on %s: %s\n", r.argv[0],
                        r.kill_count, r.kill_count == 1 ? "" : "es", r.kill_trigger, r.kill_why);
        } else if (r.events.oom_kill > 0) {
                killed_by = "kernel";
                if (!r.quiet)
                        fprintf(stderr, "cgsentry run: the kernel's OOM killer killed %" PRIu64
                                        " process%s at --memory-max\n", r.events.oom_kill,
                                r.events.oom_kill == 1 ? "" : "es");
        }
        if (r.json_report && write_report(&r, ret, killed_by) < 0 && ret == 0)
                ret = CGSENTRY_EXIT_ERROR;
out_sv:
        supervisor_free(r.sv);
        uv_loop_close(r.loop);
out_remove:
        /* --keep keeps the cgroup with its limits; the empty leaf goes. */
        if (r.keep && r.cgfd >= 0 && ret != CGSENTRY_EXIT_ERROR)
                (void)unlinkat(r.cgfd, RUN_LEAF_NAME, AT_REMOVEDIR);
        if (r.cgfd >= 0)
                close(r.cgfd);
        if (r.pidfd >= 0)
                close(r.pidfd);
        if (r.leaf_fd >= 0)
                close(r.leaf_fd);
        if (!r.keep || ret == CGSENTRY_EXIT_ERROR)
                remove_cgroup(&r);
out_free:
        if (r.root_fd >= 0)
                close(r.root_fd);
        if (r.proc_fd >= 0)
                close(r.proc_fd);
        free(r.path);
        free(r.wrapped);
        free(r.policy);
        free(r.policy_options);
        return ret;
}
