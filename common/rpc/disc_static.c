/* SPDX-License-Identifier: BSD-3-Clause
 * Static discovery backend: one text file (format in disc.h). Registering
 * rewrites the file (flock on "<path>.lock", write a temp file, rename), so
 * several processes can share it. Leases are not enforced: a record stays
 * until it is deregistered or edited out (heartbeats are no-ops).
 *
 * Watching: an inotify watch on the directory wakes the poll when the file
 * is written, renamed over or removed; every poll also compares the file's
 * identity (inode, size, mtime) so a missed wake-up costs at most one poll.
 * A file that does not parse keeps the previous view (and counts an error).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disc.h"
#include "rpc_impl.h"

#define MAX_FILE (16u << 20)

struct sfile {
	char path[PATH_MAX];
	int ifd;                          /* inotify, -1 if unavailable */
	bool have_id;
	struct stat last;
	bool loaded_once;
};

/* Whole file in a NUL-terminated buffer; -ENOENT if missing. */
static int
read_all(const char *path, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if ((size_t)st.st_size > MAX_FILE) {
		rc = -EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
out:
	close(fd);
	return rc;
}

static int
s_open(struct wg_disc *d, const struct wg_disc_conf *conf)
{
	struct sfile *s;
	const char *slash;
	char dir[PATH_MAX];

	if (conf->path == NULL || strlen(conf->path) >= sizeof(s->path) - 16)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	snprintf(s->path, sizeof(s->path), "%s", conf->path);
	slash = strrchr(s->path, '/');
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - s->path + 1), s->path);
	else
		snprintf(dir, sizeof(dir), ".");
	s->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->ifd >= 0 &&
	    inotify_add_watch(s->ifd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE |
			      IN_CREATE | IN_MODIFY) < 0) {
		close(s->ifd);
		s->ifd = -1;
	}
	wg_disc_set_backend(d, s);
	return 0;
}

static void
s_close(struct wg_disc *d)
{
	struct sfile *s = wg_disc_backend(d);

	if (s->ifd >= 0)
		close(s->ifd);
	free(s);
}

struct collect {
	const char *service;
	struct wg_disc_instance *v;
	unsigned int n, cap;
};

