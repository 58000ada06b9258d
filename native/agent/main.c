/* main.c: ismkit-agent's entry point: arguments, pre-flight and open, then serving, then the journal. */
#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *line)
{
	fprintf(stderr, "ismkit-agent: %s\n", line);
	return 2;
}

int main(int argc, char **argv)
{
	struct agent_args args;
	static struct vfio_handle h;
	struct journal journal;
	struct server s;
	char err[4096];

	int r = parse_args(argc, argv, &args, err, sizeof(err));
	if (r > 0)
		return 0;
	if (r < 0)
		return fail(err);
	if (vfio_open_device(&args.address, &h, err, sizeof(err)))
		return fail(err);
	if ((r = journal_open(&journal, args.journal)) < 0) {
		snprintf(err, sizeof(err), "cannot open the journal %s: %s (%s)", args.journal, errno_name(-r), strerror(-r));
		return fail(err);
	}
	memset(&s, 0, sizeof(s));
	s.in = STDIN_FILENO;
	s.out = STDOUT_FILENO;
	if (args.port) {
		int fd = open(args.port, O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			snprintf(err, sizeof(err), "cannot open the port %s: %s (%s)", args.port, errno_name(errno),
				 strerror(errno));
			return fail(err);
		}
		s.in = s.out = fd;
	}
	s.h = &h;
	s.allow = &args.allow;
	s.journal = &journal;
	r = serve(&s);
	journal_close(&journal);
	if (r < 0)
		return fail("out of memory");
	return 0;
}
