/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

static uint64_t subtree_tasks_kb(const struct cgsentry_view *v, uint32_t g, bool swap)
{
        const struct cgsentry_group *grp = cgsentry_view_group(v, g);
        uint64_t kb = 0;

        for (uint32_t i = g; i < grp->subtree_end; i++) {
                const struct cgsentry_group *c = cgsentry_view_group(v, i);
                for (uint32_t k = c->first_task; k < c->first_task + c->n_tasks; k++) {
                        const struct cgsentry_task *t = cgsentry_view_task(v, k);
                        kb += swap ? t->vm_swap_kb
                                   : t->rss_anon_kb + t->rss_file_kb + t->rss_shmem_kb;
                }
        }
        return kb;
}

uint64_t policy_group_memory(const struct cgsentry_view *v, uint32_t g)
{
        const struct cgsentry_group *grp = cgsentry_view_group(v, g);

        if (grp->flags & CGSENTRY_GROUP_HAVE_MEMORY)
                return grp->memory_current;
        return subtree_tasks_kb(v, g, false) * 1024;
}

uint64_t policy_group_swap(const struct cgsentry_view *v, uint32_t g)
{
        const struct cgsentry_group *grp = cgsentry_view_group(v, g);

        if (grp->flags & CGSENTRY_GROUP_HAVE_SWAP)
                return grp->swap_current;
        return subtree_tasks_kb(v, g, true) * 1024;
}

int policy_rank_from_string(const char *s, enum policy_rank *ret)
{
        if (strcmp(s, "largest") == 0)
                *ret = POLICY_RANK_LARGEST;
        else if (strcmp(s, "swap") == 0)
                *ret = POLICY_RANK_SWAP;
        else if (strcmp(s, "pressure") == 0)
                *ret = POLICY_RANK_PRESSURE;
        else
                return -EINVAL;
        return 0;
}

const char *policy_rank_to_string(enum policy_rank rank)
{
        switch (rank) {
        case POLICY_RANK_LARGEST:
                return "largest";
        case POLICY_RANK_SWAP:
                return "swap";
        case POLICY_RANK_PRESSURE:
                return "pressure";
        }
        return "?";
}

static int cmp_u64(uint64_t a, uint64_t b)
{
        return a > b ? 1 : a < b ? -1 : 0;
}

static int cmp_double(double a, double b)
{
        return a > b ? 1 : a < b ? -1 : 0;
}

int policy_rank_compare(const struct cgsentry_view *v, enum policy_rank rank, uint32_t a,
                        uint32_t b)
{
        const struct cgsentry_group *ga = cgsentry_view_group(v, a),
                                    *gb = cgsentry_view_group(v, b);
        int c;

        switch (rank) {
        case POLICY_RANK_LARGEST:
                c = cmp_u64(policy_group_memory(v, a), policy_group_memory(v, b));
                return c ? c : cmp_u64(policy_group_swap(v, a), policy_group_swap(v, b));
        case POLICY_RANK_SWAP:
                c = cmp_u64(policy_group_swap(v, a), policy_group_swap(v, b));
                return c ? c : cmp_u64(policy_group_memory(v, a), policy_group_memory(v, b));
        case POLICY_RANK_PRESSURE:
                /* A group without memory.pressure reads as 0 (no stall seen). */
                c = cmp_double(ga->psi_full_avg10, gb->psi_full_avg10);
                if (!c)
                        c = cmp_double(ga->psi_some_avg10, gb->psi_some_avg10);
                return c ? c : cmp_u64(policy_group_memory(v, a), policy_group_memory(v, b));
        }
        return 0;
}

int32_t policy_rank_best(const struct cgsentry_view *v, enum policy_rank rank,
                         const uint32_t *cands, uint32_t n)
{
        int32_t best = -1;

        for (uint32_t i = 0; i < n; i++)
                /* Strictly better only: an equal one later in pre-order loses. */
                if (best < 0 || policy_rank_compare(v, rank, cands[i], (uint32_t)best) > 0)
                        best = (int32_t)cands[i];
        return best;
}

uint32_t policy_rank_ties(const struct cgsentry_view *v, enum policy_rank rank,
                          const uint32_t *cands, uint32_t n, uint32_t best)
{
        uint32_t ties = 0;

        for (uint32_t i = 0; i < n; i++)
                if (cands[i] != best && policy_rank_compare(v, rank, cands[i], best) == 0)
                        ties++;
        return ties;
}

const char *policy_format_bytes(uint64_t bytes, char *buf, size_t size)
{
        static const char units[][4] = {"B", "KiB", "MiB", "GiB", "TiB"};
        double x = (double)bytes;
        unsigned u = 0;

        while (x >= 1024 && u < 4) {
                x /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, size, "%" PRIu64 " B", bytes);
        else
                snprintf(buf, size, "%.1f %s", x, units[u]);
        return buf;
}

void policy_explain_rank(const struct cgsentry_view *v, enum policy_rank rank,
                         const uint32_t *cands, uint32_t n, uint32_t best, char *buf, size_t size)
{
        const struct cgsentry_group *g = cgsentry_view_group(v, best);
        char mem[32], swap[32];
        uint32_t ties = policy_rank_ties(v, rank, cands, n, best);
        int len;

        policy_format_bytes(policy_group_memory(v, best), mem, sizeof(mem));
        policy_format_bytes(policy_group_swap(v, best), swap, sizeof(swap));
        switch (rank) {
        case POLICY_RANK_LARGEST:
                len = snprintf(buf, size,
                               "%s uses %s of memory (%s of swap), the most of %" PRIu32
                               " candidate%s",
                               g->path, mem, swap, n, n == 1 ? "" : "s");
                break;
        case POLICY_RANK_SWAP:
                len = snprintf(buf, size,
                               "%s uses %s of swap (%s of memory), the most of %" PRIu32
                               " candidate%s",
                               g->path, swap, mem, n, n == 1 ? "" : "s");
                break;
        case POLICY_RANK_PRESSURE:
        default:
                len = snprintf(buf, size,
                               "%s has memory pressure full avg10=%.2f some avg10=%.2f "
                               "(%s of memory), the highest of %" PRIu32 " candidate%s",
                               g->path, g->psi_full_avg10, g->psi_some_avg10, mem, n,
                               n == 1 ? "" : "s");
                break;
        }
        if (ties && len > 0 && (size_t)len < size)
                snprintf(buf + len, size - (size_t)len,
                         "; tied with %" PRIu32 " other%s, the first in pre-order wins", ties,
                         ties == 1 ? "" : "s");
}

int32_t policy_choose_ranked(const struct cgsentry_view *v, enum policy_rank rank,
                             struct cgsentry_decision *d)
{
        int32_t best = policy_rank_best(v, rank, v->candidates, v->n_candidates);

        if (best < 0) {
                snprintf(d->explanation, d->explanation_size, "no candidate in %s", v->domain);
                return -1;
        }
        d->group = best;
        policy_explain_rank(v, rank, v->candidates, v->n_candidates, (uint32_t)best,
                            d->explanation, d->explanation_size);
        return best;
}
