/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Syscall numbers and flags that older libc headers lack (x86_64 numbers are
 * the same on every architecture for these, which arrived after the unified
 * table). The one place they are spelled out.
 */
#ifndef SV_SYSCALLS_H
#define SV_SYSCALLS_H

#include <sys/syscall.h>

#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424 /* 5.1 */
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434 /* 5.3 */
#endif
#ifndef __NR_clone3
#define __NR_clone3 435 /* 5.3 */
#endif
#ifndef __NR_process_mrelease
#define __NR_process_mrelease 448 /* 5.15 */
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL /* 5.7 */
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000 /* 5.2 */
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4 /* 4.4 */
#endif

#endif
