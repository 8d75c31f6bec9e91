// SPDX-License-Identifier: GPL-2.0
/*
 * pivot_root(2) from the root the kernel hands to /init.
 *
 * What: that pivot_root(2) works from the root the kernel hands to /init
 * when a machine runs from its initramfs, the way container runtimes use it,
 * and that the old root is then out of reach.
 *
 * Why: runc and crun start a container with pivot_root(2), which needs a
 * root that has a parent mount. The root of an initramfs used to be rootfs
 * itself, the root of the mount tree, where pivot_root(2) fails with EINVAL.
 * Since nullfs (Linux 7.0) rootfs sits on an empty nullfs; on 6.12 the
 * nonroot_initramfs boot parameter unpacks the initramfs into a tmpfs on top
 * of rootfs. No other selftest checks that pivot_root(2) works from that
 * root: the ones that call it do so as setup, from wherever they run.
 *
 * How: every test runs in a child of its own, in a private mount namespace
 * (unshare(CLONE_NEWNS), then MS_REC | MS_PRIVATE on "/"), and first pivots
 * into a new root in one of two ways, the variants:
 *
 *   tmpfs:   a tmpfs mounted on a new directory in the initial root,
 *            pivot_root(new, new/put_old), chdir("/"), and the old root
 *            detached: umount2("/put_old", MNT_DETACH).
 *   bundle:  as runc and crun do it: a rootfs directory in the initial root
 *            bind-mounted onto itself (MS_BIND | MS_REC), chdir() into it,
 *            pivot_root(".", "."), umount2(".", MNT_DETACH), chdir("/").
 *
 * Then it checks, as VARIANT.TEST in the TAP output:
 *
 *   pivot:                 pivot_root(2) succeeded, and "/" holds the files
 *                          of the new root and nothing else.
 *   unreachable_by_path:   a marker file, made in the initial root before the
 *                          pivot, cannot be reached by its path,
 *   unreachable_by_chroot: nor by the classic escape: chroot into a
 *                          subdirectory with the working directory left
 *                          outside, chdir("..") 64 times, chroot("."),
 *   unreachable_by_setns:  nor by detaching "/" (umount2("/", MNT_DETACH))
 *                          and setns() into the own mount namespace, which
 *                          puts root and working directory on the root mount
 *                          of the namespace: what lies below the new root.
 *                          That must be another file system than the initial
 *                          root's, and hold nothing but an empty /root: an
 *                          initramfs left in rootfs below everything fails.
 *
 * On a kernel where the initial root is rootfs itself (6.12 without
 * nonroot_initramfs) pivot_root(2) returns EINVAL, as that root has no
 * parent mount, and every test fails with the line
 *
 *   # the initial root is the root of the mount tree (rootfs): pivot_root(2) returns EINVAL
 *
 * when /proc/self/mountinfo shows the mount of "/" as its own parent. Every
 * failure prints the errno and the initial root's mount id, parent id and
 * fstype.
 *
 * Running it: as root (it skips otherwise), from /init or a child of it, or
 * anywhere in the initial mount namespace of a machine booted from its
 * initramfs with no root=: that tests the root the kernel hands to /init.
 * Where "/" is neither rootfs nor a tmpfs (a disk, a container), it skips:
 * passing there would say nothing about that root. The
 * marker and the bundle go into a directory pivot_root_test.XXXXXX in "/"
 * (in /tmp if "/" is read-only), removed after each test.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif

#define ROOTFS_EINVAL \
	"the initial root is the root of the mount tree (rootfs): pivot_root(2) returns EINVAL"

/* The only entry of the new root, in both variants. */
#define NEW_ROOT_FILE "new-root-file"
/* Where the chroot escape starts from, in the new root. */
#define ESCAPE_DIR "escape"
/* Seconds a test may take. */
#define TIMEOUT 30

