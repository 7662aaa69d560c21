/* SPDX-License-Identifier: BSD-3-Clause
 * Small operations on mbuf chains that the layers above TCP share: split a
 * chain at a segment boundary, drop a consumed first segment, append bytes.
 */
#ifndef WG_CHAIN_H
#define WG_CHAIN_H

#include <errno.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_memcpy.h>

/* Split chain m after its leading segments that hold at most max bytes:
 * returns the rest (m keeps the head), NULL when all of m fits, or m itself
 * when even its first segment is bigger. */
static inline struct rte_mbuf *
wg_chain_split(struct rte_mbuf *m, uint32_t max)
{
	struct rte_mbuf *last = NULL, *s, *rest;
	uint32_t n = 0;
	uint16_t segs = 0;

	for (s = m; s != NULL && n + s->data_len <= max; s = s->next) {
		n += s->data_len;
		segs++;
		last = s;
	}
	if (last == NULL)
		return m;
	rest = last->next;
	if (rest == NULL)
		return NULL;
	last->next = NULL;
	rest->pkt_len = m->pkt_len - n;
	rest->nb_segs = (uint16_t)(m->nb_segs - segs);
	m->pkt_len = n;
	m->nb_segs = segs;
	return rest;
}

/* Free the first segment of chain m; returns the rest as a chain (NULL). */
static inline struct rte_mbuf *
wg_chain_pop(struct rte_mbuf *m)
{
	struct rte_mbuf *rest = m->next;

	if (rest != NULL) {
		rest->pkt_len = m->pkt_len - m->data_len;
		rest->nb_segs = (uint16_t)(m->nb_segs - 1);
	}
	m->next = NULL;
	m->nb_segs = 1;
	m->pkt_len = m->data_len;
	rte_pktmbuf_free_seg(m);
	return rest;
}

/* Append len bytes to the chain at *head (NULL starts one), taking new
 * segments from pool. 0 or -ENOMEM (what was appended stays). */
static inline int
wg_chain_append(struct rte_mbuf **head, struct rte_mempool *pool, const void *p, uint32_t len)
{
	const uint8_t *src = p;

	while (len > 0) {
		struct rte_mbuf *last = *head != NULL ? rte_pktmbuf_lastseg(*head) : NULL;
		uint16_t room = last != NULL ? rte_pktmbuf_tailroom(last) : 0;
		uint16_t n;
		char *dst;

		if (room == 0) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

			if (m == NULL)
				return -ENOMEM;
			if (*head == NULL) {
				*head = m;
			} else if (rte_pktmbuf_chain(*head, m) != 0) {
				rte_pktmbuf_free(m);
				return -ENOMEM;
			}
			continue;
		}
		n = (uint16_t)RTE_MIN((uint32_t)room, len);
		dst = rte_pktmbuf_append(*head, n);
		rte_memcpy(dst, src, n);
		src += n;
		len -= n;
	}
	return 0;
}

#endif /* WG_CHAIN_H */
