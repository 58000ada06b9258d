/* serve.h: the state of one wire protocol session. */
#ifndef ISMKIT_AGENT_SERVE_H
#define ISMKIT_AGENT_SERVE_H

#include "agent.h"

#include <sys/ioctl.h>

struct server {
	int in, out;                 /* request and answer fds (the same one for --port) */
	struct vfio_handle *h;
	const struct allow_list *allow;
	struct journal *journal;
	uint64_t pos;                /* the device fd's file position, from read/write/lseek results */
	uint64_t refused;            /* writes the guard refused */
	int seek_ok;                 /* lseek works on the device fd */
	char *ob;                    /* answers not yet written */
	size_t olen, ocap;
	unsigned char *xfer;         /* transfer buffer */
	size_t xcap;
	int oom;                     /* a buffer could not grow: the session ends */
};

/* Serves until QUIT, end of input, a gone peer or SIGTERM/SIGINT. 0, or -1 when out of memory. */
int serve(struct server *s);

#endif
