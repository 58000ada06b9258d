/*
 * driver_lib_env.c: linked into the ClusterFuzzLite build of diff-driver (.clusterfuzzlite/build.sh,
 * `-Xlinker driver_lib_env.o`). ClusterFuzzLite and OSS-Fuzz run a fuzz target with no environment
 * of the project's own, and diff-driver loads its driver library from ISMKIT_DRIVER_LIB. Before
 * main (and so before LLVMFuzzerInitialize loads the library) this sets
 *   ISMKIT_DRIVER_LIB     to libismdriver.so in the folder of the running executable
 *   ISMKIT_DRIVER_SOURCE  to the driver main.c the library was built from (recorded in reproducers)
 * each only when it is unset or empty: an explicit setting always wins.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef ISMKIT_CFL_DRIVER_SOURCE
#define ISMKIT_CFL_DRIVER_SOURCE ""
#endif

static int unset(const char *name)
{
	const char *v = getenv(name);
	return v == NULL || *v == '\0';
}

__attribute__((constructor)) static void ismkit_cfl_driver_env(void)
{
	static const char lib[] = "/libismdriver.so";
	if (unset("ISMKIT_DRIVER_LIB")) {
		char path[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
		if (n > 0) {
			path[n] = '\0';
			char *slash = strrchr(path, '/');
			if (slash != NULL && (size_t)(slash - path) + sizeof lib <= sizeof path) {
				memcpy(slash, lib, sizeof lib);
				setenv("ISMKIT_DRIVER_LIB", path, 1);
			}
		}
	}
	if (unset("ISMKIT_DRIVER_SOURCE") && ISMKIT_CFL_DRIVER_SOURCE[0] != '\0')
		setenv("ISMKIT_DRIVER_SOURCE", ISMKIT_CFL_DRIVER_SOURCE, 1);
}
