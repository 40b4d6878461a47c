//! The `virt-doctor` command line.

mod cli;

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
