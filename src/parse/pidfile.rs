//! A pid file (`run/libvirt/qemu/<domain>.pid`): one process id.

use super::{quote, single_u64, Parsed, Problem};

pub fn parse(text: &str) -> Parsed<Option<u32>> {
    let p = single_u64(text);
    match p.value.map(u32::try_from) {
        Some(Ok(pid)) => Parsed::ok(Some(pid)),
        Some(Err(_)) => Parsed::failed(Problem::at(
            1,
            format!("{} is not a process id", quote(text.trim())),
        )),
        None => Parsed {
            value: None,
            problems: p.problems,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_process_id() {
        assert_eq!(parse("4242\n").value, Some(4242));
        assert_eq!(parse("99999999999\n").problems[0].line, Some(1));
        assert_eq!(parse("x\n").problems[0].line, Some(1));
    }
}
