/* bench-loop.c: the baseline for the agent's throughput: the same preads in a plain C loop on the device. */
#include "agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* The i-th read of the benchmark (the host's burst uses the same sequence): width, position. */
static void bench_read(uint64_t i, size_t *width, uint64_t *pos)
{
	static const size_t widths[4] = { 1, 2, 4, 8 };
	*width = widths[i % 4];
	*pos = (i * 8) % 4096;
}

int main(int argc, char **argv)
{
	struct pci_address addr;
	static struct vfio_handle h;
	char err[4096];
	unsigned char buf[8];
	uint32_t region = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 2;

	if (argc < 3 || parse_pci_address(argv[1], &addr)) {
		fprintf(stderr, "usage: bench-loop DDDD:BB:DD.F COUNT [REGION (default 2)]\n");
		return 2;
	}
	uint64_t count = strtoull(argv[2], NULL, 10);
	if (vfio_open_device(&addr, &h, err, sizeof(err))) {
		fprintf(stderr, "bench-loop: %s\n", err);
		return 2;
	}
	const struct region *r = NULL;
	for (int i = 0; i < h.map.n; i++)
		if (h.map.r[i].index == region)
			r = &h.map.r[i];
	if (!r) {
		fprintf(stderr, "bench-loop: the device has no region %u\n", (unsigned)region);
		return 2;
	}
	struct timespec t0, t1;
	uint64_t failed = 0, sum = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t i = 0; i < count; i++) {
		size_t width;
		uint64_t pos;
		bench_read(i, &width, &pos);
		if (pread(h.device, buf, width, (off_t)(r->offset + pos)) != (ssize_t)width)
			failed++;
		sum += buf[0];
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("bench-loop: %llu preads in %.3f s: %.0f ops/s (%llu failed, checksum %llu)\n", (unsigned long long)count, s,
	       s > 0 ? (double)count / s : 0.0, (unsigned long long)failed, (unsigned long long)sum);
	return failed ? 1 : 0;
}
