// SPDX-License-Identifier: GPL-2.0

//! Unpack the initramfs into a tmpfs mounted on top of rootfs.
//!
//! rootfs is the root of the mount tree and can be neither unmounted nor pivoted away from, so
//! a system whose final root is the initramfs cannot use pivot_root(2): container runtimes fail
//! with `EINVAL`. With the boot parameter `nonroot_initramfs`, [`nonroot_initramfs_init`],
//! called by `mnt_init()` right after the initial mount tree exists, does what
//! `prepare_namespace()` does for a real root device, but before the initramfs is unpacked:
//!
//! 1. `mkdir /root 0700` in rootfs,
//! 2. mount a tmpfs there, with the options of `initramfs_options=`,
//! 3. `chdir /root`,
//! 4. move the tmpfs onto `/`,
//! 5. `chroot .`.
//!
//! Every task shares the boot task's `fs_struct` at this point, so all of them, PID 1
//! included, now have the tmpfs as their root, and `populate_rootfs()` unpacks the initramfs
//! into it. rootfs only holds the empty `/root` under the tmpfs.
//!
//! If a step fails, the steps already done are undone in reverse order and the machine boots as
//! if the parameter had not been given, with one warning naming the step and the error.
//!
//! Runs once, single-threaded, in `start_kernel()`; all of it is in init sections.

use core::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use kernel::{
    bindings, boot_param, c_str,
    error::{to_result, Error, Result},
    prelude::*,
    str::CStr,
};

const __LOG_PREFIX: &[u8] = b"nonroot_initramfs\0";

/// Whether to switch, from `nonroot_initramfs[=bool]` or the build-time default.
#[link_section = ".init.data"]
static ENABLED: AtomicBool = AtomicBool::new(cfg!(CONFIG_NONROOT_INITRAMFS_DEFAULT_ON));

#[link_section = ".init.text"]
fn nonroot_initramfs_setup(value: Option<&CStr>) -> Result {
    match boot_param::parse_bool(value) {
        Ok(enable) => ENABLED.store(enable, Ordering::Relaxed),
        Err(_) => pr_warn!(
            "ignoring invalid nonroot_initramfs={}; it stays {} (use 0 or 1)\n",
            value.unwrap_or(c_str!("")),
            if ENABLED.load(Ordering::Relaxed) {
                "on"
            } else {
                "off"
            },
        ),
    }
    // Consumed either way: a bad value is not passed on to init.
    Ok(())
}
kernel::setup!("nonroot_initramfs", nonroot_initramfs_setup);

/// Room for a copy of the `initramfs_options=` value; tmpfs option strings are short.
const OPTIONS_MAX: usize = 256;

/// A copy of the `initramfs_options=` value, NUL-terminated.
///
/// The rootfs mount parses, and so overwrites, the original before we run: copy it while the
/// command line is parsed. `OPTIONS_LEN` is 0 for none and `usize::MAX` when it did not fit.
#[link_section = ".init.data"]
static OPTIONS: [AtomicU8; OPTIONS_MAX] = [const { AtomicU8::new(0) }; OPTIONS_MAX];
#[link_section = ".init.data"]
static OPTIONS_LEN: AtomicUsize = AtomicUsize::new(0);

/// Whether the switch happened, for the KUnit test of the final mount state.
#[cfg(CONFIG_NONROOT_INITRAMFS_KUNIT_TEST)]
#[link_section = ".init.data"]
static SWITCHED: AtomicBool = AtomicBool::new(false);

/// Copies `initramfs_options=`. `fs/namespace.c` handles the option itself; an early parameter
/// of the same name sees it first and leaves it to that handler.
#[link_section = ".init.text"]
fn initramfs_options_early(value: Option<&CStr>) -> Result {
    let value = value.map_or(&[][..], |v| v.as_bytes());
    if value.len() >= OPTIONS_MAX {
        OPTIONS_LEN.store(usize::MAX, Ordering::Relaxed);
        return Ok(());
    }
    for (slot, &b) in OPTIONS.iter().zip(value) {
        slot.store(b, Ordering::Relaxed);
    }
    if let Some(nul) = OPTIONS.get(value.len()) {
        nul.store(0, Ordering::Relaxed);
    }
    OPTIONS_LEN.store(value.len(), Ordering::Relaxed);
    Ok(())
}
kernel::early_param!("initramfs_options", initramfs_options_early);

