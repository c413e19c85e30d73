//! `licadmin release`: stop using the loaded file and print a release receipt for the vendor.

use allocation::Allocator;

use crate::output::{out, print_stderr, to_json, Output};
use crate::CliError;

/// `licadmin release`'s examples.
pub(crate) const HELP: &str =
    "Examples:\n  licadmin release > ic1.receipt\n  licadmin release --json";

/// Release the loaded file: the receipt on standard output (pasteable as it is), what was
/// freed on standard error.
pub(crate) fn run(a: &Allocator) -> Result<Output, CliError> {
    let r = a.release()?;
    print_stderr(&format!(
        "licadmin: released file {} (lineage {}, generation {}): {} session(s) ended, {} allocation(s) freed; this store refuses that lineage from now on",
        r.file_id, r.lineage, r.generation, r.sessions_ended, r.allocations_freed
    ));
    if !r.key_bound {
        print_stderr(
            "licadmin: warning: the file binds no install key of this store (it was not issued for this store's request code): the vendor cannot check this receipt, and the deactivation will wait for approval",
        );
    }
    Ok(out(r.receipt.clone(), to_json(&r)))
}
