// SPDX-License-Identifier: GPL-2.0
/*
 * memsample INTERVAL_MS: the peak memory of a boot, for scripts/bench.py.
 *
 * Reads /proc/meminfo and /proc/zoneinfo every INTERVAL_MS milliseconds and
 * keeps the minimum of MemAvailable + pcp and the maximum of Shmem, where pcp
 * is the free pages held on the per-CPU lists (the "count:" of the pagesets in
 * /proc/zoneinfo). MemFree, and so MemAvailable, does not count those: right
 * after boot they hold the freed initrd, tens of MiB, and the first
 * allocations come from them without MemFree moving. On SIGUSR1 it prints
 *
 *   BENCH peak samples=N total_kb=T min_avail_kb=A max_shmem_kb=S
 *
 * and exits; A includes pcp. /proc/meminfo and /proc/zoneinfo are opened once
 * and re-read with pread(), so the sampler keeps working after /init has moved
 * /proc, switched roots and deleted the initramfs it was started from (busybox
 * switch_root).
 * Built statically by scripts/mkinitramfs.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t report;

static void on_usr1(int sig)
{
	(void)sig;
	report = 1;
}

/* Reads all of the file open at FD into BUF (size LEN); returns its length. */
static size_t slurp(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	while (n < len - 1 && (r = pread(fd, buf + n, len - 1 - n, n)) > 0)
		n += r;
	buf[n] = '\0';
	return n;
}

/* The free pages on the per-CPU lists, in kB, from /proc/zoneinfo. */
static long pcp_kb(const char *buf)
{
	const char *p = buf;
	long pages = 0;

	while ((p = strstr(p, "count: "))) {
		p += strlen("count: ");
		pages += strtol(p, NULL, 10);
	}
	return pages * (sysconf(_SC_PAGESIZE) / 1024);
}

/* The value in kB of the meminfo line starting with KEY, or -1. */
static long field(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

int main(int argc, char **argv)
{
	long total = -1, min_avail = -1, max_shmem = -1, samples = 0;
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct timespec ts;
	static char buf[8192], zbuf[65536];
	int fd, zfd;
	long ms;

	if (argc != 2 || (ms = strtol(argv[1], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: memsample INTERVAL_MS\n");
		return 2;
	}
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	zfd = open("/proc/zoneinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || zfd < 0) {
		printf("BENCH peak error=%s\n", strerror(errno));
		return 1;
	}
	sigaction(SIGUSR1, &sa, NULL);
	while (!report) {
		long avail, shmem, pcp;

		pcp = slurp(zfd, zbuf, sizeof(zbuf)) ? pcp_kb(zbuf) : 0;
		if (slurp(fd, buf, sizeof(buf))) {
			total = field(buf, "MemTotal:");
			avail = field(buf, "MemAvailable:") + pcp;
			shmem = field(buf, "Shmem:");
			if (avail >= 0 && (min_avail < 0 || avail < min_avail))
				min_avail = avail;
			if (shmem > max_shmem)
				max_shmem = shmem;
			samples++;
		}
		nanosleep(&ts, NULL);
	}
	printf("BENCH peak samples=%ld total_kb=%ld min_avail_kb=%ld max_shmem_kb=%ld\n",
	       samples, total, min_avail, max_shmem);
	fflush(stdout);
	return 0;
}
