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

/* Reports that the implementation broke (use after free, overflow, ...) and ends the process. */
void ismkit_wire_broken(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