/// The steps of the switch, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Mkdir,
    Mount,
    Chdir,
    Move,
    Chroot,
}

const STEPS: [Step; 5] = [
    Step::Mkdir,
    Step::Mount,
    Step::Chdir,
    Step::Move,
    Step::Chroot,
];

impl Step {
    fn name(self) -> &'static str {
        match self {
            Step::Mkdir => "mkdir /root",
            Step::Mount => "mount tmpfs on /root",
            Step::Chdir => "chdir /root",
            Step::Move => "move /root onto /",
            Step::Chroot => "chroot",
        }
    }
}

const ROOT: &CStr = c_str!("/root");
const SLASH: &CStr = c_str!("/");
const DOT: &CStr = c_str!(".");

/// The VFS operations the switch needs: the C shims at boot, a recording fake in the tests.
trait Vfs {
    fn mkdir(&mut self, path: &CStr, mode: u16) -> Result;
    fn rmdir(&mut self, path: &CStr) -> Result;
    /// Mounts a tmpfs; `data`, the mount options, is NUL-terminated and overwritten.
    fn mount_tmpfs(&mut self, path: &CStr, data: Option<&mut [u8]>) -> Result;
    fn umount(&mut self, path: &CStr) -> Result;
    fn chdir(&mut self, path: &CStr) -> Result;
    fn move_mount(&mut self, from: &CStr, to: &CStr) -> Result;
    fn chroot(&mut self, path: &CStr) -> Result;
}

/// What became of `initramfs_options=` for the tmpfs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Options {
    /// None were given.
    None,
    /// The tmpfs was mounted with them.
    Applied,
    /// tmpfs rejected them (or they were too long): mounted with the defaults instead.
    Rejected(Error),
}

/// A failed switch: the step that failed, its error, and the first undo step that failed too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Failure {
    step: Step,
    err: Error,
    undo: Option<(Step, Error)>,
}

/// Mounts the tmpfs with `options`, falling back to the defaults when tmpfs rejects them.
#[inline(never)]
#[link_section = ".init.text"]
fn mount<V: Vfs>(vfs: &mut V, options: Option<&mut [u8]>, result: &mut Options) -> Result {
    let Some(options) = options else {
        return vfs.mount_tmpfs(ROOT, None);
    };
    match vfs.mount_tmpfs(ROOT, Some(options)) {
        Ok(()) => {
            *result = Options::Applied;
            Ok(())
        }
        Err(e) => {
            *result = Options::Rejected(e);
            vfs.mount_tmpfs(ROOT, None)
        }
    }
}

/// Undoes `done`, the steps that succeeded, last first.
#[inline(never)]
#[link_section = ".init.text"]
fn undo<V: Vfs>(vfs: &mut V, done: &[Step]) -> Option<(Step, Error)> {
    for &step in done.iter().rev() {
        let res = match step {
            Step::Mkdir => vfs.rmdir(ROOT),
            Step::Mount => vfs.umount(ROOT),
            Step::Chdir => vfs.chdir(SLASH),
            // The tmpfs is on `/` and we are in it; `/root` is still rootfs's.
            Step::Move => vfs.move_mount(DOT, ROOT),
            // The last step: never done when there is something to undo.
            Step::Chroot => Ok(()),
        };
        if let Err(e) = res {
            return Some((step, e));
        }
    }
    None
}

/// Performs the switch, or undoes what it did.
#[inline(never)]
#[link_section = ".init.text"]
fn switch_root<V: Vfs>(vfs: &mut V, mut options: Option<&mut [u8]>) -> Result<Options, Failure> {
    let mut opts = Options::None;
    for (i, &step) in STEPS.iter().enumerate() {
        let res = match step {
            Step::Mkdir => vfs.mkdir(ROOT, 0o700),
            Step::Mount => mount(vfs, options.take(), &mut opts),
            Step::Chdir => vfs.chdir(ROOT),
            Step::Move => vfs.move_mount(DOT, SLASH),
            Step::Chroot => vfs.chroot(DOT),
        };
        if let Err(err) = res {
            let undo = undo(vfs, &STEPS[..i]);
            return Err(Failure { step, err, undo });
        }
    }
    Ok(opts)
}

/// The real thing: the init-time VFS helpers, through the shims in `fs/namespace.c`.
struct InitVfs;

