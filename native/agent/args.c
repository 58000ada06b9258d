/* args.c: the command line, --allow-write ranges (as WriteAllowList.parse) and PCI addresses. */
#include "agent.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* An unsigned number in `base` with an optional leading '+', no overflow. 0 on success. */
static int parse_unsigned(const char *s, size_t len, int base, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	if (i < len && s[i] == '+')
		i++;
	if (i == len)
		return -1;
	for (; i < len; i++) {
		int c = tolower((unsigned char)s[i]), d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return -1;
		if (v > (max - (uint64_t)d) / (uint64_t)base)
			return -1;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*out = v;
	return 0;
}

/* A bound: decimal, or 0x-prefixed hex. */
static int parse_bound(const char *s, size_t len, uint64_t *out)
{
	if (len >= 2 && s[0] == '0' && tolower((unsigned char)s[1]) == 'x')
		return parse_unsigned(s + 2, len - 2, 16, UINT64_MAX, out);
	return parse_unsigned(s, len, 10, UINT64_MAX, out);
}

int parse_allow_range(const char *text, struct allow_range *out, char *err, size_t errlen)
{
	/* Leading ':' are skipped and an empty remainder dropped, like Swift's split(maxSplits: 1). */
	const char *start = text;
	while (*start == ':')
		start++;
	const char *colon = strchr(start, ':');
	if (!colon || colon[1] == 0) {
		snprintf(err, errlen, "'%s': expected REGION:START-END, for example 2:0x0-0xfff", text);
		return -1;
	}
	char region[32];
	size_t rlen = (size_t)(colon - start);
	uint64_t index;
	int ok = rlen < sizeof(region);
	if (ok) {
		for (size_t i = 0; i < rlen; i++)
			region[i] = (char)tolower((unsigned char)start[i]);
		region[rlen] = 0;
		const char *r = region;
		if (strcmp(r, "config") == 0)
			r = "7";
		else if (strncmp(r, "bar", 3) == 0)
			r += 3;
		ok = parse_unsigned(r, strlen(r), 10, UINT32_MAX, &index) == 0 && index <= 8;
	}
	if (!ok) {
		snprintf(err, errlen, "'%s': region must be 0...5 (a BAR), 7 (config) or a name like bar2", text);
		return -1;
	}
	const char *bounds = colon + 1;
	const char *dash = strchr(bounds, '-');
	uint64_t first, last;
	if (!dash || strchr(dash + 1, '-') || parse_bound(bounds, (size_t)(dash - bounds), &first) ||
	    parse_bound(dash + 1, strlen(dash + 1), &last)) {
		snprintf(err, errlen, "'%s': START-END must be two numbers, for example 0x0-0xfff", text);
		return -1;
	}
	if (first > last) {
		snprintf(err, errlen, "'%s': START is above END", text);
		return -1;
	}
	out->region = (uint32_t)index;
	out->first = first;
	out->last = last;
	return 0;
}

/* `len` hex digits exactly, at most `max`. */
static int hex_field(const char *s, size_t len, size_t want, uint64_t max, unsigned *out)
{
	uint64_t v;
	if (len != want || s[0] == '+' || parse_unsigned(s, len, 16, UINT64_MAX, &v) || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int parse_pci_address(const char *text, struct pci_address *out)
{
	const char *c1 = strchr(text, ':');
	if (!c1)
		return -1;
	const char *c2 = strchr(c1 + 1, ':');
	const char *dom = "0000", *bus, *devfn;
	size_t domlen = 4, buslen;
	if (c2) {
		if (strchr(c2 + 1, ':'))
			return -1;
		dom = text;
		domlen = (size_t)(c1 - text);
		bus = c1 + 1;
		buslen = (size_t)(c2 - bus);
		devfn = c2 + 1;
	} else {
		bus = text;
		buslen = (size_t)(c1 - text);
		devfn = c1 + 1;
	}
	const char *dot = strchr(devfn, '.');
	if (!dot || strchr(dot + 1, '.'))
		return -1;
	if (hex_field(dom, domlen, 4, UINT32_MAX, &out->domain) || hex_field(bus, buslen, 2, 255, &out->bus) ||
	    hex_field(devfn, (size_t)(dot - devfn), 2, 31, &out->device) ||
	    hex_field(dot + 1, strlen(dot + 1), 1, 7, &out->function))
		return -1;
	snprintf(out->text, sizeof(out->text), "%04x:%02x:%02x.%x", out->domain, out->bus, out->device,
		 out->function);
	return 0;
}

void print_help(FILE *f)
{
	fputs("usage: ismkit-agent [--allow-write REGION:START-END]... [--journal FILE] [--port PATH]\n"
	      "                    [--version] [--help] DDDD:BB:DD.F\n"
	      "\n"
	      "Serves the VFIO device DDDD:BB:DD.F (bound to vfio-pci or ism-vfio-pci) over ismkit's wire\n"
	      "protocol version 1 (device subset; native/agent/README.md), so that ismkit on another\n"
	      "machine can run its hardware conformance checks through a byte stream.\n"
	      "\n"
	      "  --allow-write REGION:START-END  let writes land on bytes START..END (inclusive; decimal or\n"
	      "                    0x-hex) of REGION (0...5 or barN for a BAR, 7 or config for config\n"
	      "                    space); repeatable. Default: none, every write is refused with EPERM.\n"
	      "  --journal FILE    write every write the kernel accepted to FILE (ismkit-write-journal 1)\n"
	      "                    when the session ends (QUIT, end of input, SIGTERM/SIGINT).\n"
	      "                    Default: no journal file (JOURNAL still reports the counts).\n"
	      "  --port PATH       serve on PATH opened read-write (a virtio-serial port such as\n"
	      "                    /dev/virtio-ports/NAME). Default: requests on stdin, answers on stdout.\n"
	      "  --version         print the agent and wire protocol versions and exit.\n"
	      "  --help            print this help and exit.\n"
	      "\n"
	      "Environment: ISMKIT_AGENT_SYSFS (default /sys), ISMKIT_AGENT_DEV (default /dev).\n"
	      "Exit status: 0 after QUIT or end of input, 2 bad arguments or unusable device.\n",
	      f);
}

/* The value of `--name VALUE` or `--name=VALUE`; NULL when argv[*i] is not that option. */
static const char *option_value(int argc, char **argv, int *i, const char *name, int *missing)
{
	size_t n = strlen(name);
	const char *arg = argv[*i];
	if (strncmp(arg, name, n) != 0)
		return NULL;
	if (arg[n] == '=')
		return arg + n + 1;
	if (arg[n] != 0)
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

int parse_args(int argc, char **argv, struct agent_args *a, char *err, size_t errlen)
{
	const char *address = NULL;
	int options_done = 0;
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *v;
		int missing = 0;
		if (options_done || arg[0] != '-' || arg[1] == 0) {
			if (address) {
				snprintf(err, errlen, "unexpected argument '%s' (one device address only)", arg);
				return -1;
			}
			address = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			options_done = 1;
		} else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			print_help(stdout);
			return 1;
		} else if (strcmp(arg, "--version") == 0) {
			printf("ismkit-agent %s (wire protocol 1)\n", AGENT_VERSION);
			return 1;
		} else if ((v = option_value(argc, argv, &i, "--allow-write", &missing))) {
			char why[256];
			if (a->allow.n == AGENT_MAX_RANGES) {
				snprintf(err, errlen, "--allow-write: at most %d ranges", AGENT_MAX_RANGES);
				return -1;
			}
			if (parse_allow_range(v, &a->allow.r[a->allow.n], why, sizeof(why))) {
				snprintf(err, errlen, "--allow-write %s", why);
				return -1;
			}
			a->allow.n++;
		} else if ((v = option_value(argc, argv, &i, "--journal", &missing))) {
			a->journal = v;
		} else if ((v = option_value(argc, argv, &i, "--port", &missing))) {
			a->port = v;
		} else {
			snprintf(err, errlen, missing ? "%s needs a value" : "unknown option '%s' (see --help)", arg);
			return -1;
		}
		if (missing) {
			snprintf(err, errlen, "%s needs a value", arg);
			return -1;
		}
	}
	if (!address) {
		snprintf(err, errlen, "missing the device address DDDD:BB:DD.F (see --help)");
		return -1;
	}
	if (parse_pci_address(address, &a->address)) {
		snprintf(err, errlen, "'%s' is not a PCI address (expected DDDD:BB:DD.F, for example 0000:00:01.0)",
			 address);
		return -1;
	}
	return 0;
}
