// SPDX-License-Identifier: GPL-2.0
/*
 * pivot_root(2) from the root the kernel hands to /init.
 *
 * Container runtimes start a container with pivot_root(2), which needs a
 * root that has a parent mount. When a machine runs from its initramfs, the
 * call is made from the root the kernel hands to /init. That root used to be
 * rootfs, the root of the mount tree, where pivot_root(2) fails with EINVAL.
 * Since Linux 7.0 rootfs sits on an empty nullfs, and the kernel promises
 * that pivot_root(2) works from it; on 6.12 the nonroot_initramfs boot
 * parameter unpacks the initramfs into a second rootfs mounted on top of
 * the first.
 *
 * root_has_parent: the mount of "/" has a parent mount. It runs wherever
 * the test runs (an initramfs, a disk, a container): on 7.0 and later every
 * root has one, and a root without one is a regression of nullfs. Before
 * 7.0, an initramfs root without nonroot_initramfs is the root of the mount
 * tree by design: the test skips and says so.
 *
 * The other tests need the root of an initramfs (fstype rootfs, or tmpfs)
 * and skip elsewhere. Each runs in its own private mount namespace, mounts a
 * scratch tmpfs over an existing directory of "/" (nothing is written to the
 * file system of "/", and nothing is left behind when the test is killed:
 * its mounts go with its namespace), and pivots into a new root there, in
 * one of two ways (the variants):
 *
 *   tmpfs:   a tmpfs, pivot_root(new, new/put_old), chdir("/"), the old
 *            root detached: umount2("/put_old", MNT_DETACH).
 *   bundle:  as runc and crun do it: a directory bind-mounted onto itself,
 *            chdir() into it, pivot_root(".", "."), umount2(".",
 *            MNT_DETACH), chdir("/").
 *
 * Then:
 *
 *   pivot:                 "/" is the new root and holds its files only.
 *   unreachable_by_path:   an entry of the initial root cannot be reached
 *                          by its path,
 *   unreachable_by_chroot: nor by the classic escape (chroot into a
 *                          subdirectory, chdir("..") 64 times, chroot(".")),
 *   unreachable_by_setns:  nor by detaching "/" and setns() into the own
 *                          mount namespace, which lands on the root mount of
 *                          the namespace, below the new root: that must be
 *                          another file system than the initial root's, and
 *                          hold nothing but an empty "root" (what
 *                          nonroot_initramfs leaves in rootfs) or nothing
 *                          (nullfs). An initramfs left below everything fails.
 *
 * Where pivot_root(2) fails with EINVAL because the initial root is the
 * root of the mount tree, a kernel before 7.0 skips with ROOTFS_EINVAL
 * below, a kernel since 7.0 fails. Run it as root from /init, or anywhere
 * in the initial mount namespace of a machine booted from its initramfs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif

#define ROOTFS_EINVAL \
	"the initial root is the root of the mount tree (rootfs): pivot_root(2) returns EINVAL; boot with nonroot_initramfs"

/* The only entry of the new root, in both variants. */
#define NEW_ROOT_FILE "new-root-file"
/* Where the chroot escape starts from, in the new root. */
#define ESCAPE_DIR "escape"
/* Existing directories of "/" the scratch tmpfs may be mounted over. */
static const char * const scratch_dirs[] = { "/tmp", "/mnt", "/run", "/root", "/dev" };

/* The mount of the initial root, as /proc/self/mountinfo shows it. */
struct root_info {
	bool found;		/* the mount of "/" is in the table */
	bool tree_root;		/* it is its own parent: the root of the tree */
	int mnt_id;
	int parent_id;
	char fstype[64];
	dev_t dev;		/* st_dev and st_ino of "/" */
	ino_t ino;
};

static int sys_pivot_root(const char *new, const char *put_old)
{
	return syscall(SYS_pivot_root, new, put_old);
}

/* 0, or -1 with errno set. */
static int read_root_info(struct root_info *r)
{
	unsigned long long want = 0;
	char line[4096], mnt[4096];
	struct statx stx;
	struct stat st;
	int id, parent;
	FILE *f;

	memset(r, 0, sizeof(*r));
	if (stat("/", &st))
		return -1;
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	/* The mount id of "/" tells it from mounts stacked on top of it. */
	if (!statx(AT_FDCWD, "/", 0, STATX_MNT_ID, &stx) &&
	    (stx.stx_mask & STATX_MNT_ID))
		want = stx.stx_mnt_id;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -1;
	while (!r->found && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%d %d %*s %*s %4095s", &id, &parent, mnt) != 3)
			continue;
		if (want ? (unsigned long long)id != want : strcmp(mnt, "/"))
			continue;
		r->found = true;
		r->mnt_id = id;
		r->parent_id = parent;
		r->tree_root = id == parent;
		if (sscanf(sep + 3, "%63s", r->fstype) != 1)
			snprintf(r->fstype, sizeof(r->fstype), "?");
	}
	fclose(f);
	return 0;
}