impl Vfs for InitVfs {
    #[link_section = ".init.text"]
    fn mkdir(&mut self, path: &CStr, mode: u16) -> Result {
        // SAFETY: `path` is NUL-terminated; we run at init time, as the shim must.
        to_result(unsafe { bindings::nonroot_initramfs_mkdir(path.as_char_ptr(), mode) })
    }

    #[link_section = ".init.text"]
    fn rmdir(&mut self, path: &CStr) -> Result {
        // SAFETY: `path` is NUL-terminated; we run at init time, as the shim must.
        to_result(unsafe { bindings::nonroot_initramfs_rmdir(path.as_char_ptr()) })
    }

    #[link_section = ".init.text"]
    fn mount_tmpfs(&mut self, path: &CStr, data: Option<&mut [u8]>) -> Result {
        let data = data.map_or(core::ptr::null_mut(), |d| d.as_mut_ptr().cast());
        // SAFETY: `path` is NUL-terminated, `data` null or a writable NUL-terminated string
        // (see `Vfs::mount_tmpfs`); we run at init time, as the shim must.
        to_result(unsafe { bindings::nonroot_initramfs_mount_tmpfs(path.as_char_ptr(), data) })
    }

    #[link_section = ".init.text"]
    fn umount(&mut self, path: &CStr) -> Result {
        // SAFETY: `path` is NUL-terminated; we run at init time, as the shim must.
        to_result(unsafe { bindings::nonroot_initramfs_umount(path.as_char_ptr()) })
    }

    #[link_section = ".init.text"]
    fn chdir(&mut self, path: &CStr) -> Result {
        // SAFETY: `path` is NUL-terminated; we run at init time, as the shim must.
        to_result(unsafe { bindings::nonroot_initramfs_chdir(path.as_char_ptr()) })
    }

    #[link_section = ".init.text"]
    fn move_mount(&mut self, from: &CStr, to: &CStr) -> Result {
        // SAFETY: Both paths are NUL-terminated; we run at init time, as the shim must.
        to_result(unsafe {
            bindings::nonroot_initramfs_move_mount(from.as_char_ptr(), to.as_char_ptr())
        })
    }

    #[link_section = ".init.text"]
    fn chroot(&mut self, path: &CStr) -> Result {
        // SAFETY: `path` is NUL-terminated; we run at init time, as the shim must.
        to_result(unsafe { bindings::nonroot_initramfs_chroot(path.as_char_ptr()) })
    }
}

/// Switches the boot task's root to a tmpfs on top of rootfs if `nonroot_initramfs` asks for
/// it. Called once by `mnt_init()`.
#[no_mangle]
#[link_section = ".init.text"]
pub extern "C" fn nonroot_initramfs_init() {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let mut buf = [0u8; OPTIONS_MAX];
    let options = match OPTIONS_LEN.load(Ordering::Relaxed) {
        0 => None,
        usize::MAX => {
            pr_warn!(
                "initramfs_options= is too long (max {}), using tmpfs defaults\n",
                OPTIONS_MAX - 1
            );
            None
        }
        // `buf` is zeroed, so `dst` ends in a NUL.
        len => match (buf.get_mut(..=len), OPTIONS.get(..len)) {
            (Some(dst), Some(src)) => {
                for (b, slot) in dst.iter_mut().zip(src) {
                    *b = slot.load(Ordering::Relaxed);
                }
                Some(dst)
            }
            _ => None,
        },
    };
    match switch_root(&mut InitVfs, options) {
        Ok(opts) => {
            #[cfg(CONFIG_NONROOT_INITRAMFS_KUNIT_TEST)]
            SWITCHED.store(true, Ordering::Relaxed);
            if let Options::Rejected(e) = opts {
                pr_warn!(
                    "tmpfs rejected initramfs_options= ({:?}), mounted with the defaults\n",
                    e
                );
            }
            pr_info!("initramfs unpacked into a tmpfs on rootfs (see /proc/self/mountinfo)\n");
        }
        Err(Failure { step, err, undo }) => {
            pr_warn!(
                "{} failed ({:?}), initramfs stays in rootfs\n",
                step.name(),
                err
            );
            if let Some((step, e)) = undo {
                pr_warn!("undo of {} failed too ({:?})\n", step.name(), e);
            }
        }
    }
}

#[cfg(CONFIG_NONROOT_INITRAMFS_KUNIT_TEST)]
mod tests {
    //! An init section suite: the code under test is init code and is gone after boot.

