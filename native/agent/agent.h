/* agent.h: the shared types and functions of ismkit-agent (arguments, write guard, journal, VFIO). */
#ifndef ISMKIT_AGENT_H
#define ISMKIT_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define AGENT_VERSION "1"
#define AGENT_MAX_RANGES 64
#define AGENT_MAX_REGIONS 64

/* One --allow-write range: bytes first..last (inclusive) of a region. */
struct allow_range {
	uint32_t region;
	uint64_t first, last;
};

struct allow_list {
	struct allow_range r[AGENT_MAX_RANGES];
	int n;
};

/* A PCI function address, DDDD:BB:DD.F. */
struct pci_address {
	unsigned domain, bus, device, function;
	char text[16]; /* canonical lowercase form */
};

struct agent_args {
	struct allow_list allow;
	const char *journal; /* NULL: no journal file */
	const char *port;    /* NULL: stdin/stdout */
	struct pci_address address;
};

/* args.c */
/* Parses REGION:START-END as WriteAllowList.parse does. 0 on success; else err holds one line. */
int parse_allow_range(const char *text, struct allow_range *out, char *err, size_t errlen);
/* Parses DDDD:BB:DD.F or BB:DD.F. 0 on success. */
int parse_pci_address(const char *text, struct pci_address *out);
/* Parses the command line. 0 = serve, 1 = done (help/version printed), -1 = error (err set). */
int parse_args(int argc, char **argv, struct agent_args *a, char *err, size_t errlen);
void print_help(FILE *f);

/* guard.c: the regions the kernel reported and the write guard. */
struct region {
	uint32_t index;
	uint64_t offset, size;
	uint32_t flags;
};

struct region_map {
	struct region r[AGENT_MAX_REGIONS];
	int n;
	uint64_t span; /* smallest distance between two distinct region bases, or UINT64_MAX */
};

void region_map_finish(struct region_map *m);
/* The region a kernel offset falls in; NULL when none (position returned through pos). */
const struct region *region_locate(const struct region_map *m, uint64_t offset, uint64_t *pos);
/* Whether every byte of [position, position+count-1] lies inside one range of region. */
int allow_list_allows(const struct allow_list *l, uint32_t region, uint64_t position, uint64_t count);
/* Whether a write of count bytes at kernel offset may be issued (the guard). */
int permits_write(const struct region_map *m, const struct allow_list *l, uint64_t offset, uint64_t count);

/* journal.c: the write journal (WriteJournal.swift's text form). */
struct journal {
	FILE *f;
	uint64_t entries, bytes;
};

int journal_open(struct journal *j, const char *path); /* 0 or -errno; path NULL = counting only */
void journal_record(struct journal *j, uint32_t region, uint64_t position, const unsigned char *b, size_t n);
void journal_close(struct journal *j); /* writes the trailer, flushes and syncs */
unsigned char pattern_byte(unsigned char pattern, size_t i);

/* vfio_open.c: pre-flight and the group + type1 container open path. */
struct vfio_handle {
	int container, group, device;
	unsigned vendor, device_id; /* from sysfs; 0xffff when unreadable */
	uint32_t num_regions, flags;
	struct region_map map;
	char name[16]; /* the address VFIO_GROUP_GET_DEVICE_FD takes */
};

/* Opens the device; 0 on success, else err holds one line (the VFIOError wording). */
int vfio_open_device(const struct pci_address *addr, struct vfio_handle *h, char *err, size_t errlen);
/* REOPEN: closes the device fd and gets a fresh one from the group (file position 0). 0, or -1 with
 * errno set (the device fd is then gone: every later system call on it fails with EBADF). */
int vfio_reopen_device(struct vfio_handle *h);
const char *errno_name(int e);

#endif
