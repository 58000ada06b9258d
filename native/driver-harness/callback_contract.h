/*
 * callback_contract.h: what the copy and load stand-ins note for the callback-contract check
 * (callback_contract.c) while one driver read/write callback runs: per user byte, how often the
 * callback wrote it (copy_to_user) and read it (copy_from_user), and whether a device load (or
 * config piece) for it succeeded. Nothing is noted when the check is not running.
 */
#ifndef ISMK_CALLBACK_CONTRACT_H
#define ISMK_CALLBACK_CONTRACT_H

#include "harness_state.h"

/* Adds one to arr[from .. from+n) (clipped to the user buffer), saturating at 255. */
static inline void ismk_contract_mark(unsigned char *arr, long long from, unsigned long long n)
{
	struct ismk_contract *c = &ismk.contract;
	if (!c->active || !arr)
		return;
	for (unsigned long long i = 0; i < n; i++) {
		long long k = from + (long long)i;
		if (k >= 0 && (size_t)k < c->len && arr[k] < 255)
			arr[k]++;
	}
}

/* A device load (region = BAR) or config piece (region = -1) of n bytes at pos succeeded. */
static inline void ismk_contract_source(int region, u64 pos, u64 n)
{
	struct ismk_contract *c = &ismk.contract;
	if (c->active && region == c->region)
		ismk_contract_mark(c->covered, (long long)(pos - c->start), n);
}

#endif
