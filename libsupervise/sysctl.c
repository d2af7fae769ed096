/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vm sysctls that decide what an OOM does before any victim scan. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "parse.h"
#include "readers.h"
#include "util.h"

void sv__vm_sysctl_defaults(struct sv_vm_sysctl *vm)
{
        /* mm/oom_kill.c, mm/util.c */
        *vm = (struct sv_vm_sysctl){ .oom_dump_tasks = 1, .overcommit_ratio = 50 };
}

/* include/uapi/linux/oom.h: OOM_DISABLE -17, OOM_ADJUST_MAX 15;
 * fs/proc/base.c oom_adj_read(). Only 1000 maps to 15: 942..999 truncate to
 * 16, so the file can show -17..16. */
int sv__oom_adj_of(int oom_score_adj)
{
        if (oom_score_adj == SV_OOM_SCORE_ADJ_MAX)
                return 15;
        return oom_score_adj * 17 / SV_OOM_SCORE_ADJ_MAX;
}

static int read_int(int dfd, const char *dir, const char *name, int min, int max, int *ret,
                    struct sv_error *err)
{
        char buf[64];
        ssize_t n = sv__read_at(dfd, name, buf, sizeof(buf));
        int v, r;

        if (n == -ENOENT)
                return 0;
        if (n < 0)
                return sv__error(err, (int)-n, dir, name, NULL);
        r = sv_parse_int(buf, (size_t)n, &v);
        if (r < 0 || v < min || v > max)
                return sv__error(err, EINVAL, dir, name, "malformed content");
        *ret = v;
        return 0;
}

int sv__sysctl_read_vm(int proc_dfd, const char *proc_root, const char *sys_root,
                       struct sv_snapshot *s, struct sv_error *err)
{
        const char *dir = sys_root ? sys_root : proc_root;
        const char *pre = sys_root ? "vm/" : "sys/vm/";
        char name[64], buf[64];
        struct sv_vm_sysctl vm;
        int dfd = proc_dfd, r = 0;
        ssize_t n;

        sv__vm_sysctl_defaults(&vm);
        if (sys_root) {
                dfd = open(sys_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        return sv__error(err, errno, sys_root, NULL, NULL);
        }
#define INT(key, field, min, max)                                                            \
        if (r == 0) {                                                                    \
                snprintf(name, sizeof(name), "%s" key, pre);                             \
                r = read_int(dfd, dir, name, min, max, &vm.field, err);                  \
        }
        INT("panic_on_oom", panic_on_oom, 0, 2)
        INT("oom_kill_allocating_task", oom_kill_allocating_task, 0, INT32_MAX)
        INT("oom_dump_tasks", oom_dump_tasks, 0, INT32_MAX)
        INT("overcommit_memory", overcommit_memory, 0, 2)
        INT("overcommit_ratio", overcommit_ratio, 0, INT32_MAX)
#undef INT
        if (r == 0) {
                snprintf(name, sizeof(name), "%sovercommit_kbytes", pre);
                n = sv__read_at(dfd, name, buf, sizeof(buf));
                if (n >= 0) {
                        if (sv_parse_u64(buf, (size_t)n, &vm.overcommit_kbytes) < 0)
                                r = sv__error(err, EINVAL, dir, name, "malformed content");
                } else if (n != -ENOENT) {
                        r = sv__error(err, (int)-n, dir, name, NULL);
                }
        }
        if (r == 0 && sys_root) {
                int swappiness = s->swappiness;
                r = read_int(dfd, dir, "vm/swappiness", 0, 200, &swappiness, err);
                s->swappiness = swappiness;
        }
        if (sys_root)
                close(dfd);
        if (r == 0) {
                /* sysctls are booleans to the kernel beyond 1 */
                vm.oom_kill_allocating_task = !!vm.oom_kill_allocating_task;
                vm.oom_dump_tasks = !!vm.oom_dump_tasks;
                s->vm = vm;
        }
        return r;
}
