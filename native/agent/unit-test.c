/* unit-test.c: the allow-list parser, the PCI address parser, the write guard and the journal text. */
#include "agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int passed, failed;

static void check(int ok, const char *name)
{
	printf("%s - %s\n", ok ? "ok" : "not ok", name);
	if (ok)
		passed++;
	else
		failed++;
}

static void range_ok(const char *text, uint32_t region, uint64_t first, uint64_t last)
{
	struct allow_range r;
	char err[256], name[300];
	int ok = parse_allow_range(text, &r, err, sizeof(err)) == 0 && r.region == region && r.first == first &&
		 r.last == last;
	snprintf(name, sizeof(name), "allow-write '%s' parses", text);
	check(ok, name);
}

static void range_bad(const char *text, const char *message)
{
	struct allow_range r;
	char err[256], want[300], name[300];
	snprintf(want, sizeof(want), "'%s': %s", text, message);
	int ok = parse_allow_range(text, &r, err, sizeof(err)) != 0 && strcmp(err, want) == 0;
	snprintf(name, sizeof(name), "allow-write '%s' is refused: %s", text, message);
	check(ok, name);
	if (!ok)
		printf("#   got: %s\n", err);
}

static const char *EXPECT = "expected REGION:START-END, for example 2:0x0-0xfff";
static const char *REGION = "region must be 0...5 (a BAR), 7 (config) or a name like bar2";
static const char *NUMBERS = "START-END must be two numbers, for example 0x0-0xfff";
static const char *ORDER = "START is above END";

static void address(const char *text, const char *canonical)
{
	struct pci_address a;
	char name[200];
	int r = parse_pci_address(text, &a);
	snprintf(name, sizeof(name), "address '%s' -> %s", text, canonical ? canonical : "refused");
	check(canonical ? r == 0 && strcmp(a.text, canonical) == 0 : r != 0, name);
}

