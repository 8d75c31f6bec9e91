// SPDX-License-Identifier: GPL-2.0

//! Compile test of `kernel::boot_param` (scripts/check.sh), built as a single object in the
//! kernel tree and removed again: with `LIFETIME` replaced by `'static` it must not compile (a
//! handler may only borrow the value), with it removed it must.

use kernel::prelude::*;

const __LOG_PREFIX: &[u8] = b"nri_handler_lifetime\0";

fn handler(value: Option<&LIFETIME CStr>) -> Result {
    let _ = value;
    Ok(())
}
kernel::boot_param::setup!("nri_handler_lifetime", handler);