    use super::*;
    use kernel::{
        boot_param::Entry,
        error::code::{EBUSY, EINVAL, EIO},
        kunit::{kunit_case, kunit_case_null},
    };

    macro_rules! check {
        ($cond:expr) => {
            kernel::kunit_assert!("nonroot_initramfs", "nonroot_initramfs.rs", 0, $cond)
        };
    }

    /// `CStr` has no `PartialEq` in this tree.
    fn is(a: &CStr, b: &CStr) -> bool {
        a.as_bytes() == b.as_bytes()
    }

    /// A fake VFS that keeps the state the real calls would leave, refuses calls made in an
    /// order the real VFS would refuse, and fails the step it is told to.
    #[derive(Default)]
    struct Fake {
        dir: bool,
        mounted: bool,
        in_tmpfs: bool,
        moved: bool,
        chrooted: bool,
        fail: Option<Step>,
        fail_undo: Option<Step>,
        reject_options: bool,
        mounts: u32,
        mounts_with_options: u32,
    }

    impl Fake {
        fn failing(step: Step) -> Self {
            Self {
                fail: Some(step),
                ..Default::default()
            }
        }

        fn result(&self, step: Step) -> Result {
            if self.fail == Some(step) {
                Err(EIO)
            } else {
                Ok(())
            }
        }

        fn undo_result(&self, step: Step) -> Result {
            if self.fail_undo == Some(step) {
                Err(EBUSY)
            } else {
                Ok(())
            }
        }

        fn is_clean(&self) -> bool {
            !(self.dir || self.mounted || self.in_tmpfs || self.moved || self.chrooted)
        }

        fn is_switched(&self) -> bool {
            self.dir && self.mounted && self.in_tmpfs && self.moved && self.chrooted
        }
    }

    impl Vfs for Fake {
        fn mkdir(&mut self, path: &CStr, mode: u16) -> Result {
            if !is(path, ROOT) || mode != 0o700 || self.dir {
                return Err(EINVAL);
            }
            self.result(Step::Mkdir)?;
            self.dir = true;
            Ok(())
        }

        fn rmdir(&mut self, path: &CStr) -> Result {
            if !is(path, ROOT) || !self.dir || self.mounted {
                return Err(EBUSY);
            }
            self.undo_result(Step::Mkdir)?;
            self.dir = false;
            Ok(())
        }

        fn mount_tmpfs(&mut self, path: &CStr, data: Option<&mut [u8]>) -> Result {
            if !is(path, ROOT) || !self.dir || self.mounted {
                return Err(EINVAL);
            }
            self.mounts += 1;
            if let Some(data) = data {
                if data.last() != Some(&0) {
                    return Err(EINVAL);
                }
                self.mounts_with_options += 1;
                if self.reject_options {
                    return Err(EINVAL);
                }
            }
            self.result(Step::Mount)?;
            self.mounted = true;
            Ok(())
        }

        fn umount(&mut self, path: &CStr) -> Result {
            // The real umount fails while the tmpfs is our cwd or sits on `/`.
            if !is(path, ROOT) || !self.mounted || self.in_tmpfs || self.moved {
                return Err(EBUSY);
            }
            self.undo_result(Step::Mount)?;
            self.mounted = false;
            Ok(())
        }

        fn chdir(&mut self, path: &CStr) -> Result {
            if is(path, ROOT) && self.mounted && !self.in_tmpfs {
                self.result(Step::Chdir)?;
                self.in_tmpfs = true;
                Ok(())
            } else if is(path, SLASH) && self.in_tmpfs && !self.moved {
                self.undo_result(Step::Chdir)?;
                self.in_tmpfs = false;
                Ok(())
            } else {
                Err(EINVAL)
            }
        }

        fn move_mount(&mut self, from: &CStr, to: &CStr) -> Result {
            if !is(from, DOT) || !self.in_tmpfs {
                return Err(EINVAL);
            }
            if is(to, SLASH) && !self.moved {
                self.result(Step::Move)?;
                self.moved = true;
                Ok(())
            } else if is(to, ROOT) && self.moved && !self.chrooted {
                self.undo_result(Step::Move)?;
                self.moved = false;
                Ok(())
            } else {
                Err(EINVAL)
            }
        }

