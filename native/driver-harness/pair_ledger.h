/*
 * pair_ledger.h: the account the vfio/pci-core and slab stand-ins keep of every acquire/release
 * pair a driver must balance (R-LIFE-2): device init/release, core init/release,
 * register/unregister, enable/close, pool create/destroy, allocations.
 *
 * Always: each acquire and release is counted per pair. During the lifecycle walk
 * (lifecycle_walk.c) also: acquire number `walk_point` fails (the stand-in returns its error), every
 * live acquire is kept, a release of something not live is reported as a double release, a call
 * on a released object as a use after release, and what is still live after teardown as a leak
 * (memory) or a missing release (core state). Frees are quarantined while walking so that a
 * use after release is observed, not undefined behaviour. Violations are lines on stdout:
 *   VIOLATION <point> <kind> <pair> <phase> <message>
 *   FAILED <point> <function> <phase>          (the injected acquire failure)
 */
#ifndef ISMK_PAIR_LEDGER_H
#define ISMK_PAIR_LEDGER_H

#include "harness_state.h"

#include <stdlib.h>

/* The pair's token on the wire and its two halves, for messages. */
static inline const char *ismk_pair_token(int pair)
{
	static const char *const t[ISMK_PAIRS] = { "device", "core-init", "register", "enable", "pool", "allocation" };
	return pair >= 0 && pair < ISMK_PAIRS ? t[pair] : "?";
}

static inline const char *ismk_pair_halves(int pair)
{
	static const char *const t[ISMK_PAIRS] = {
		"vfio_alloc_device/vfio_put_device",
		"vfio_pci_core_init_dev/vfio_pci_core_release_dev",
		"vfio_pci_core_register_device/vfio_pci_core_unregister_device",
		"vfio_pci_core_enable/vfio_pci_core_close_device",
		"kmem_cache_create/kmem_cache_destroy",
		"kmem_cache_alloc,kmalloc/kmem_cache_free,kfree",
	};
	return pair >= 0 && pair < ISMK_PAIRS ? t[pair] : "?";
}

static inline void ismk_ledger_violation(const char *kind, int pair, const char *fmt, const char *fn, const char *what)
{
	struct ismk_ledger *l = &ismk.ledger;
	printf("VIOLATION %d %s %s %s ", l->walk_point, kind, ismk_pair_token(pair), l->phase ? l->phase : "-");
	printf(fmt, fn, what);
	printf(" (pair %s)\n", ismk_pair_halves(pair));
	fflush(stdout);
}

/* The newest walk entry for p (live or released), or NULL. */
static inline struct ismk_ledger_entry *ismk_ledger_find(int pair, const void *p)
{
	struct ismk_ledger *l = &ismk.ledger;
	uintptr_t m = ismk_mask(p);
	for (size_t i = l->n; i-- > 0;)
		if (l->e[i].masked == m && l->e[i].pair == pair)
			return &l->e[i];
	return NULL;
}

/* Whether this acquire is the one the walk fails; reports the failure point. */
static inline bool ismk_acquire_fails(int pair, const char *fn)
{
	struct ismk_ledger *l = &ismk.ledger;
	(void)pair;
	if (!l->walking)
		return false;
	if (l->acquires++ != l->walk_point)
		return false;
	printf("FAILED %d %s %s\n", l->walk_point, fn, l->phase ? l->phase : "-");
	fflush(stdout);
	return true;
}

/* A successful acquire of p. */
static inline void ismk_acquired(int pair, const void *p, const char *what)
{
	struct ismk_ledger *l = &ismk.ledger;
	l->acquired[pair]++;
	if (!l->walking)
		return;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		struct ismk_ledger_entry *ne = realloc(l->e, ncap * sizeof(*ne));
		if (!ne)
			return;
		l->e = ne;
		l->cap = ncap;
	}
	struct ismk_ledger_entry *e = &l->e[l->n++];
	memset(e, 0, sizeof(*e));
	e->masked = ismk_mask(p);
	e->pair = pair;
	snprintf(e->what, sizeof(e->what), "%s", what ? what : "");
}

/* A release of p by fn. Returns false when it must not go on (walking, and p is not live). */
static inline bool ismk_release(int pair, const void *p, const char *fn)
{
	struct ismk_ledger *l = &ismk.ledger;
	l->released[pair]++;
	if (!l->walking)
		return true;
	struct ismk_ledger_entry *e = ismk_ledger_find(pair, p);
	if (!e) {
		ismk_ledger_violation("double-release", pair, "%s of %s that was never acquired", fn, "an object");
		return false;
	}
	if (e->released) {
		ismk_ledger_violation("double-release", pair, "%s of %s, already released", fn, e->what);
		return false;
	}
	e->released = true;
	return true;
}

/* A call by fn that needs p (acquired through `pair`) alive. Returns false after a violation. */
static inline bool ismk_use(int pair, const void *p, const char *fn)
{
	if (!ismk.ledger.walking)
		return true;
	struct ismk_ledger_entry *e = ismk_ledger_find(pair, p);
	if (e && e->released) {
		ismk_ledger_violation("use-after-release", pair, "%s on %s after its release", fn, e->what);
		return false;
	}
	return true;
}

#endif
