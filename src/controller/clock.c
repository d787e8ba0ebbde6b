/* The real clock and a fake one for tests. The fake clock's waits have no
 * timeout of their own: sl_clock_fake_advance() broadcasts every attached
 * condition variable, and the waiter re-reads the time. Advance sets the
 * time before taking each attached mutex, and a waiter reads the time with
 * its mutex held before waiting on the cond, so no wake-up is lost. */
#include <stdatomic.h>
#include <time.h>

#include "controller/controller.h"

struct attached {
	pthread_mutex_t *mu;
	pthread_cond_t *cond;
};

struct sl_clock {
	bool fake;
	_Atomic int64_t mono_ns;
	_Atomic int64_t wall_s;
	pthread_mutex_t mu; /* guards the attached list */
	struct attached *attached;
	size_t n_attached, cap_attached;
};

static struct sl_clock real_clock = {.fake = false};

struct sl_clock *sl_clock_real(void)
{
	return &real_clock;
}

static struct sl_clock *resolve(struct sl_clock *c)
{
	return c ? c : &real_clock;
}

struct sl_clock *sl_clock_fake_new(int64_t mono_ns, int64_t wall_s)
{
	struct sl_clock *c = sl_xcalloc(1, sizeof(*c));
	c->fake = true;
	atomic_init(&c->mono_ns, mono_ns);
	atomic_init(&c->wall_s, wall_s);
	pthread_mutex_init(&c->mu, NULL);
	return c;
}

void sl_clock_free(struct sl_clock *c)
{
	if (!c || !c->fake)
		return;
	pthread_mutex_destroy(&c->mu);
	free(c->attached);
	free(c);
}

void sl_clock_fake_advance(struct sl_clock *c, int64_t ns)
{
	if (!c || !c->fake || ns < 0)
		return;
	pthread_mutex_lock(&c->mu);
	int64_t before = atomic_fetch_add(&c->mono_ns, ns);
	/* The wall clock follows in whole seconds, as the monotonic one crosses
	 * second boundaries. */
	int64_t secs = (before + ns) / SL_NS_PER_S - before / SL_NS_PER_S;
	atomic_fetch_add(&c->wall_s, secs);
	for (size_t i = 0; i < c->n_attached; i++) {
		pthread_mutex_lock(c->attached[i].mu);
		pthread_cond_broadcast(c->attached[i].cond);
		pthread_mutex_unlock(c->attached[i].mu);
	}
	pthread_mutex_unlock(&c->mu);
}

int64_t sl_clock_now_ns(struct sl_clock *c)
{
	c = resolve(c);
	if (c->fake)
		return atomic_load(&c->mono_ns);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * SL_NS_PER_S + ts.tv_nsec;
}

int64_t sl_clock_wall_s(struct sl_clock *c)
{
	c = resolve(c);
	if (c->fake)
		return atomic_load(&c->wall_s);
	return (int64_t)time(NULL);
}

void sl_clock_rfc3339(struct sl_clock *c, char out[SL_RFC3339_LEN])
{
	time_t t = (time_t)sl_clock_wall_s(c);
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		snprintf(out, SL_RFC3339_LEN, "1970-01-01T00:00:00Z");
		return;
	}
	strftime(out, SL_RFC3339_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void sl_clock_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

void sl_clock_wait_until(struct sl_clock *c, pthread_cond_t *cond, pthread_mutex_t *mu,
                         int64_t deadline_ns)
{
	c = resolve(c);
	if (deadline_ns != SL_DEADLINE_NONE && sl_clock_now_ns(c) >= deadline_ns)
		return;
	if (c->fake || deadline_ns == SL_DEADLINE_NONE) {
		pthread_cond_wait(cond, mu);
		return;
	}
	struct timespec ts = {
	    .tv_sec = (time_t)(deadline_ns / SL_NS_PER_S),
	    .tv_nsec = (long)(deadline_ns % SL_NS_PER_S),
	};
	pthread_cond_timedwait(cond, mu, &ts);
}

void sl_clock_attach(struct sl_clock *c, pthread_mutex_t *mu, pthread_cond_t *cond)
{
	if (!c || !c->fake)
		return;
	pthread_mutex_lock(&c->mu);
	if (c->n_attached == c->cap_attached) {
		c->cap_attached = c->cap_attached ? 2 * c->cap_attached : 8;
		c->attached = sl_xrealloc(c->attached, c->cap_attached * sizeof(*c->attached));
	}
	c->attached[c->n_attached++] = (struct attached){mu, cond};
	pthread_mutex_unlock(&c->mu);
}

void sl_clock_detach(struct sl_clock *c, pthread_cond_t *cond)
{
	if (!c || !c->fake)
		return;
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->n_attached; i++) {
		if (c->attached[i].cond == cond) {
			c->attached[i] = c->attached[--c->n_attached];
			break;
		}
	}
	pthread_mutex_unlock(&c->mu);
}
