/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers the shipped policies share (compiled into each plugin, so that a
 * plugin stays one self-contained file with no dependency on another).
 *
 * Every ranking here orders candidates by one or more keys, highest first;
 * candidates equal on every key go to the one that comes first in the
 * view's pre-order (the kernel's sibling order, i.e. the lower cgroup inode
 * among siblings). This one tie-break is documented in
 * cgsentry-policies(7) and must not change silently.
 */
#ifndef CGSENTRY_POLICIES_COMMON_H
#define CGSENTRY_POLICIES_COMMON_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cgsentry/policy.h"

#define POLICY_VERSION CGSENTRY_VERSION

/* Memory a group uses: memory.current; for a group without its own memory
 * controller, the resident memory (RssAnon+RssFile+RssShmem) of the
 * processes in its subtree. */
uint64_t policy_group_memory(const struct cgsentry_view *v, uint32_t g);
/* Swap a group uses: memory.swap.current; without the swap files, the
 * VmSwap of the processes in its subtree. */
uint64_t policy_group_swap(const struct cgsentry_view *v, uint32_t g);

/* A ranking for the fallback of the priority policy and for the policies
 * themselves. */
enum policy_rank {
        POLICY_RANK_LARGEST,  /* memory, then swap */
        POLICY_RANK_SWAP,     /* swap, then memory */
        POLICY_RANK_PRESSURE, /* full avg10, then some avg10, then memory */
};

/* Parses "largest", "swap", "pressure"; -EINVAL otherwise. */
int policy_rank_from_string(const char *s, enum policy_rank *ret);
const char *policy_rank_to_string(enum policy_rank rank);

/* > 0 if candidate @a ranks before @b (is the better victim), < 0 if after,
 * 0 if equal on every key (the caller then keeps the earlier one). */
int policy_rank_compare(const struct cgsentry_view *v, enum policy_rank rank, uint32_t a,
                        uint32_t b);

/* Among @n candidates (view group indexes, pre-order), the best by @rank;
 * ties to the earliest. Returns -1 when @n is 0. */
int32_t policy_rank_best(const struct cgsentry_view *v, enum policy_rank rank,
                         const uint32_t *cands, uint32_t n);

/* How many candidates are equal to @best on every key of @rank. */
uint32_t policy_rank_ties(const struct cgsentry_view *v, enum policy_rank rank,
                          const uint32_t *cands, uint32_t n, uint32_t best);

/* "1.5 GiB"-style rendering of @bytes into @buf. */
const char *policy_format_bytes(uint64_t bytes, char *buf, size_t size);

/* The explanation line every ranking policy writes:
 * "<what of the winner>, the highest of N candidates[; tie with K others
 * broken by pre-order]". */
void policy_explain_rank(const struct cgsentry_view *v, enum policy_rank rank,
                         const uint32_t *cands, uint32_t n, uint32_t best, char *buf, size_t size);

/* The whole choose() of a ranking policy: the best candidate by @rank into
 * @d with its explanation, or "no candidate". Returns the chosen view group
 * index or -1; the caller may veto it (swap does when nobody swaps). */
int32_t policy_choose_ranked(const struct cgsentry_view *v, enum policy_rank rank,
                             struct cgsentry_decision *d);

#endif
