/* SPDX-License-Identifier: BSD-3-Clause
 * Registry slot bookkeeping shared by the dataplane and its secondaries.
 * Pure memory operations: no EAL calls, so tests drive it on a heap buffer.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <sys/types.h>
#include <fcntl.h>
#include <unistd.h>

#include "registry.h"

#ifndef WG_VERSION
#define WG_VERSION "dev"
#endif

int
wg_registry_init(struct wg_registry *reg, uint32_t n_slots, uint32_t n_workers,
		 uint32_t ring_size, uint64_t tsc_hz, uint32_t heartbeat_ms,
		 uint32_t dead_after_ms, uint32_t primary_pid)
{
	if (reg == NULL || n_slots == 0 || n_slots > WG_REG_MAX_SLOTS ||
	    n_workers == 0 || n_workers > WG_REG_MAX_WORKERS || tsc_hz == 0 ||
	    heartbeat_ms == 0 || dead_after_ms <= heartbeat_ms)
		return -EINVAL;

	memset(reg, 0, sizeof(*reg));
	reg->version = WG_REG_VERSION;
	reg->primary_pid = primary_pid;
	reg->n_slots = n_slots;
	reg->n_workers = n_workers;
	reg->ring_size = ring_size;
	reg->tsc_hz = tsc_hz;
	reg->heartbeat_ms = heartbeat_ms;
	reg->dead_after_ms = dead_after_ms;
	snprintf(reg->build_version, sizeof(reg->build_version), "%s", WG_VERSION);
	/* magic last: a secondary that sees it sees a complete registry */
	__atomic_store_n(&reg->magic, WG_REG_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

int
wg_registry_check(const struct wg_registry *reg)
{
	if (reg == NULL)
		return -EINVAL;
	if (__atomic_load_n(&reg->magic, __ATOMIC_ACQUIRE) != WG_REG_MAGIC ||
	    reg->version != WG_REG_VERSION)
		return -EPROTO;
	if (reg->n_slots == 0 || reg->n_slots > WG_REG_MAX_SLOTS ||
	    reg->n_workers == 0 || reg->n_workers > WG_REG_MAX_WORKERS)
		return -EINVAL;
	return 0;
}

bool
wg_pid_alive(uint32_t pid)
{
	char path[32], buf[256], *p;
	ssize_t n;
	int fd;

	if (pid == 0)
		return false;
	if (kill((pid_t)pid, 0) != 0 && errno != EPERM)
		return false;
	/* a killed secondary stays a zombie until its launcher reaps it, but
	 * its mappings are already gone: that is dead for us */
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno != ENOENT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	p = strrchr(buf, ')');   /* comm may hold spaces and parentheses */
	if (p == NULL || p[1] != ' ')
		return true;
	return p[2] != 'Z' && p[2] != 'X';
}

/* Claims are rare and made only by secondaries, so one registry-wide lock
 * keeps "look for my identity, else take a free slot" atomic. The lock holds
 * the owner's pid so a claimer killed inside it cannot wedge the others. */
static void
claim_lock(struct wg_registry *reg, uint32_t pid)
{
	for (;;) {
		uint32_t owner = 0;

		if (__atomic_compare_exchange_n(&reg->claim_lock, &owner, pid, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		if (owner != pid && !wg_pid_alive(owner))
			__atomic_compare_exchange_n(&reg->claim_lock, &owner, 0, false,
						    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		sched_yield();
	}
}

static void
claim_unlock(struct wg_registry *reg)
{
	__atomic_store_n(&reg->claim_lock, 0, __ATOMIC_RELEASE);
}

static void
slot_take(struct wg_slot *s, uint32_t kind, uint32_t index, uint32_t lcore_id,
	  uint32_t pid)
{
	s->kind = kind;
	s->index = index;
	s->pid = pid;
	s->lcore_id = lcore_id;
	s->generation++;
	__atomic_store_n(&s->heartbeat, 0, __ATOMIC_RELAXED);
	wg_slot_set_state(s, WG_SLOT_ATTACHING);
}

int
wg_registry_claim(struct wg_registry *reg, uint32_t kind, uint32_t index,
		  uint32_t lcore_id, uint32_t pid)
{
	int free_slot = -1;
	int ret = -ENOSPC;
	unsigned int i;

	if (reg == NULL || pid == 0 || (kind != WG_KIND_CONTROL && kind != WG_KIND_LOGIC))
		return -EINVAL;

	claim_lock(reg, pid);
	for (i = 0; i < reg->n_slots; i++) {
		struct wg_slot *s = &reg->slots[i];
		uint32_t st = wg_slot_state(s);

		if (st == WG_SLOT_FREE) {
			if (free_slot < 0)
				free_slot = (int)i;
			continue;
		}
		if (s->kind != kind || s->index != index)
			continue;
		switch (st) {
		case WG_SLOT_VACANT:
			slot_take(s, kind, index, lcore_id, pid);
			ret = (int)i;
			goto out;
		case WG_SLOT_ATTACHING:
		case WG_SLOT_ALIVE:
			/* a dead holder is reclaimed by the monitor first, so
			 * its stale ring contents never reach the newcomer */
			ret = wg_pid_alive(s->pid) ? -EEXIST : -EAGAIN;
			goto out;
		default: /* DEAD: rings being drained */
			ret = -EAGAIN;
			goto out;
		}
	}
	if (free_slot >= 0) {
		slot_take(&reg->slots[free_slot], kind, index, lcore_id, pid);
		ret = free_slot;
	}
out:
	claim_unlock(reg);
	return ret;
}

void
wg_registry_leave(struct wg_registry *reg, unsigned int slot, uint32_t generation)
{
	struct wg_slot *s;
	uint32_t st;

	if (reg == NULL || slot >= reg->n_slots)
		return;
	s = &reg->slots[slot];
	if (s->generation != generation)
		return;
	/* pid 0 tells the monitor nobody is left to fence */
	__atomic_store_n(&s->pid, 0, __ATOMIC_RELEASE);
	st = wg_slot_state(s);
	if (st == WG_SLOT_ATTACHING || st == WG_SLOT_ALIVE)
		__atomic_compare_exchange_n(&s->state, &st, WG_SLOT_DEAD, false,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

int
wg_registry_find(const struct wg_registry *reg, uint32_t kind, uint32_t index)
{
	unsigned int i;

	for (i = 0; i < reg->n_slots; i++) {
		const struct wg_slot *s = &reg->slots[i];

		if (wg_slot_alive(s) && s->kind == kind && s->index == index)
			return (int)i;
	}
	return -ENOENT;
}

int
wg_ring_name(char *buf, size_t len, bool to_dataplane, unsigned int slot,
	     unsigned int worker)
{
	if (to_dataplane)
		return snprintf(buf, len, "wg_i%u_dp_%u", slot, worker);
	return snprintf(buf, len, "wg_dp_i%u_%u", slot, worker);
}

const char *
wg_slot_state_name(uint32_t state)
{
	static const char *const names[] = {
		[WG_SLOT_FREE] = "free",
		[WG_SLOT_ATTACHING] = "attaching",
		[WG_SLOT_ALIVE] = "alive",
		[WG_SLOT_DEAD] = "dead",
		[WG_SLOT_VACANT] = "vacant",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

const char *
wg_kind_name(uint32_t kind)
{
	switch (kind) {
	case WG_KIND_CONTROL:
		return "control";
	case WG_KIND_LOGIC:
		return "logic";
	default:
		return "none";
	}
}

void
wg_registry_dump(FILE *f, const struct wg_registry *reg)
{
	unsigned int i;

	fprintf(f, "registry v%u primary pid %u, %u slots, %u workers, heartbeat %u ms, dead after %u ms\n",
		reg->version, reg->primary_pid, reg->n_slots, reg->n_workers,
		reg->heartbeat_ms, reg->dead_after_ms);
	for (i = 0; i < reg->n_slots; i++) {
		const struct wg_slot *s = &reg->slots[i];
		uint32_t st = wg_slot_state(s);

		if (st == WG_SLOT_FREE)
			continue;
		fprintf(f, "  slot %2u %-7s %-2u %-9s pid %-7u gen %-4u lcore %-3u beats %-8llu attaches %u deaths %u drained %llu\n",
			i, wg_kind_name(s->kind), s->index, wg_slot_state_name(st),
			s->pid, s->generation, s->lcore_id,
			(unsigned long long)s->heartbeat, s->attaches, s->deaths,
			(unsigned long long)s->drained);
	}
}
