#include "CDriverLoader.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int ismkit_fuzz_load(const char *path, struct ismkit_fuzz_api *api, char *err, size_t errlen)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "%s", dlerror());
		return -1;
	}
	memset(api, 0, sizeof(*api));
#define SYM(field, name)                                                              \
	do {                                                                          \
		*(void **)&api->field = dlsym(h, name);                               \
		if (!api->field) {                                                    \
			snprintf(err, errlen, "%s: %s is missing", path, name);      \
			return -1;                                                    \
		}                                                                     \
	} while (0)
	SYM(abi_version, "ismkit_abi_version");
	SYM(capabilities, "ismkit_capabilities");
	SYM(open, "ismkit_open");
	SYM(close, "ismkit_close");
	SYM(pread, "ismkit_pread");
	SYM(pwrite, "ismkit_pwrite");
	SYM(read, "ismkit_read");
	SYM(write, "ismkit_write");
	SYM(seek, "ismkit_seek");
	SYM(region_info, "ismkit_region_info");
	SYM(recover_handle, "ismkit_recover_handle");
	SYM(attach_peer, "ismkit_attach_peer");
	SYM(detach_peer, "ismkit_detach_peer");
	SYM(resources, "ismkit_resources");
	SYM(take_trace, "ismkit_take_trace");
#undef SYM
	if (api->abi_version() != ISMKIT_ABI_VERSION) {
		snprintf(err, errlen, "%s: ABI version %d, expected %d", path, api->abi_version(), ISMKIT_ABI_VERSION);
		return -1;
	}
	return 0;
}
