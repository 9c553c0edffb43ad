/*
 * rates.c - message and recipient counts over sliding windows, keyed by
 * client address, client network, AUTH user or sender, shared by all
 * sessions of the process and kept across rule reloads.
 *
 * Each counter splits its window into RATE_SLOTS slots; a count is the
 * sum of the slots that lie within the window ending now.  An event is
 * therefore forgotten between (1 - 1/RATE_SLOTS) and 1 window after it
 * happened.  Counters are found through a uthash table; idle ones are
 * swept out as the table is used.
 *
 * DIAGNOSTICS: when RATE_MAX_KEYS counters exist, new keys count as 0
 * and one warning is logged.
 * BUGS: none known.
 */

#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "policy_int.h"
#include "sw_log.h"

#define RATE_SLOTS	60
#define RATE_MAX_KEYS	1000000		/* about 1 GB at worst; bounded */
#define RATE_SWEEP_EVERY 4096		/* adds between idle sweeps */

struct rate_counter {
	UT_hash_handle	 hh;
	int64_t		 rc_last_slot;	/* absolute slot of the newest */
	int64_t		 rc_window_us;
	uint64_t	 rc_slots[RATE_SLOTS];
	char		 rc_key[];	/* "unit/window/keytype/value" */
};

static pthread_mutex_t rates_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rate_counter *rates_table;
static size_t	rates_nkeys;
static unsigned	rates_adds;
static int	rates_full_logged;

/* counter_key - the table key of a rate spec and value */

static int
counter_key(const struct pol_rate *r, const char *value, char *buf,
    size_t bufsize)
{
	int	 n = snprintf(buf, bufsize, "%d/%lld/%d/%s", r->pr_recipients,
	    (long long)r->pr_window_us, (int)r->pr_key, value);

	return n > 0 && (size_t)n < bufsize ? n : -1;
}

/* advance - move a counter's slots forward to the slot of now */

static void
advance(struct rate_counter *c, int64_t slot)
{
	int64_t	 s;

	if (slot <= c->rc_last_slot)
		return;
	if (slot - c->rc_last_slot >= RATE_SLOTS)
		memset(c->rc_slots, 0, sizeof c->rc_slots);
	else
		for (s = c->rc_last_slot + 1; s <= slot; s++)
			c->rc_slots[s % RATE_SLOTS] = 0;
	c->rc_last_slot = slot;
}

static int64_t
slot_of(int64_t window_us, int64_t now_us)
{
	int64_t	 width = window_us / RATE_SLOTS;

	return now_us / (width > 0 ? width : 1);
}

/* sweep - drop counters idle for a whole window */

static void
sweep(int64_t now_us)
{
	struct rate_counter *c, *tmp;

	HASH_ITER(hh, rates_table, c, tmp) {
		if (slot_of(c->rc_window_us, now_us) - c->rc_last_slot >=
		    RATE_SLOTS) {
			HASH_DEL(rates_table, c);
			free(c);
			rates_nkeys--;
		}
	}
}

/* rates_count - events in the window that ends now */

uint64_t
rates_count(const struct pol_rate *r, const char *value, int64_t now_us)
{
	struct rate_counter *c;
	char	 key[600];
	uint64_t sum = 0;
	int	 i, len;

	if ((len = counter_key(r, value, key, sizeof key)) < 0)
		return 0;
	pthread_mutex_lock(&rates_lock);
	HASH_FIND(hh, rates_table, key, (unsigned)len, c);
	if (c != NULL) {
		advance(c, slot_of(r->pr_window_us, now_us));
		for (i = 0; i < RATE_SLOTS; i++)
			sum += c->rc_slots[i];
	}
	pthread_mutex_unlock(&rates_lock);
	return sum;
}

/* rates_add - count n events now */

void
rates_add(const struct pol_rate *r, const char *value, int64_t now_us,
    uint64_t n)
{
	struct rate_counter *c;
	char	 key[600];
	int64_t	 slot = slot_of(r->pr_window_us, now_us);
	int	 len;

	if (n == 0 || (len = counter_key(r, value, key, sizeof key)) < 0)
		return;
	pthread_mutex_lock(&rates_lock);
	if (++rates_adds % RATE_SWEEP_EVERY == 0)
		sweep(now_us);
	HASH_FIND(hh, rates_table, key, (unsigned)len, c);
	if (c == NULL) {
		if (rates_nkeys >= RATE_MAX_KEYS ||
		    (c = calloc(1, sizeof *c + (size_t)len + 1)) == NULL) {
			if (!rates_full_logged++)
				sw_warn(0, "rates-full keys=%zu (new keys count "
				    "as 0 until old ones expire)", rates_nkeys);
			pthread_mutex_unlock(&rates_lock);
			return;
		}
		memcpy(c->rc_key, key, (size_t)len + 1);
		c->rc_window_us = r->pr_window_us;
		c->rc_last_slot = slot;
		HASH_ADD(hh, rates_table, rc_key, (unsigned)len, c);
		rates_nkeys++;
	}
	advance(c, slot);
	c->rc_slots[slot % RATE_SLOTS] += n;
	pthread_mutex_unlock(&rates_lock);
}

/* rates_reset - forget every counter (tests) */

void
rates_reset(void)
{
	struct rate_counter *c, *tmp;

	pthread_mutex_lock(&rates_lock);
	HASH_ITER(hh, rates_table, c, tmp) {
		HASH_DEL(rates_table, c);
		free(c);
	}
	rates_nkeys = 0;
	rates_full_logged = 0;
	pthread_mutex_unlock(&rates_lock);
}