/* The mount of the initial root, as /proc/self/mountinfo shows it. */
static struct root_info {
	bool found;		/* the mount of "/" is in the table */
	bool tree_root;		/* it is its own parent: the root of the tree */
	bool parent_shown;	/* its parent is in the table */
	int mnt_id;
	int parent_id;
	char fstype[64];
	char source[256];
	dev_t dev;		/* st_dev of "/" */
} root;

/* Made afresh in the initial root for each test, removed after it. */
static char dir[64];		/* pivot_root_test.XXXXXX */
static char marker[96];		/* dir/marker */
static char new_root[96];	/* dir/new or dir/bundle/rootfs */

/* In the test's child: its mount namespace; initial root shown on failure. */
static int mntns = -1;
static bool root_shown;

struct variant {
	const char *name;
	bool bundle;
};

struct test {
	const char *name;
	int (*fn)(const struct variant *v);
};

static int sys_pivot_root(const char *new, const char *put_old)
{
	return syscall(SYS_pivot_root, new, put_old);
}

/* "errno 22 (Invalid argument)"; one use per message. */
static const char *errstr(int err)
{
	static char buf[96];

	snprintf(buf, sizeof(buf), "errno %d (%s)", err, strerror(err));
	return buf;
}

/* Fill root from /proc/self/mountinfo: 0, or -1 with errno set. */
static int read_root_info(void)
{
	unsigned long long want = 0;
	char line[4096], mnt[4096];
	struct statx stx;
	struct stat st;
	int id, parent;
	FILE *f;

	if (stat("/", &st))
		return -1;
	root.dev = st.st_dev;
	/* The mount id of "/" tells it from mounts stacked on top of it. */
	if (!statx(AT_FDCWD, "/", 0, STATX_MNT_ID, &stx) &&
	    (stx.stx_mask & STATX_MNT_ID))
		want = stx.stx_mnt_id;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -1;
	while (!root.found && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%d %d %*s %*s %4095s", &id, &parent, mnt) != 3)
			continue;
		if (want ? (unsigned long long)id != want : strcmp(mnt, "/"))
			continue;
		root.found = true;
		root.mnt_id = id;
		root.parent_id = parent;
		root.tree_root = id == parent;
		if (sscanf(sep + 3, "%63s %255s", root.fstype, root.source) != 2)
			snprintf(root.fstype, sizeof(root.fstype), "?");
	}
	rewind(f);
	while (root.found && !root.parent_shown && fgets(line, sizeof(line), f))
		root.parent_shown = sscanf(line, "%d", &id) == 1 && id == root.parent_id;
	fclose(f);
	return 0;
}

static void show_root(void)
{
	if (!root.found) {
		ksft_print_msg("initial root: \"/\" not in /proc/self/mountinfo\n");
		return;
	}
	ksft_print_msg("initial root: mount id %d, parent id %d (%s), fstype %s, source %s\n",
		       root.mnt_id, root.parent_id,
		       root.tree_root ? "itself: the root of the mount tree" :
		       root.parent_shown ? "shown" : "not shown: below the root",
		       root.fstype, root.source);
}

/* In a test's child: say what failed, and once what the initial root is. */
static __printf(1, 2) int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	if (!root_shown)
		show_root();
	root_shown = true;
	return KSFT_FAIL;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