        fn chroot(&mut self, path: &CStr) -> Result {
            if !is(path, DOT) || !self.moved || !self.in_tmpfs || self.chrooted {
                return Err(EINVAL);
            }
            self.result(Step::Chroot)?;
            self.chrooted = true;
            Ok(())
        }
    }

    #[link_section = ".init.text"]
    extern "C" fn switch_succeeds(_test: *mut bindings::kunit) {
        let mut vfs = Fake::default();
        check!(switch_root(&mut vfs, None) == Ok(Options::None));
        check!(vfs.is_switched());
        check!(vfs.mounts == 1 && vfs.mounts_with_options == 0);
    }

    #[link_section = ".init.text"]
    extern "C" fn each_failed_step_is_undone(_test: *mut bindings::kunit) {
        for step in STEPS {
            let mut vfs = Fake::failing(step);
            let res = switch_root(&mut vfs, None);
            check!(
                res == Err(Failure {
                    step,
                    err: EIO,
                    undo: None
                })
            );
            check!(vfs.is_clean());
        }
    }

    #[link_section = ".init.text"]
    extern "C" fn failed_undo_is_reported(_test: *mut bindings::kunit) {
        let mut vfs = Fake {
            fail_undo: Some(Step::Chdir),
            ..Fake::failing(Step::Move)
        };
        let res = switch_root(&mut vfs, None);
        check!(
            res == Err(Failure {
                step: Step::Move,
                err: EIO,
                undo: Some((Step::Chdir, EBUSY))
            })
        );
        // The undo stopped there: nothing after it was attempted.
        check!(vfs.in_tmpfs && vfs.mounted && vfs.dir && !vfs.moved);
    }

    #[link_section = ".init.text"]
    extern "C" fn options_are_applied(_test: *mut bindings::kunit) {
        let mut vfs = Fake::default();
        let mut opts = *b"size=1m,mode=755\0";
        check!(switch_root(&mut vfs, Some(&mut opts)) == Ok(Options::Applied));
        check!(vfs.is_switched());
        check!(vfs.mounts == 1 && vfs.mounts_with_options == 1);
    }

    #[link_section = ".init.text"]
    extern "C" fn rejected_options_fall_back(_test: *mut bindings::kunit) {
        let mut vfs = Fake {
            reject_options: true,
            ..Default::default()
        };
        let mut opts = *b"bogus=1\0";
        check!(switch_root(&mut vfs, Some(&mut opts)) == Ok(Options::Rejected(EINVAL)));
        check!(vfs.is_switched());
        check!(vfs.mounts == 2 && vfs.mounts_with_options == 1);

        // Rejected options and a failing default mount: the mount step fails, all undone.
        let mut vfs = Fake {
            reject_options: true,
            ..Fake::failing(Step::Mount)
        };
        let mut opts = *b"bogus=1\0";
        let res = switch_root(&mut vfs, Some(&mut opts));
        check!(
            res == Err(Failure {
                step: Step::Mount,
                err: EIO,
                undo: None
            })
        );
        check!(vfs.is_clean());
    }

    extern "C" {
        static __setup_start: [Entry; 0];
        static __setup_end: [Entry; 0];
    }

