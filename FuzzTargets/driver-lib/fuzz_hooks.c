/*
 * fuzz_hooks.c: what the driver-source harness needs from wire.c when it is built as a library
 * for in-process fuzzing (diff-driver, c-baseline, make coverage) instead of a wire-protocol
 * program. A BROKEN report (use of a destroyed pool, slab overflow, copy outside the user
 * buffer, ...) aborts, so libFuzzer records the input as a crash: wire.c's _exit would end the
 * fuzzer without saving it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "wire.h"

void ismkit_wire_broken(enum ismkit_broken_kind kind, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "==ismkit== BROKEN %s ", ismkit_broken_word(kind));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

int ismkit_wire_main(const struct ismkit_api *api, const char *impl_name)
{
	(void)api;
	(void)impl_name;
	fputs("this build of the driver harness is a library for in-process fuzzing; it speaks no wire protocol\n", stderr);
	return 2;
}
