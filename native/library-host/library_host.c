/*
 * library_host.c: loads a shared library that implements include/ismkit_access.h and serves
 * it over ismkit's wire protocol (docs/wire-protocol.md), so `ismkit conform --library PATH`
 * tests it out of process. Usage: library-host PATH.so
 */
#include <dlfcn.h>
#include <stdio.h>

#include "wire.h"

#define RESOLVE(field, name)                                                                  \
	do {                                                                                  \
		*(void **)(&api.field) = dlsym(lib, name);                                    \
		if (!api.field) {                                                             \
			printf("BROKEN %s does not export %s\n", argv[1], name);             \
			fflush(stdout);                                                       \
			return 3;                                                             \
		}                                                                             \
	} while (0)

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: library-host PATH.so\n");
		return 2;
	}
	void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		printf("BROKEN cannot load %s: %s\n", argv[1], dlerror());
		fflush(stdout);
		return 3;
	}
	struct ismkit_api api;
	RESOLVE(abi_version, "ismkit_abi_version");
	RESOLVE(capabilities, "ismkit_capabilities");
	RESOLVE(open, "ismkit_open");
	RESOLVE(close, "ismkit_close");
	RESOLVE(pread, "ismkit_pread");
	RESOLVE(pwrite, "ismkit_pwrite");
	RESOLVE(read, "ismkit_read");
	RESOLVE(write, "ismkit_write");
	RESOLVE(seek, "ismkit_seek");
	RESOLVE(region_info, "ismkit_region_info");
	RESOLVE(recover_handle, "ismkit_recover_handle");
	RESOLVE(attach_peer, "ismkit_attach_peer");
	RESOLVE(detach_peer, "ismkit_detach_peer");
	RESOLVE(resources, "ismkit_resources");
	RESOLVE(take_trace, "ismkit_take_trace");
	return ismkit_wire_main(&api, "library");
}