static int
collect_one(void *arg, const struct wg_disc_instance *in)
{
	struct collect *c = arg;

	if (strcmp(in->service, c->service) != 0)
		return 0;
	if (c->n == c->cap) {
		unsigned int cap = c->cap ? c->cap * 2 : 16;
		struct wg_disc_instance *v = realloc(c->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = *in;
	return 0;
}

/* Re-read the file and hand one snapshot per watched service (or just
 * `only`) to the core. */
static int
load(struct wg_disc *d, struct sfile *s, const char *only)
{
	const char *names[64];
	unsigned int nw, i;
	char *buf = NULL, err[128];
	size_t len = 0;
	int rc;

	rc = read_all(s->path, &buf, &len);
	if (rc == -ENOENT) {
		buf = NULL;
		len = 0;
	} else if (rc < 0) {
		wg_disc_count_error(d);
		return rc;
	}
	rc = wg_disc_parse_static(buf ? buf : "", len, NULL, NULL, err, sizeof(err));
	if (rc < 0) {
		RPC_LOG(WARN, "disc: parsing [%s:%s]", s->path, err);
		wg_disc_count_error(d);
		free(buf);
		return rc;
	}
	nw = wg_disc_watched(d, names, 64);
	for (i = 0; i < nw && i < 64; i++) {
		struct collect c = { .service = names[i] };

		if (only && strcmp(only, names[i]) != 0)
			continue;
		rc = wg_disc_parse_static(buf ? buf : "", len, collect_one, &c, NULL, 0);
		if (rc == 0)
			wg_disc_snapshot(d, names[i], c.v, c.n);
		free(c.v);
	}
	free(buf);
	wg_disc_count(d, WG_DISC_C_RESYNC);
	return 0;
}

/* The file's identity changed since the last load? */
static bool
changed(struct sfile *s)
{
	struct stat st;
	bool have = stat(s->path, &st) == 0;
	bool diff;

	if (!have)
		memset(&st, 0, sizeof(st));
	diff = have != s->have_id || st.st_ino != s->last.st_ino ||
	       st.st_size != s->last.st_size ||
	       st.st_mtim.tv_sec != s->last.st_mtim.tv_sec ||
	       st.st_mtim.tv_nsec != s->last.st_mtim.tv_nsec;
	s->have_id = have;
	s->last = st;
	return diff;
}

/* Rewrite the file with (service, id) replaced by in (NULL: removed). */
static int
rewrite(struct sfile *s, const char *service, const char *id,
	const struct wg_disc_instance *in)
{
	char lockp[PATH_MAX + 8], tmpp[PATH_MAX + 32], line[1024];
	char *buf = NULL, *p, *end;
	size_t len = 0;
	bool found = false;
	FILE *out = NULL;
	int lfd, rc;

	snprintf(lockp, sizeof(lockp), "%s.lock", s->path);
	snprintf(tmpp, sizeof(tmpp), "%s.tmp.%d", s->path, (int)getpid());
	lfd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lfd < 0)
		return -errno;
	if (flock(lfd, LOCK_EX) < 0) {
		rc = -errno;
		goto out;
	}
	rc = read_all(s->path, &buf, &len);
	if (rc < 0 && rc != -ENOENT)
		goto out;
	rc = 0;
	out = fopen(tmpp, "we");
	if (out == NULL) {
		rc = -errno;
		goto out;
	}
	/* Keep every other line verbatim (comments included). */
	for (p = buf, end = buf ? buf + len : NULL; p && p < end;) {
		char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		struct collect c = { .service = service };
		bool mine = false;

		if (wg_disc_parse_static(p, n, collect_one, &c, NULL, 0) == 0 && c.n == 1)
			mine = strcmp(c.v[0].id, id) == 0;
		free(c.v);
		if (mine && in && !found) {
			if (wg_disc_format_static(in, line, sizeof(line)) < 0) {
				rc = -ENOSPC;
				goto out;
			}
			fputs(line, out);
		}
		found |= mine;
		if (!mine) {
			fwrite(p, 1, n, out);
			fputc('\n', out);
		}
		p += n + 1;
	}
	if (!found && in) {
		if (wg_disc_format_static(in, line, sizeof(line)) < 0) {
			rc = -ENOSPC;
			goto out;
		}
		fputs(line, out);
	}
	if (fflush(out) != 0 || fsync(fileno(out)) != 0) {
		rc = -errno;
		goto out;
	}
	fclose(out);
	out = NULL;
	if (rename(tmpp, s->path) < 0)
		rc = -errno;
	else if (!found && in == NULL)
		rc = -ENOENT;
out:
	if (out) {
		fclose(out);
		unlink(tmpp);
	}
	free(buf);
	close(lfd);
	return rc;
}

static int
s_put(struct wg_disc *d, const struct wg_disc_instance *in, uint32_t ttl_ms)
{
	(void)ttl_ms;
	return rewrite(wg_disc_backend(d), in->service, in->id, in);
}

static int
s_refresh(struct wg_disc *d, const struct wg_disc_instance *in, uint32_t ttl_ms)
{
	(void)d;
	(void)in;
	(void)ttl_ms;
	return 0;
}

static int
s_del(struct wg_disc *d, const char *service, const char *id)
{
	return rewrite(wg_disc_backend(d), service, id, NULL);
}

static int
s_watch(struct wg_disc *d, const char *service)
{
	struct sfile *s = wg_disc_backend(d);

	if (!s->loaded_once) {
		changed(s);                /* remember the identity we load */
		s->loaded_once = true;
	}
	return load(d, s, service);
}

static int
s_poll(struct wg_disc *d, int timeout_ms)
{
	struct sfile *s = wg_disc_backend(d);
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd pfd;
	int work = 0;

	if (s->ifd >= 0) {
		pfd.fd = s->ifd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, timeout_ms) > 0)
			while (read(s->ifd, ev, sizeof(ev)) > 0)
				work++;      /* drained: stat decides */
	} else if (timeout_ms) {
		poll(NULL, 0, timeout_ms > 100 || timeout_ms < 0 ? 100 : timeout_ms);
	}
	if (s->loaded_once && changed(s)) {
		load(d, s, NULL);
		work++;
	}
	return work;
}

const struct wg_disc_ops wg_disc_static_ops = {
	.name = "static",
	.open = s_open,
	.close = s_close,
	.put = s_put,
	.refresh = s_refresh,
	.del = s_del,
	.watch = s_watch,
	.poll = s_poll,
};
