// SPDX-License-Identifier: GPL-2.0

//! A Rust module that must not build on a kernel with `CONFIG_MODVERSIONS=y`.

use kernel::prelude::*;

module! {
    type: NriRustMod,
    name: "nri_rust_mod",
    author: "nonroot_initramfs tests",
    description: "must not build with MODVERSIONS",
    license: "GPL",
}

struct NriRustMod;

impl kernel::Module for NriRustMod {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(NriRustMod)
    }
}
