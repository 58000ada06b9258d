/*
 * wire.h: the host side of ismkit's wire protocol (docs/wire-protocol.md), shared by the
 * driver-source harness and the library host. A host fills a table of the ismkit_access.h
 * functions and hands it to ismkit_wire_main, which reads requests on stdin and answers on stdout.
 */
#ifndef ISMKIT_WIRE_H
#define ISMKIT_WIRE_H

#include "ismkit_access.h"

#define ISMKIT_WIRE_VERSION 1

/* The ismkit_access.h functions of one implementation. */
struct ismkit_api {
	int (*abi_version)(void);
	uint32_t (*capabilities)(void);
	struct ismkit_access *(*open)(const struct ismkit_config *, int *);
	void (*close)(struct ismkit_access *);
	int64_t (*pread)(struct ismkit_access *, void *, uint64_t, uint64_t, const struct ismkit_fault *);
	int64_t (*pwrite)(struct ismkit_access *, const void *, uint64_t, uint64_t, const struct ismkit_fault *);
	int64_t (*read)(struct ismkit_access *, void *, uint64_t, const struct ismkit_fault *);
	int64_t (*write)(struct ismkit_access *, const void *, uint64_t, const struct ismkit_fault *);
	int64_t (*seek)(struct ismkit_access *, int64_t, int);
	int (*region_info)(struct ismkit_access *, uint32_t, uint32_t, struct ismkit_region_info *);
	int (*recover_handle)(struct ismkit_access *);
	int (*attach_peer)(struct ismkit_access *, int);
	int (*detach_peer)(struct ismkit_access *);
	int (*resources)(struct ismkit_access *, struct ismkit_resources *);
	size_t (*take_trace)(struct ismkit_access *, struct ismkit_event *, size_t);
};

/* Runs the protocol until QUIT or end of input; returns the process exit code. */
int ismkit_wire_main(const struct ismkit_api *api, const char *impl_name);

/* Reports that the implementation broke (use after free, overflow, ...) and ends the process. */
void ismkit_wire_broken(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
