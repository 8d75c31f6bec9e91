// SPDX-License-Identifier: GPL-2.0
/*
 * Two ways out of a container root, run inside a container that has
 * CAP_SYS_CHROOT and CAP_SYS_ADMIN; each looks for the initramfs marker.
 *
 *  chroot: the classic escape. chroot into a subdirectory while the working
 *          directory stays outside it, climb with chdir(".."), chroot there.
 *          ".." never leaves a mount that sits on the root of another mount,
 *          so it ends at the container root both after pivot_root and after
 *          --no-pivot's MS_MOVE onto "/": the control.
 *  setns:  detach the container root (umount2("/", MNT_DETACH)) and re-enter
 *          the own mount namespace, which puts root and cwd on the top of the
 *          namespace root. After pivot_root (and the runtime's detach of the
 *          old root) that is what lies below the container: nothing of the
 *          initramfs. After --no-pivot it is the initramfs.
 *
 * Prints "escape-root WAY ENTRIES" and "escape-marker WAY reachable|unreachable"
 * (or "escape-error WAY ..."). One process per way, no exec: a shell's chroot
 * would chdir("/"). Built statically by scripts/mkinitramfs.sh.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MARKER "/etc/nri-initramfs-marker"

static int fail(const char *way, const char *what)
{
	printf("escape-error %s %s: %s\n", way, what, strerror(errno));
	return 2;
}

static int look(const char *way)
{
	struct stat st;
	struct dirent *e;
	DIR *d;

	printf("escape-root %s", way);
	d = opendir("/");
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			printf(" %s", e->d_name);
	if (d)
		closedir(d);
	printf("\nescape-marker %s %s\n", way, stat(MARKER, &st) ? "unreachable" : "reachable");
	return 0;
}

static int by_chroot(const char *dir)
{
	int i;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return fail("chroot", "mkdir");
	if (chdir("/") || chroot(dir))
		return fail("chroot", "chroot dir");
	/* The working directory is now outside the root: ".." is not capped. */
	for (i = 0; i < 64; i++)
		if (chdir(".."))
			return fail("chroot", "chdir ..");
	if (chroot("."))
		return fail("chroot", "chroot .");
	return look("chroot");
}

static int by_setns(const char *unused)
{
	int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);

	(void)unused;
	if (ns < 0)
		return fail("setns", "open /proc/self/ns/mnt");
	if (umount2("/", MNT_DETACH))
		return fail("setns", "umount /");
	if (setns(ns, CLONE_NEWNS))
		return fail("setns", "setns");
	return look("setns");
}

/* Run one way in a child of its own, so that the other starts afresh. */
static void run(int (*fn)(const char *), const char *arg)
{
	int st;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		st = fn(arg);
		fflush(stdout);
		_exit(st);
	}
	if (pid > 0)
		waitpid(pid, &st, 0);
}

int main(int argc, char **argv)
{
	run(by_chroot, argc > 1 ? argv[1] : "/tmp/nri-escape");
	run(by_setns, NULL);
	return 0;
}