/* Before 7.0, the root of an initramfs is the root of the tree by design. */
static bool has_nullfs(void)
{
	return ksft_min_kernel_version(7, 0);
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

TEST(root_has_parent)
{
	struct root_info r;

	ASSERT_EQ(0, read_root_info(&r)) TH_LOG("mountinfo: %s", strerror(errno));
	ASSERT_TRUE(r.found) TH_LOG("\"/\" is not in /proc/self/mountinfo");
	TH_LOG("\"/\": mount %d, parent %d, %s", r.mnt_id, r.parent_id, r.fstype);
	if (r.tree_root && !has_nullfs())
		SKIP(return, "%s", ROOTFS_EINVAL);
	ASSERT_FALSE(r.tree_root)
		TH_LOG("\"/\" is the root of the mount tree: nullfs should be below it");
}

/* A test's view of the initial root, and where it pivots to. */
struct scratch {
	struct root_info root;
	char entry[NAME_MAX + 2];	/* "/name", an entry of the initial root */
	char new_root[64];
	int mntns;			/* the test's own mount namespace */
};

FIXTURE(pivot) {
	struct scratch s;
};

FIXTURE_VARIANT(pivot) {
	bool bundle;
};

FIXTURE_VARIANT_ADD(pivot, tmpfs) {
	.bundle = false,
};

FIXTURE_VARIANT_ADD(pivot, bundle) {
	.bundle = true,
};

/*
 * The test's own mount namespace and a scratch tmpfs in it; an entry of the
 * initial root to look for later, other than the scratch's mount point.
 */
static const char *enter_scratch(struct __test_metadata *_metadata, struct scratch *s)
{
	const char *at = NULL;
	struct dirent *e;
	struct stat st;
	unsigned int i;
	DIR *d;

	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		TH_LOG("MS_REC | MS_PRIVATE on \"/\": %s", strerror(errno));
	s->mntns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, s->mntns) TH_LOG("/proc/self/ns/mnt: %s", strerror(errno));
	for (i = 0; !at && i < ARRAY_SIZE(scratch_dirs); i++)
		if (!stat(scratch_dirs[i], &st) && S_ISDIR(st.st_mode) &&
		    st.st_dev == s->root.dev)
			at = scratch_dirs[i];
	if (!at)
		return NULL;
	d = opendir("/");
	ASSERT_NE(NULL, d) TH_LOG("opendir(\"/\"): %s", strerror(errno));
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, at + 1))
			continue;
		snprintf(s->entry, sizeof(s->entry), "/%s", e->d_name);
		break;
	}
	closedir(d);
	ASSERT_EQ(0, mount("scratch", at, "tmpfs", 0, "mode=0755"))
		TH_LOG("mount a scratch tmpfs on %s: %s", at, strerror(errno));
	return at;
}

FIXTURE_SETUP(pivot)
{
	struct scratch *s = &self->s;
	char path[128], put_old[128];
	const char *new, *old, *at;
	struct stat want, st;

	s->mntns = -1;
	if (geteuid())
		SKIP(return, "pivot_root(2) needs root");
	ASSERT_EQ(0, read_root_info(&s->root)) TH_LOG("mountinfo: %s", strerror(errno));
	if (s->root.found && strcmp(s->root.fstype, "rootfs") &&
	    strcmp(s->root.fstype, "tmpfs"))
		SKIP(return, "\"/\" is %s, not the root of an initramfs: run this from /init",
		     s->root.fstype);
	if (unshare(CLONE_NEWNS)) {
		if (errno == EPERM)
			SKIP(return, "unshare(CLONE_NEWNS): %s", strerror(errno));
		ASSERT_EQ(0, errno) TH_LOG("unshare(CLONE_NEWNS)");
	}
	at = enter_scratch(_metadata, s);
	if (!at)
		SKIP(return, "no directory in \"/\" to mount a scratch tmpfs on");

	if (variant->bundle) {
		snprintf(path, sizeof(path), "%s/bundle", at);
		ASSERT_EQ(0, mkdir(path, 0755));
		snprintf(s->new_root, sizeof(s->new_root), "%s/bundle/rootfs", at);
		ASSERT_EQ(0, mkdir(s->new_root, 0755));
		snprintf(path, sizeof(path), "%s/" NEW_ROOT_FILE, s->new_root);
		ASSERT_EQ(0, write_file(path));
		ASSERT_EQ(0, mount(s->new_root, s->new_root, NULL,
				   MS_BIND | MS_REC, NULL))
			TH_LOG("bind mount %s onto itself: %s", s->new_root, strerror(errno));
		ASSERT_EQ(0, chdir(s->new_root));
		new = ".";
		old = ".";
	} else {
		snprintf(s->new_root, sizeof(s->new_root), "%s/new", at);
		ASSERT_EQ(0, mkdir(s->new_root, 0755));
		ASSERT_EQ(0, mount("new", s->new_root, "tmpfs", 0, "mode=0755"))
			TH_LOG("mount tmpfs on %s: %s", s->new_root, strerror(errno));
		snprintf(path, sizeof(path), "%s/" NEW_ROOT_FILE, s->new_root);
		ASSERT_EQ(0, write_file(path));
		snprintf(put_old, sizeof(put_old), "%s/put_old", s->new_root);
		ASSERT_EQ(0, mkdir(put_old, 0755));
		new = s->new_root;
		old = put_old;
	}
	ASSERT_EQ(0, stat(s->new_root, &want));

	if (sys_pivot_root(new, old)) {
		int err = errno;

		TH_LOG("pivot_root(\"%s\", \"%s\"): %s; \"/\" is mount %d, parent %d, %s",
		       new, old, strerror(err), s->root.mnt_id, s->root.parent_id,
		       s->root.fstype);
		if (err == EINVAL && s->root.tree_root && !has_nullfs())
			SKIP(return, "%s", ROOTFS_EINVAL);
		ASSERT_EQ(0, err) TH_LOG("pivot_root(2) failed");
	}

	if (variant->bundle) {
		/* The old root is now stacked on the new one, at ".". */
		ASSERT_EQ(0, umount2(".", MNT_DETACH));
		ASSERT_EQ(0, chdir("/"));
	} else {
		ASSERT_EQ(0, chdir("/"));
		ASSERT_EQ(0, umount2("/put_old", MNT_DETACH));
		ASSERT_EQ(0, rmdir("/put_old"));
	}
	ASSERT_EQ(0, stat("/", &st));
	ASSERT_TRUE(st.st_dev == want.st_dev && st.st_ino == want.st_ino)
		TH_LOG("after pivot_root \"/\" is not the new root %s", s->new_root);
}