    /// The boot parser's table, walked as C walks it: an array of `struct obs_kernel_param`.
    #[link_section = ".init.text"]
    fn find_entry(name: &CStr, early: bool) -> Option<&'static Entry> {
        // The linker script brackets `.init.setup` with these symbols; we run before init
        // memory is freed.
        let mut p = core::ptr::addr_of!(__setup_start).cast::<Entry>();
        let end = core::ptr::addr_of!(__setup_end).cast::<Entry>();
        while p < end {
            // SAFETY: `p` is within the table: every entry is a valid `Entry`, static until
            // init memory is freed.
            let e = unsafe { &*p };
            if is(e.name(), name) && e.is_early() == early {
                return Some(e);
            }
            // SAFETY: `p < end`, so one step further is at most `end`.
            p = unsafe { p.add(1) };
        }
        None
    }

    #[link_section = ".init.text"]
    extern "C" fn entries_are_in_the_c_table(_test: *mut bindings::kunit) {
        // If the Rust layout differed from `struct obs_kernel_param`, walking the table with
        // the C stride would not find the entries the macros emitted.
        let setup = find_entry(c_str!("nonroot_initramfs"), false);
        let early = find_entry(c_str!("initramfs_options"), true);
        check!(setup.is_some());
        check!(early.is_some());
        check!(find_entry(c_str!("nonroot_initramfs"), true).is_none());
    }

    /// Calls the registered `nonroot_initramfs` handler as the boot parser does; returns its
    /// return value and `ENABLED` after it.
    #[link_section = ".init.text"]
    fn parse(start: bool, rest: &[u8]) -> (i32, bool) {
        let Some(entry) = find_entry(c_str!("nonroot_initramfs"), false) else {
            return (-1, start);
        };
        let mut buf = [0u8; 16];
        if rest.len() >= buf.len() {
            return (-1, start);
        }
        buf[..rest.len()].copy_from_slice(rest);
        ENABLED.store(start, Ordering::Relaxed);
        // SAFETY: Init memory is still there: this is an init section suite.
        let ret = unsafe { entry.call(&mut buf[..=rest.len()]) };
        (ret, ENABLED.load(Ordering::Relaxed))
    }

    #[link_section = ".init.text"]
    extern "C" fn parameter_grammar(_test: *mut bindings::kunit) {
        let saved = ENABLED.load(Ordering::Relaxed);
        // The bare option enables.
        check!(parse(false, b"") == (1, true));
        // Values follow kstrtobool().
        for on in [&b"=1"[..], b"=y", b"=Y", b"=on", b"=ON", b"=yes"] {
            check!(parse(false, on) == (1, true));
        }
        for off in [&b"=0"[..], b"=n", b"=N", b"=off", b"=Off", b"=no"] {
            check!(parse(true, off) == (1, false));
        }
        // Any other value is consumed with a warning and the state stays.
        for bad in [&b"=bogus"[..], b"=", b"=2", b"=-1"] {
            check!(parse(false, bad) == (1, false));
            check!(parse(true, bad) == (1, true));
        }
        // A longer option that only shares the prefix is not ours.
        check!(parse(false, b"x=1") == (0, false));
        check!(parse(true, b"_foo") == (0, true));
        ENABLED.store(saved, Ordering::Relaxed);
    }

    /// KUnit runs after `populate_rootfs()`, in a kernel thread sharing the boot task's
    /// `fs_struct`: it sees the final root.
    #[link_section = ".init.text"]
    extern "C" fn final_mount_state(_test: *mut bindings::kunit) {
        // SAFETY: An all-zero `struct nonroot_initramfs_root` is valid: null, false, 0.
        let mut root: bindings::nonroot_initramfs_root = unsafe { core::mem::zeroed() };
        // SAFETY: `root` is valid for writes; we run before init memory is freed.
        unsafe { bindings::nonroot_initramfs_describe_root(&mut root) };
        check!(!root.fstype.is_null());
        if root.fstype.is_null() {
            return;
        }
        // SAFETY: `fstype` is the name of a registered file system type, a static string.
        let fstype = unsafe { CStr::from_char_ptr(root.fstype) };
        if SWITCHED.load(Ordering::Relaxed) {
            // The root is the tmpfs, mounted on rootfs, which holds only the empty `/root`.
            check!(is(fstype, c_str!("tmpfs")));
            check!(!root.is_rootfs && root.parent_is_rootfs);
            check!(root.rootfs_entries == 1 && root.rootfs_root_empty);
        } else {
            // The root is rootfs, holding the initramfs.
            check!(root.is_rootfs && !root.parent_is_rootfs);
            check!(root.rootfs_entries > 1);
        }
    }

    #[link_section = ".init.data"]
    static mut CASES: [bindings::kunit_case; 9] = [
        kunit_case(c_str!("switch_succeeds"), switch_succeeds),
        kunit_case(
            c_str!("each_failed_step_is_undone"),
            each_failed_step_is_undone,
        ),
        kunit_case(c_str!("failed_undo_is_reported"), failed_undo_is_reported),
        kunit_case(c_str!("options_are_applied"), options_are_applied),
        kunit_case(
            c_str!("rejected_options_fall_back"),
            rejected_options_fall_back,
        ),
        kunit_case(
            c_str!("entries_are_in_the_c_table"),
            entries_are_in_the_c_table,
        ),
        kunit_case(c_str!("parameter_grammar"), parameter_grammar),
        kunit_case(c_str!("final_mount_state"), final_mount_state),
        kunit_case_null(),
    ];

    kernel::kunit_unsafe_test_suite!(init nonroot_initramfs, CASES);
}
