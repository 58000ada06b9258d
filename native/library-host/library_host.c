/*
 * library_host.c: loads a shared library that implements include/ismkit_access.h and serves
 * it over ismkit's wire protocol (docs/wire-protocol.md), so `ismkit conform --library PATH`
 * tests it out of process. Usage: library-host PATH.so
 */
#include <stdio.h>

#include "ismkit_access_load.h"
#include "wire.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: library-host PATH.so\n");
		return 2;
	}
	struct ismkit_api api;
	char err[512];
	if (ismkit_api_load(argv[1], &api, err, sizeof(err))) {
		printf("BROKEN %s\n", err);
		fflush(stdout);
		return 3;
	}
	return ismkit_wire_main(&api, "library");
}
