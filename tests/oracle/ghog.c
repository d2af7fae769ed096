/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The processes of the global-OOM oracle (tests/oracle/global.py). Small
 * and static, so that its own file pages are few and shared by every copy:
 * processes of equal size stay equal under reclaim.
 *
 *   ghog hold MIB       touch MIB MiB, say "ready"; then each "grow N" line
 *                       on stdin touches N more pages and says "ready";
 *                       at EOF it sleeps until killed
 *   ghog trigger PID..  on the first stdin line, touch 1 MiB after 1 MiB
 *                       until one of the PIDs is dead or a zombie, then exit
 *
 * It runs without address-space randomisation (it re-executes itself with
 * ADDR_NO_RANDOMIZE), so that two copies of one size fault the same pages
 * and need the same page tables: an exact tie in oom_badness().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <unistd.h>

static void touch(size_t bytes)
{
        char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED)
                return;
        for (size_t i = 0; i < bytes; i += 4096)
                p[i] = 1;
}

static int dead(const char *pid)
{
        char path[64], buf[512], *c;
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "/proc/%s/stat", pid);
        f = fopen(path, "re");
        if (!f)
                return 1;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        c = strrchr(buf, ')');
        return !c || c[1] != ' ' || c[2] == 'Z' || c[2] == 'X';
}

int main(int argc, char **argv)
{
        char line[128];
        int pers = personality(0xffffffff);

        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

        /* the real path, so that the comm stays ours */
        if (n > 0 && pers != -1 && !(pers & ADDR_NO_RANDOMIZE) &&
            personality((unsigned long)pers | ADDR_NO_RANDOMIZE) != -1) {
                self[n] = '\0';
                execv(self, argv);
        }

        if (argc >= 3 && strcmp(argv[1], "hold") == 0) {
                touch((size_t)atol(argv[2]) << 20);
                printf("ready\n");
                fflush(stdout);
                while (fgets(line, sizeof(line), stdin)) {
                        if (strncmp(line, "grow ", 5) == 0)
                                touch((size_t)atol(line + 5) * 4096);
                        printf("ready\n");
                        fflush(stdout);
                }
                for (;;)
                        pause();
        }
        if (argc >= 3 && strcmp(argv[1], "trigger") == 0) {
                if (!fgets(line, sizeof(line), stdin))
                        return 2;
                for (;;) {
                        for (int i = 2; i < argc; i++)
                                if (dead(argv[i]))
                                        return 0;
                        touch(1 << 20);
                }
        }
        fprintf(stderr, "usage: ghog hold MIB | ghog trigger PID...\n");
        return 2;
}