FIXTURE_TEARDOWN(pivot)
{
	/* The mounts go with the namespace, when the test's process exits. */
	if (self->s.mntns >= 0)
		close(self->s.mntns);
}

/* The initial root, its entry and its file system are out of reach. */
static void check_unreachable(struct __test_metadata *_metadata, struct scratch *s,
			      const char *how)
{
	char entries[1024];
	struct stat st;
	int rc, err;

	ASSERT_EQ(0, stat("/", &st));
	ASSERT_FALSE(st.st_dev == s->root.dev && st.st_ino == s->root.ino)
		TH_LOG("%s: \"/\" is the initial root", how);
	if (!s->entry[0])
		return;
	list_dir("/", entries, sizeof(entries));
	rc = stat(s->entry, &st);
	err = errno;
	ASSERT_NE(0, rc) TH_LOG("%s: %s of the initial root is reachable; \"/\" holds: %s",
				how, s->entry, entries);
	/* Not found for another reason proves nothing. */
	ASSERT_EQ(ENOENT, err) TH_LOG("%s: stat(\"%s\"): %s", how, s->entry, strerror(err));
}

TEST_F(pivot, pivot)
{
	char entries[1024];

	ASSERT_EQ(0, list_dir("/", entries, sizeof(entries)));
	ASSERT_STREQ(NEW_ROOT_FILE, entries);
}

TEST_F(pivot, unreachable_by_path)
{
	check_unreachable(_metadata, &self->s, "path");
}

TEST_F(pivot, unreachable_by_chroot)
{
	char entries[1024];
	int i;

	ASSERT_EQ(0, mkdir("/" ESCAPE_DIR, 0700));
	ASSERT_EQ(0, chroot("/" ESCAPE_DIR));
	/* The working directory, the old "/", is now outside the root. */
	for (i = 0; i < 64; i++)
		ASSERT_EQ(0, chdir(".."));
	ASSERT_EQ(0, chroot("."));
	check_unreachable(_metadata, &self->s, "chroot escape");
	/* ".." stops at the new root: it sits on the root of its parent. */
	ASSERT_EQ(0, list_dir("/", entries, sizeof(entries)));
	ASSERT_STREQ(ESCAPE_DIR " " NEW_ROOT_FILE, entries);
}

TEST_F(pivot, unreachable_by_setns)
{
	char entries[1024];
	struct statfs sfs;
	struct stat st;

	ASSERT_EQ(0, umount2("/", MNT_DETACH));
	/* Root and working directory go to the top of the namespace's root. */
	ASSERT_EQ(0, setns(self->s.mntns, CLONE_NEWNS)) TH_LOG("setns: %s", strerror(errno));
	ASSERT_EQ(0, list_dir("/", entries, sizeof(entries)));
	ASSERT_EQ(0, statfs("/", &sfs));
	ASSERT_EQ(0, stat("/", &st));
	TH_LOG("below the new root: f_type 0x%lx, entries: %s",
	       (unsigned long)sfs.f_type, entries[0] ? entries : "(none)");
	check_unreachable(_metadata, &self->s, "setns escape");
	ASSERT_NE(self->s.root.dev, st.st_dev)
		TH_LOG("below the new root is the file system of the initial root");
	/*
	 * Below lies what the namespace's root holds: nothing (nullfs), or
	 * rootfs with only the empty /root that nonroot_initramfs leaves. An
	 * initramfs still in rootfs would show here.
	 */
	ASSERT_TRUE(!entries[0] || !strcmp(entries, "root"))
		TH_LOG("below the new root are files (%s): the initramfs is still there",
		       entries);
}

TEST_HARNESS_MAIN
