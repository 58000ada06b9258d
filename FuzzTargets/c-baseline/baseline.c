/*
 * c-baseline: the speed limit for diff-driver. A plain C libFuzzer target that decodes its input
 * exactly as diff-driver does (docs/fuzz-encoding.md, version 1) and runs the operations on the
 * same driver-source harness (linked in, include/ismkit_access.h), comparing with nothing.
 * Built and run by FuzzTargets/tools/bench.sh; not part of the Swift package.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ismkit_access.h"

#define MAX_OPS 256
#define MAX_COUNT 131072

static const uint64_t selector_index[11] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x7FFF};
static const uint64_t anchors[16] = {
	0, 256, 4096, 8192, 12288, 65536, 1ull << 20, 1ull << 32,
	1ull << 39, 1ull << 40, (1ull << 40) + 4096, 1ull << 41, 1ull << 44, 1ull << 47, (1ull << 48) - 4096, 1ull << 48,
};
static const int counts[64] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16,
	17, 23, 24, 25, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257,
	511, 512, 1023, 1024, 2047, 2048, 2049, 3071, 4088, 4089, 4094, 4095, 4096, 4097,
	4100, 4104, 6144, 8184, 8191, 8192, 8193, 12288, 16383, 16384, 16385, 32767, 32768,
	65535, 65536, 65537, 131072, 100,
};
static const int32_t fault_errnos[4] = {5, 19, 22, 14};
static const uint32_t info_index[15] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255, 0x7FFFFFFF, 0x80000000u, 0xFFFFFFFFu};
static const uint32_t info_argsz[15] = {32, 32, 32, 32, 32, 40, 64, 256, 0, 1, 8, 16, 24, 31, 33};

struct reader { const uint8_t *p; size_t n, at; };

static uint8_t u8(struct reader *r) { uint8_t v = r->at < r->n ? r->p[r->at] : 0; r->at++; return v; }
static uint64_t le(struct reader *r, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++) v |= (uint64_t)u8(r) << (8 * i);
	return v;
}

static uint64_t position(struct reader *r, uint8_t mode)
{
	switch (mode) {
	case 0: return 0;
	case 1: return le(r, 1);
	case 2: return le(r, 2);
	case 3: { uint64_t page = le(r, 1); return (page << 12) + (uint64_t)(int64_t)(int8_t)u8(r); }
	case 4: { uint64_t a = anchors[u8(r) & 15]; return a + (uint64_t)(int64_t)(int8_t)u8(r); }
	case 5: return le(r, 6);
	case 6: return le(r, 4);
	case 7: return le(r, 4) << 12;
	default: return mode - 8;
	}
}

static uint64_t offset(struct reader *r)
{
	uint8_t place = u8(r);
	int sel = place & 15;
	if (sel == 14) return le(r, 8);
	uint64_t index = sel == 15 ? le(r, 2) : (sel < 11 ? selector_index[sel] : 0);
	uint64_t pos = position(r, place >> 4);
	switch (sel) {
	case 11: return (2ull << 40) + pos;
	case 12: return (1ull << 63) | pos;
	case 13: return UINT64_MAX - pos;
	default: return (index << 48) + pos;
	}
}

static int count(struct reader *r)
{
	uint8_t c = u8(r);
	if (c <= 0x3F) return counts[c];
	if (c <= 0x7F) return c - 0x40;
	if (c <= 0xBF) return (c - 0x80) << 8 | u8(r);
	return (int)le(r, 2);
}

static struct ismkit_fault fault(struct reader *r)
{
	struct ismkit_fault f = {0};
	uint8_t b = u8(r);
	int arg = b >> 2;
	switch (b & 3) {
	case 0: f.kind = ISMKIT_FAULT_DEVICE; f.nth = arg & 15; f.err = fault_errnos[arg >> 4]; break;
	case 1: f.kind = ISMKIT_FAULT_USER_BUFFER; f.from = arg; break;
	case 2:
		if (arg == 0) { f.kind = ISMKIT_FAULT_ALLOCATION; break; }
		f.kind = ISMKIT_FAULT_DEVICE; f.nth = (uint32_t)le(r, 2); f.err = u8(r); if (f.err == 0) f.err = 1;
		break;
	default: f.kind = ISMKIT_FAULT_USER_BUFFER; f.from = (int64_t)le(r, 2); break;
	}
	return f;
}

static uint8_t *buffer(void)
{
	static uint8_t *b;
	if (!b) b = malloc(MAX_COUNT);
	return b;
}

static void fill(uint8_t *b, int n, uint8_t pattern)
{
	for (int i = 0; i < n; i++) b[i] = (uint8_t)(pattern + (uint8_t)(i * 37)) ^ (uint8_t)(i >> 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ismkit_config config = {
		.bar_lengths = {1ull << 48, 0, 8192, 0, 0, 0},
		.config_size = 4096, .maxstbl = 4096, .peer_maxstbl = 2048, .content_seed = 0x15A15A,
	};
	int err = 0;
	struct ismkit_access *a = ismkit_open(&config, &err);
	if (!a) return 0;
	struct reader r = {data, size, 0};
	struct ismkit_event events[256];
	struct ismkit_region_info info;
	struct ismkit_resources res;
	uint8_t *b = buffer();
	for (int ops = 0; r.at < r.n && ops < MAX_OPS; ops++) {
		uint8_t op = u8(&r);
		uint8_t flags = op >> 4;
		struct ismkit_fault none = {0}, f;
		uint64_t o; int c; uint8_t p;
		switch (op & 15) {
		case 0: case 1: case 2: case 3:
			o = offset(&r); c = count(&r); ismkit_pread(a, b, c, o, &none); break;
		case 4: case 5: case 6:
			o = offset(&r); c = count(&r); p = u8(&r); fill(b, c, p); ismkit_pwrite(a, b, c, o, &none); break;
		case 7: c = count(&r); ismkit_read(a, b, c, &none); break;
		case 8: c = count(&r); p = u8(&r); fill(b, c, p); ismkit_write(a, b, c, &none); break;
		case 9:
			switch (flags & 3) {
			case 0: ismkit_seek(a, (int64_t)offset(&r), 0); break;
			case 1: ismkit_seek(a, (int8_t)u8(&r), 1); break;
			case 2: ismkit_seek(a, (int64_t)le(&r, 8), 1); break;
			default: ismkit_seek(a, (int64_t)le(&r, 8), 0); break;
			}
			break;
		case 10: {
			uint8_t x = u8(&r);
			uint32_t idx = (x & 15) < 15 ? info_index[x & 15] : (uint32_t)le(&r, 4);
			uint32_t argsz = (x >> 4) < 15 ? info_argsz[x >> 4] : (uint32_t)le(&r, 4);
			ismkit_region_info(a, idx, argsz, &info);
			break;
		}
		case 11: o = offset(&r); c = count(&r); f = fault(&r); ismkit_pread(a, b, c, o, &f); break;
		case 12: o = offset(&r); c = count(&r); p = u8(&r); f = fault(&r); fill(b, c, p); ismkit_pwrite(a, b, c, o, &f); break;
		case 13:
			if (!(flags & 1)) { c = count(&r); f = fault(&r); ismkit_read(a, b, c, &f); }
			else { c = count(&r); p = u8(&r); f = fault(&r); fill(b, c, p); ismkit_write(a, b, c, &f); }
			break;
		case 14: ismkit_recover_handle(a); break;
		default:
			switch (flags & 3) {
			case 0: ismkit_attach_peer(a, 0); break;
			case 1: ismkit_attach_peer(a, 1); break;
			case 2: ismkit_detach_peer(a); break;
			default: ismkit_resources(a, &res); break;
			}
		}
		while (ismkit_take_trace(a, events, 256) == 256) {}
	}
	ismkit_close(a);
	return 0;
}
