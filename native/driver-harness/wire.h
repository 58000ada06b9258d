/*
 * wire.h: the host side of ismkit's wire protocol (docs/wire-protocol.md), shared by the
 * driver-source harness and the library host. A host fills a table of the ismkit_access.h
 * functions and hands it to ismkit_wire_main, which reads requests on stdin and answers on stdout.
 */
#ifndef ISMKIT_WIRE_H
#define ISMKIT_WIRE_H

#include "ismkit_access.h"

#define ISMKIT_WIRE_VERSION 1


/* Runs the protocol until QUIT or end of input; returns the process exit code. */
int ismkit_wire_main(const struct ismkit_api *api, const char *impl_name);

/* A request's byte field ('-' = zeros, else exactly 2n hex digits) into buf; 0 on success. */
int ismkit_wire_parse_bytes(const char *tok, unsigned char *buf, size_t n);
/* The numbers of a CONFIG request without a region table. */
#define ISMKIT_WIRE_CONFIG_NUMBERS 11

/* The 11 numbers of a CONFIG request (as a check mode's arguments) into cfg (shift layout). */
void ismk_config_from_args(char **args, struct ismkit_config *cfg);
/* A CONFIG request's n numbers into cfg: the 11, optionally followed by a region span (not 0)
 * and ISMKIT_REGION_COUNT bases; 0 on success, -1 for another count or a zero span. */
int ismkit_wire_parse_config(char **args, int n, struct ismkit_config *cfg);
/* A request's fault field (docs/wire-protocol.md) into f; 0 on success. */
int ismkit_wire_parse_fault(const char *tok, struct ismkit_fault *f);

/* What kind of breakage a BROKEN reply reports (its first word, docs/wire-protocol.md). */
enum ismkit_broken_kind {
	ISMKIT_BROKEN_OVERRUN, /* memory outside a buffer touched: slab overflow, copy outside the user buffer */
	ISMKIT_BROKEN_MISUSE,  /* an API misused: use after free, a NULL pool, a double release */
	ISMKIT_BROKEN_HARNESS, /* the harness itself could not go on (out of memory) */
};

/* The word a BROKEN reply starts with for `kind`. */
static inline const char *ismkit_broken_word(enum ismkit_broken_kind kind)
{
	return kind == ISMKIT_BROKEN_OVERRUN ? "overrun" : kind == ISMKIT_BROKEN_MISUSE ? "misuse" : "harness";
}

/* Reports that the implementation broke and ends the process. */
void ismkit_wire_broken(enum ismkit_broken_kind kind, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

#endif
