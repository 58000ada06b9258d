/*
 * CDriverLoader: loads a shared object implementing include/ismkit_access.h (the driver-source
 * harness built as a library, see docs/fuzzing.md) into the fuzzing process, so diff-driver
 * calls the compiled driver in-process instead of through the wire protocol.
 */
#ifndef ISMKIT_CDRIVERLOADER_H
#define ISMKIT_CDRIVERLOADER_H

#include "../../../include/ismkit_access.h"

/* The ismkit_access.h functions of one loaded library. */
struct ismkit_fuzz_api {
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

/*
 * Loads `path` and fills `api`. Returns 0, or -1 with a one-line reason in `err`
 * (the file does not load, a function is missing, or the ABI version differs).
 */
int ismkit_fuzz_load(const char *path, struct ismkit_fuzz_api *api, char *err, size_t errlen);

#endif
