/*
 * lsan_suppressions.c: linked into every ClusterFuzzLite fuzz target (.clusterfuzzlite/build.sh,
 * `-Xlinker lsan_suppressions.o`). LeakSanitizer's built-in suppressions, which it merges with
 * any LSAN_OPTIONS=suppressions=... file the runner passes.
 *
 *   swift_getTypeName  the Swift runtime caches every type name it builds for the life of the
 *                      process (here: a CodingKey's description in a JSONDecoder error, reached
 *                      by the parse target's reproducer-JSON inputs); LeakSanitizer's exit-time
 *                      check reports the cached string as a direct leak, on the first seed
 *                      corpus replay, before any fuzzing.
 *
 * Only frames of the Swift runtime are listed: a leak in ismkit's code is still reported.
 */
const char *__lsan_default_suppressions(void);

const char *__lsan_default_suppressions(void)
{
	return "leak:swift_getTypeName\n";
}