/* Write the entries of path, sorted, as "name name ..." into buf. */
static int list_dir(const char *path, char *buf, size_t size)
{
	static char names[32][NAME_MAX + 1];
	char *sorted[32];
	struct dirent *e;
	size_t len = 0;
	int i, n = 0;
	DIR *d;

	buf[0] = '\0';
	d = opendir(path);
	if (!d)
		return -1;
	while (n < 32 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(names[n], sizeof(names[n]), "%s", e->d_name);
		sorted[n] = names[n];
		n++;
	}
	closedir(d);
	qsort(sorted, n, sizeof(sorted[0]), cmp_names);
	for (i = 0; i < n && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s", i ? " " : "", sorted[i]);
	return 0;
}

static int write_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	return close(fd);
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void rm_tree(void)
{
	if (dir[0])
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	dir[0] = '\0';
}

/*
 * The test's directory, in "/" (in /tmp if "/" is read-only): the marker,
 * and the new root: an empty directory to mount the tmpfs on, or the
 * bundle's rootfs with its one file.
 */
static int make_dir(bool bundle)
{
	char path[128];

	snprintf(dir, sizeof(dir), "/pivot_root_test.XXXXXX");
	if (!mkdtemp(dir)) {
		snprintf(dir, sizeof(dir), "/tmp/pivot_root_test.XXXXXX");
		if (!mkdtemp(dir)) {
			dir[0] = '\0';
			return -1;
		}
	}
	snprintf(marker, sizeof(marker), "%s/marker", dir);
	if (write_file(marker))
		return -1;
	if (!bundle) {
		snprintf(new_root, sizeof(new_root), "%s/new", dir);
		return mkdir(new_root, 0755);
	}
	snprintf(path, sizeof(path), "%s/bundle", dir);
	if (mkdir(path, 0755))
		return -1;
	snprintf(new_root, sizeof(new_root), "%s/bundle/rootfs", dir);
	if (mkdir(new_root, 0755))
		return -1;
	snprintf(path, sizeof(path), "%s/" NEW_ROOT_FILE, new_root);
	return write_file(path);
}

/*
 * Pivot into the new root of the variant, detach the old root, chdir("/"),
 * and check that "/" is the new root: KSFT_PASS or KSFT_FAIL.
 */
static int enter_new_root(bool bundle)
{
	char path[128], put_old[128];
	const char *new, *old;
	struct stat want, st;

	if (bundle) {
		if (mount(new_root, new_root, NULL, MS_BIND | MS_REC, NULL))
			return fail("bind mount %s onto itself: %s", new_root, errstr(errno));
		if (chdir(new_root))
			return fail("chdir(\"%s\"): %s", new_root, errstr(errno));
		new = ".";
		old = ".";
	} else {
		if (mount("tmpfs", new_root, "tmpfs", 0, "mode=0755"))
			return fail("mount tmpfs on %s: %s", new_root, errstr(errno));
		snprintf(path, sizeof(path), "%s/" NEW_ROOT_FILE, new_root);
		if (write_file(path))
			return fail("creating %s: %s", path, errstr(errno));
		snprintf(put_old, sizeof(put_old), "%s/put_old", new_root);
		if (mkdir(put_old, 0755))
			return fail("mkdir(\"%s\"): %s", put_old, errstr(errno));
		new = new_root;
		old = put_old;
	}
	if (stat(new_root, &want))
		return fail("stat(\"%s\"): %s", new_root, errstr(errno));

	if (sys_pivot_root(new, old)) {
		int err = errno;

		printf("# pivot_root(\"%s\", \"%s\")%s%s: %s\n", new, old,
		       bundle ? " in " : "", bundle ? new_root : "", errstr(err));
		show_root();
		if (err == EINVAL && root.tree_root)
			printf("# %s\n", ROOTFS_EINVAL);
		return KSFT_FAIL;
	}

	if (bundle) {
		/* The old root is now stacked on the new one, at ".". */
		if (umount2(".", MNT_DETACH))
			return fail("umount2(\".\", MNT_DETACH): %s", errstr(errno));
		if (chdir("/"))
			return fail("chdir(\"/\"): %s", errstr(errno));
	} else {
		if (chdir("/"))
			return fail("chdir(\"/\"): %s", errstr(errno));
		if (umount2("/put_old", MNT_DETACH))
			return fail("umount2(\"/put_old\", MNT_DETACH): %s", errstr(errno));
		if (rmdir("/put_old"))
			return fail("rmdir(\"/put_old\"): %s", errstr(errno));
	}

	if (stat("/", &st))
		return fail("stat(\"/\") after pivot_root: %s", errstr(errno));
	if (st.st_dev != want.st_dev || st.st_ino != want.st_ino)
		return fail("after pivot_root \"/\" is not the new root %s", new_root);
	return KSFT_PASS;
}

/* The marker of the initial root must not be reachable by its path. */
static int marker_unreachable(const char *how)
{
	char entries[1024];
	struct stat st;

	if (stat(marker, &st)) {
		if (errno == ENOENT)
			return KSFT_PASS;
		/* Not found for another reason: that proves nothing. */
		return fail("%s: stat(\"%s\"): %s, not ENOENT", how, marker, errstr(errno));
	}
	list_dir("/", entries, sizeof(entries));
	return fail("%s: %s of the initial root is reachable; \"/\" holds: %s",
		    how, marker, entries);
}

/* pivot: "/" is the new root and holds its files, nothing else. */
static int test_pivot(const struct variant *v)
{
	char entries[1024];

	(void)v;
	if (list_dir("/", entries, sizeof(entries)))
		return fail("opendir(\"/\"): %s", errstr(errno));
	if (strcmp(entries, NEW_ROOT_FILE))
		return fail("\"/\" holds \"%s\", not \"%s\"", entries, NEW_ROOT_FILE);
	return KSFT_PASS;
}

/* unreachable_by_path: the old root is gone by path. */
static int test_unreachable_by_path(const struct variant *v)
{
	struct stat st;

	(void)v;
	if (!stat(dir, &st))
		return fail("%s of the initial root is reachable", dir);
	return marker_unreachable("path");
}

/* unreachable_by_chroot: and by the classic chroot escape. */
static int test_unreachable_by_chroot(const struct variant *v)
{
	char entries[1024];
	int i, rc;

	(void)v;
	if (mkdir("/" ESCAPE_DIR, 0700))
		return fail("mkdir(\"/" ESCAPE_DIR "\"): %s", errstr(errno));
	if (chroot("/" ESCAPE_DIR))
		return fail("chroot(\"/" ESCAPE_DIR "\"): %s", errstr(errno));
	/* The working directory, the old "/", is now outside the root. */
	for (i = 0; i < 64; i++) {
		if (chdir(".."))
			return fail("chdir(\"..\"): %s", errstr(errno));
	}
	if (chroot("."))
		return fail("chroot(\".\"): %s", errstr(errno));

	rc = marker_unreachable("chroot escape");
	if (rc != KSFT_PASS)
		return rc;
	/* ".." stops at the new root: it sits on the root of its parent. */
	if (list_dir("/", entries, sizeof(entries)))
		return fail("opendir(\"/\"): %s", errstr(errno));
	if (strcmp(entries, ESCAPE_DIR " " NEW_ROOT_FILE))
		return fail("the chroot escape got to a \"/\" that holds \"%s\", not \"%s\"",
			    entries, ESCAPE_DIR " " NEW_ROOT_FILE);
	return KSFT_PASS;
}

/* unreachable_by_setns: and by detaching "/" and setns() into the own namespace. */
static int test_unreachable_by_setns(const struct variant *v)
{
	char entries[1024];
	struct statfs sfs;
	struct stat st;
	int rc;

	(void)v;
	if (umount2("/", MNT_DETACH))
		return fail("umount2(\"/\", MNT_DETACH): %s", errstr(errno));
	/* Root and working directory go to the top of the namespace's root. */
	if (setns(mntns, CLONE_NEWNS))
		return fail("setns(CLONE_NEWNS): %s", errstr(errno));

	if (list_dir("/", entries, sizeof(entries)) || statfs("/", &sfs) || stat("/", &st))
		return fail("looking at \"/\" after setns: %s", errstr(errno));
	ksft_print_msg("below the new root: f_type 0x%lx, entries: %s\n",
		       (unsigned long)sfs.f_type, entries[0] ? entries : "(none)");
	rc = marker_unreachable("setns escape");
	if (rc != KSFT_PASS)
		return rc;
	if (st.st_dev == root.dev)
		return fail("below the new root is the file system of the initial root");
	/*
	 * Below lies what the namespace's root holds: nothing (nullfs), or
	 * rootfs with only the empty /root that nonroot_initramfs leaves. An
	 * initramfs still in rootfs would show here.
	 */
	if (entries[0] && strcmp(entries, "root"))
		return fail("below the new root are files (%s): the initramfs is still there",
			    entries);
	return KSFT_PASS;
}

static const struct variant variants[] = {
	{ .name = "tmpfs", .bundle = false },
	{ .name = "bundle", .bundle = true },
};

static const struct test tests[] = {
	{ "pivot", test_pivot },
	{ "unreachable_by_path", test_unreachable_by_path },
	{ "unreachable_by_chroot", test_unreachable_by_chroot },
	{ "unreachable_by_setns", test_unreachable_by_setns },
};

/* The test's child: a private mount namespace, the new root, the test. */
static int child(const struct variant *v, const struct test *t)
{
	int rc;

	alarm(TIMEOUT);
	if (unshare(CLONE_NEWNS)) {
		if (errno == EPERM) {
			ksft_print_msg("unshare(CLONE_NEWNS): %s\n", errstr(errno));
			return KSFT_SKIP;
		}
		return fail("unshare(CLONE_NEWNS): %s", errstr(errno));
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return fail("MS_REC | MS_PRIVATE on \"/\": %s", errstr(errno));
	/* For the setns escape: the own namespace, not the initial one. */
	mntns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (mntns < 0)
		return fail("open(\"/proc/self/ns/mnt\"): %s", errstr(errno));

	rc = enter_new_root(v->bundle);
	if (rc != KSFT_PASS)
		return rc;
	return t->fn(v);
}

static void run(const struct variant *v, const struct test *t)
{
	int rc = KSFT_FAIL, status;
	char name[64];
	pid_t pid;

	snprintf(name, sizeof(name), "%s.%s", v->name, t->name);
	if (make_dir(v->bundle)) {
		ksft_print_msg("creating %s: %s\n",
			       dir[0] ? dir : "pivot_root_test.XXXXXX in / or /tmp",
			       errstr(errno));
		rm_tree();
		ksft_test_result_skip("%s: no writable directory for the test\n", name);
		return;
	}

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		rc = child(v, t);
		fflush(stdout);
		_exit(rc);
	}
	if (pid < 0) {
		ksft_print_msg("fork: %s\n", errstr(errno));
	} else if (waitpid(pid, &status, 0) != pid) {
		ksft_print_msg("waitpid: %s\n", errstr(errno));
	} else if (WIFEXITED(status)) {
		rc = WEXITSTATUS(status);
	} else {
		ksft_print_msg("%s: killed by signal %d (%s)\n", name,
			       WTERMSIG(status), strsignal(WTERMSIG(status)));
		show_root();
	}
	rm_tree();

	if (rc == KSFT_PASS || rc == KSFT_SKIP)
		ksft_test_result_report(rc, "%s\n", name);
	else
		ksft_test_result_fail("%s\n", name);
}

int main(void)
{
	unsigned int i, j;

	ksft_print_header();
	if (geteuid())
		ksft_exit_skip("pivot_root(2) needs root\n");
	if (read_root_info())
		ksft_exit_fail_msg("reading /proc/self/mountinfo: %s\n", errstr(errno));
	/*
	 * The root the kernel hands to /init from an initramfs is rootfs (on
	 * nullfs since 7.0), or, with nonroot_initramfs, a tmpfs on rootfs.
	 * On a root file system mounted from a disk, or in a container, the
	 * test would pass without telling anything about that root.
	 */
	if (root.found && strcmp(root.fstype, "rootfs") && strcmp(root.fstype, "tmpfs")) {
		show_root();
		ksft_exit_skip("\"/\" is %s, not the root of an initramfs: run this from /init\n",
			       root.fstype);
	}
	ksft_set_plan(ARRAY_SIZE(variants) * ARRAY_SIZE(tests));
	show_root();

	for (i = 0; i < ARRAY_SIZE(variants); i++)
		for (j = 0; j < ARRAY_SIZE(tests); j++)
			run(&variants[i], &tests[j]);

	ksft_finished();
}
