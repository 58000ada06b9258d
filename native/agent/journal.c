/* journal.c: the agent's write journal, in WriteJournal.swift's text form (W and P lines, E trailer). */
#include "agent.h"

#include <errno.h>
#include <unistd.h>

/* DeviceContents.patternByte: (pattern + i*37) ^ (i >> 8), all modulo 256. */
unsigned char pattern_byte(unsigned char pattern, size_t i)
{
	return (unsigned char)((unsigned char)(pattern + (unsigned char)(i * 37)) ^ (unsigned char)(i >> 8));
}

int journal_open(struct journal *j, const char *path)
{
	j->entries = j->bytes = 0;
	j->f = NULL;
	if (!path)
		return 0;
	j->f = fopen(path, "w");
	if (!j->f)
		return -errno;
	setvbuf(j->f, NULL, _IOFBF, 1 << 16);
	fputs("ismkit-write-journal 1\n", j->f);
	return 0;
}

void journal_record(struct journal *j, uint32_t region, uint64_t position, const unsigned char *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	if (n == 0)
		return;
	j->entries++;
	j->bytes += n;
	if (!j->f)
		return;
	size_t i = 1;
	while (i < n && b[i] == pattern_byte(b[0], i))
		i++;
	if (i == n) {
		fprintf(j->f, "P %u %llx %zu %u\n", (unsigned)region, (unsigned long long)position, n, (unsigned)b[0]);
		return;
	}
	fprintf(j->f, "W %u %llx ", (unsigned)region, (unsigned long long)position);
	for (i = 0; i < n; i++) {
		putc(digits[b[i] >> 4], j->f);
		putc(digits[b[i] & 15], j->f);
	}
	putc('\n', j->f);
}

void journal_close(struct journal *j)
{
	if (!j->f)
		return;
	/* The trailer goes last: a journal cut short by a crash has none and is not mistaken for complete. */
	fflush(j->f);
	fprintf(j->f, "E %llu\n", (unsigned long long)j->entries);
	fflush(j->f);
	fsync(fileno(j->f));
	fclose(j->f);
	j->f = NULL;
}
