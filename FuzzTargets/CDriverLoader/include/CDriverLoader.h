/*
 * CDriverLoader: loads a shared object implementing include/ismkit_access.h (the driver-source
 * harness built as a library, see docs/fuzzing.md) into the fuzzing process, so diff-driver
 * calls the compiled driver in-process instead of through the wire protocol.
 */
#ifndef ISMKIT_CDRIVERLOADER_H
#define ISMKIT_CDRIVERLOADER_H

#include "../../../include/ismkit_access.h"

/*
 * Loads `path` and fills `api`. Returns 0, or -1 with a one-line reason in `err`
 * (the file does not load, a function is missing, or the ABI version differs).
 */
int ismkit_fuzz_load(const char *path, struct ismkit_api *api, char *err, size_t errlen);

#endif