int main(void)
{
	/* The forms docs/hardware.md shows, and WriteAllowList.parse's edges. */
	range_ok("2:0x0-0xfff", 2, 0, 0xfff);
	range_ok("bar2:0-4095", 2, 0, 4095);
	range_ok("config:0x40-0x4f", 7, 0x40, 0x4f);
	range_ok("CONFIG:0X40-0X4F", 7, 0x40, 0x4f);
	range_ok("BAR0:5-5", 0, 5, 5);
	range_ok("7:0-255", 7, 0, 255);
	range_ok("8:0-1", 8, 0, 1);
	range_ok("2:0-18446744073709551615", 2, 0, UINT64_MAX);
	range_ok("2:0x0-0xffffffffffffffff", 2, 0, UINT64_MAX);
	range_ok(":2:1-2", 2, 1, 2);
	range_ok("+2:+1-0x+2", 2, 1, 2);
	range_bad("2", EXPECT);
	range_bad("2:", EXPECT);
	range_bad(":0-1", EXPECT);
	range_bad("", EXPECT);
	range_bad("9:0-1", REGION);
	range_bad("bar:0-1", REGION);
	range_bad("barx:0-1", REGION);
	range_bad("-1:0-1", REGION);
	range_bad("4294967298:0-1", REGION);
	range_bad("2:0x0", NUMBERS);
	range_bad("2:0-1-2", NUMBERS);
	range_bad("2:-1", NUMBERS);
	range_bad("2:0x-0x1", NUMBERS);
	range_bad("2:0-18446744073709551616", NUMBERS);
	range_bad("2:0-0x10000000000000000", NUMBERS);
	range_bad("2:1 -2", NUMBERS);
	range_bad("2::0-1", NUMBERS);
	range_bad("2:0x10-0xf", ORDER);

	address("0000:00:01.0", "0000:00:01.0");
	address("00:01.0", "0000:00:01.0");
	address("ABCD:EF:1F.7", "abcd:ef:1f.7");
	address("0000:00:20.0", NULL);
	address("0000:00:01.8", NULL);
	address("000:00:01.0", NULL);
	address("0000:00:01", NULL);
	address("0000:00:01.0.1", NULL);
	address("0:0000:00:01.0", NULL);
	address("0000:0g:01.0", NULL);
	address("", NULL);

	/* The guard over vfio-pci's layout: region i at i << 40 (BAR2 1 MiB, config 256 bytes). */
	struct region_map m = { .n = 0 };
	uint64_t sizes[9] = { 256, 0, 1 << 20, 0, 0, 0, 0, 256, 0 };
	for (uint32_t i = 0; i < 9; i++)
		m.r[m.n++] = (struct region){ .index = i, .offset = (uint64_t)i << 40, .size = sizes[i] };
	region_map_finish(&m);
	check(m.span == 1ull << 40, "span is the smallest distance between region bases");
	struct allow_list l = { .n = 0 };
	l.r[l.n++] = (struct allow_range){ 2, 0, 0xfff };
	uint64_t bar2 = 2ull << 40, cfg = 7ull << 40;
	check(permits_write(&m, &l, bar2, 4), "write at the start of the allowed range");
	check(permits_write(&m, &l, bar2 + 0xff8, 8), "write ending on the last allowed byte");
	check(!permits_write(&m, &l, bar2 + 0xffc, 8), "write straddling the end of the range is refused");
	check(!permits_write(&m, &l, bar2 + 0x1000, 1), "write past the range is refused");
	check(!permits_write(&m, &l, cfg + 4, 2), "config write is refused without region 7 listed");
	check(!permits_write(&m, &l, 0x10, 4), "BAR0 write is refused");
	check(!permits_write(&m, &l, 1ull << 63 | bar2, 4), "negative offset is refused");
	check(!permits_write(&m, &l, 9ull << 40, 4), "offset past the last region base is refused");
	check(permits_write(&m, &l, bar2 + 0x10000, 0), "zero-byte write is not refused");
	struct allow_list all = { .n = 0 };
	all.r[all.n++] = (struct allow_range){ 2, 0, 0xfffff };
	check(permits_write(&m, &all, bar2 + 0xffffc, 64), "write clamped to the region size is allowed");
	check(!permits_write(&m, &all, bar2 + 0x100000, 4), "write at the region size lands nowhere allowed");
	struct allow_list ro = { .n = 0 };
	check(!permits_write(&m, &ro, bar2, 1), "read-only: every write is refused");
	check(allow_list_allows(&l, 2, 0xfff, 1) && !allow_list_allows(&l, 2, UINT64_MAX, 2),
	      "allows: last byte in, overflow out");
	uint64_t pos = 0;
	const struct region *r = region_locate(&m, bar2 + 0x123, &pos);
	check(r && r->index == 2 && pos == 0x123, "locate: BAR2 position");

	/* DeviceContents.patternByte values, computed by hand. */
	check(pattern_byte(7, 0) == 7 && pattern_byte(7, 1) == 44 && pattern_byte(250, 2) == 68 &&
	      pattern_byte(0, 256) == 1,
	      "pattern byte");

	/* The journal text. */
	char path[] = "/tmp/ismkit-agent-unit-XXXXXX";
	int fd = mkstemp(path);
	struct journal j;
	check(fd >= 0 && journal_open(&j, path) == 0, "journal opens");
	unsigned char w[3] = { 0xde, 0xad, 0x01 }, p[5];
	for (int i = 0; i < 5; i++)
		p[i] = pattern_byte(9, (size_t)i);
	journal_record(&j, 2, 0x10, w, 3);
	journal_record(&j, 2, 0xabc, p, 5);
	journal_record(&j, 2, 0, w, 0);
	journal_close(&j);
	char text[256] = { 0 };
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	(void)n;
	if (f)
		fclose(f);
	unlink(path);
	const char *want = "ismkit-write-journal 1\nW 2 10 dead01\nP 2 abc 5 9\nE 2\n";
	check(strcmp(text, want) == 0 && j.entries == 2 && j.bytes == 8, "journal: W, P and trailer lines");
	if (strcmp(text, want) != 0)
		printf("#   got: %s\n", text);

	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
