/*
 * lifecycle_walk.c: `harness --lifecycle-walk <11 config numbers>` fails every acquire of a
 * driver's lifecycle in turn (R-LIFE-2): device init, core init, pool creation, registration,
 * enable, allocations, in probe/init/open, in the I/O between, in the peer's probe and remove,
 * and in close/remove. Each failure point runs in a child process (forked) through the same
 * scenario: open (probe + open_device) -> write, read -> attach peer -> write -> detach peer ->
 * close (close_device + remove); afterwards every acquire must have been released exactly once.
 * Point -1 fails nothing (the plain release path). `harness --lifecycle-walk <11 numbers> <point>`
 * runs that one failure point only (a reproducer's replay), with the same output.
 *
 * Output, one line each (pair_ledger.h writes the first two while the child runs):
 *   FAILED <point> <function> <phase>
 *   VIOLATION <point> <leak|missing-release|double-release|use-after-release> <pair> <phase> <message>
 *   PAIRS <point> <pair>=<acquired>/<released> …    (the counts, after teardown)
 *   BROKEN <kind> <message>                          (the child broke: wire.c's report)
 *   POINT <point> acquires=<n> status=<exit status or signal>
 *   WALK <points>
 */
#include "harness_state.h"
#include "pair_ledger.h"
#include "wire.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define ISMK_WALK_MAX_POINTS 64

static void walk_phase(const char *p) { ismk.ledger.phase = p; }

/* What is still acquired after teardown: a leak (memory) or a missing release (core state). */
static void report_live(void)
{
	struct ismk_ledger *l = &ismk.ledger;
	walk_phase("after-teardown");
	for (size_t i = 0; i < l->n; i++) {
		struct ismk_ledger_entry *e = &l->e[i];
		if (e->released)
			continue;
		bool memory = e->pair == ISMK_PAIR_DEVICE || e->pair == ISMK_PAIR_POOL || e->pair == ISMK_PAIR_ALLOC;
		ismk_ledger_violation(memory ? "leak" : "missing-release", e->pair, "%s%s never released", "", e->what);
	}
}

static void run_point(const struct ismkit_config *cfg, int point, int report_fd)
{
	struct ismk_ledger *l = &ismk.ledger;
	l->walking = true;
	l->walk_point = point;
	l->acquires = 0;
	unsigned char buf[64];
	struct ismkit_fault none;
	memset(&none, 0, sizeof(none));
	memset(buf, 0x5a, sizeof(buf));
	int err = 0;
	walk_phase("probe/init/open");
	struct ismkit_access *a = ismkit_open(cfg, &err);
	if (a) {
		walk_phase("write");
		(void)ismkit_pwrite(a, buf, 16, 0, &none);
		walk_phase("read");
		(void)ismkit_pread(a, buf, 16, 8, &none);
		walk_phase("peer-probe/init");
		int peer = ismkit_attach_peer(a, 0);
		walk_phase("write");
		(void)ismkit_pwrite(a, buf, 24, 4096, &none);
		if (peer == 0) {
			walk_phase("peer-release/remove");
			(void)ismkit_detach_peer(a);
		}
		walk_phase("close/release/remove");
		ismkit_close(a);
	}
	report_live();
	printf("PAIRS %d", point);
	for (int p = 0; p < ISMK_PAIRS; p++)
		printf(" %s=%ld/%ld", ismk_pair_token(p), l->acquired[p], l->released[p]);
	printf("\n");
	fflush(stdout);
	int n = l->acquires;
	if (write(report_fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		_exit(4);
}

int ismk_lifecycle_walk_main(int argc, char **argv)
{
	if (argc != 13 && argc != 14)
		return 2;
	struct ismkit_config cfg;
	ismk_config_from_args(argv + 2, &cfg);
	int first = -1, last = ISMK_WALK_MAX_POINTS - 1;
	if (argc == 14) {
		char *end = NULL;
		long only = strtol(argv[13], &end, 10);
		if (!*argv[13] || *end || only < -1 || only >= ISMK_WALK_MAX_POINTS)
			return 2;
		first = last = (int)only;
	}
	int points = 0;
	for (int point = first; point <= last; point++) {
		int fds[2];
		if (pipe(fds) != 0)
			return 3;
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0)
			return 3;
		if (pid == 0) {
			close(fds[0]);
			run_point(&cfg, point, fds[1]);
			fflush(stdout);
			_exit(0);
		}
		close(fds[1]);
		int acquires = -1;
		if (read(fds[0], &acquires, sizeof(acquires)) != (ssize_t)sizeof(acquires))
			acquires = -1;
		close(fds[0]);
		int status = 0;
		waitpid(pid, &status, 0);
		points++;
		if (WIFSIGNALED(status))
			printf("POINT %d acquires=%d status=signal-%d\n", point, acquires, WTERMSIG(status));
		else
			printf("POINT %d acquires=%d status=%d\n", point, acquires, WEXITSTATUS(status));
		fflush(stdout);
		/* The last point is the one past the scenario's last acquire (nothing failed). A child
		 * that broke does not say how many acquires it made: go on to the next point. */
		if (acquires >= 0 && point >= 0 && acquires <= point)
			break;
	}
	printf("WALK %d\n", points);
	fflush(stdout);
	return 0;
}
