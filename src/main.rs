//! The `virt-doctor` command line: `cli` defines the arguments and hands
//! each command to `commands`, which does it with the library.

/// A line on stderr. A closed stderr (`2>&-`) is no reason to panic, as
/// `eprintln!` would: the report on stdout still matters. Defined before
/// the modules so that both see it.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod cli;
mod commands;

fn main() {
    std::process::exit(cli::run());
}
