/*
 * ismkit_access_load.h: loads a shared library that implements ismkit_access.h into a
 * `struct ismkit_api` table. Shared by the library host (ismkit conform --library) and the
 * in-process diff-driver fuzz target.
 */
#ifndef ISMKIT_ACCESS_LOAD_H
#define ISMKIT_ACCESS_LOAD_H

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "ismkit_access.h"

/*
 * Loads `path` and fills `api`. Returns 0, or -1 with a one-line reason in `err` (the file
 * does not load, a function is missing, or the ABI version differs).
 */
static inline int ismkit_api_load(const char *path, struct ismkit_api *api, char *err, size_t errlen)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "cannot load %s: %s", path, dlerror());
		return -1;
	}
	memset(api, 0, sizeof(*api));
#define ISMKIT_SYM(field, name)                                                       \
	do {                                                                          \
		*(void **)&api->field = dlsym(h, name);                               \
		if (!api->field) {                                                    \
			snprintf(err, errlen, "%s does not export %s", path, name);  \
			return -1;                                                    \
		}                                                                     \
	} while (0)
	ISMKIT_SYM(abi_version, "ismkit_abi_version");
	ISMKIT_SYM(capabilities, "ismkit_capabilities");
	ISMKIT_SYM(open, "ismkit_open");
	ISMKIT_SYM(close, "ismkit_close");
	ISMKIT_SYM(pread, "ismkit_pread");
	ISMKIT_SYM(pwrite, "ismkit_pwrite");
	ISMKIT_SYM(read, "ismkit_read");
	ISMKIT_SYM(write, "ismkit_write");
	ISMKIT_SYM(seek, "ismkit_seek");
	ISMKIT_SYM(region_info, "ismkit_region_info");
	ISMKIT_SYM(recover_handle, "ismkit_recover_handle");
	ISMKIT_SYM(attach_peer, "ismkit_attach_peer");
	ISMKIT_SYM(detach_peer, "ismkit_detach_peer");
	ISMKIT_SYM(resources, "ismkit_resources");
	ISMKIT_SYM(take_trace, "ismkit_take_trace");
#undef ISMKIT_SYM
	if (api->abi_version() != ISMKIT_ABI_VERSION) {
		snprintf(err, errlen, "%s: ABI version %d, expected %d", path, api->abi_version(), ISMKIT_ABI_VERSION);
		return -1;
	}
	return 0;
}

#endif /* ISMKIT_ACCESS_LOAD_H */
