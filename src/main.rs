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
    quiet_cel_panics();
    std::process::exit(cli::run());
}

/// The CEL crates panic on some rule expressions (`a ==`); the library
/// catches those panics and reports them as the rule's error, so their
/// default message would only be noise on stderr. Every other panic keeps
/// it.
fn quiet_cel_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !virt_doctor::rules::expr::raised_in_cel(info.location()) {
            default(info);
        }
    }));
}
