/* guard.c: where a kernel offset lands (as RegionOffsetMap.locate) and the write guard. */
#include "agent.h"

void region_map_finish(struct region_map *m)
{
	m->span = UINT64_MAX;
	for (int i = 0; i < m->n; i++)
		for (int j = 0; j < m->n; j++)
			if (m->r[j].offset > m->r[i].offset && m->r[j].offset - m->r[i].offset < m->span)
				m->span = m->r[j].offset - m->r[i].offset;
}

const struct region *region_locate(const struct region_map *m, uint64_t offset, uint64_t *pos)
{
	const struct region *best = NULL;
	for (int i = 0; i < m->n; i++)
		if (m->r[i].offset <= offset && (!best || m->r[i].offset > best->offset))
			best = &m->r[i];
	if (!best || offset - best->offset >= m->span)
		return NULL;
	*pos = offset - best->offset;
	return best;
}

int allow_list_allows(const struct allow_list *l, uint32_t region, uint64_t position, uint64_t count)
{
	if (count == 0)
		return 1;
	if (position > UINT64_MAX - (count - 1))
		return 0;
	uint64_t end = position + (count - 1);
	for (int i = 0; i < l->n; i++)
		if (l->r[i].region == region && l->r[i].first <= position && end <= l->r[i].last)
			return 1;
	return 0;
}

int permits_write(const struct region_map *m, const struct allow_list *l, uint64_t offset, uint64_t count)
{
#ifdef ISMKIT_AGENT_MUTANT_NO_GUARD
	/* A deliberately broken guard, built only to show that the checks catch it. */
	(void)m;
	(void)l;
	(void)offset;
	(void)count;
	return 1;
#else
	uint64_t pos;
	if (count == 0)
		return 1;
	if (offset >> 63)
		return 0;
	const struct region *r = region_locate(m, offset, &pos);
	if (!r)
		return 0;
	/* Only the bytes the kernel can transfer count: the write is clamped to the region size. */
	uint64_t landing = pos < r->size ? (count < r->size - pos ? count : r->size - pos) : count;
	return allow_list_allows(l, r->index, pos, landing);
#endif
}
