#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| virt_doctor::fuzz_entry::run("capture_files", data));
