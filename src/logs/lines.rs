//! Lines of a log file, streamed with bounded memory whatever the file.
//!
//! Gzip-compressed rotations (`messages-20261101.gz`, `syslog.2.gz`) are
//! recognised by their magic bytes. Bytes that are not UTF-8 are replaced,
//! CRLF endings lose their CR, and a line longer than [`MAX_LINE`] keeps
//! only its start (counted and reported). A read error part-way, such as a
//! truncated `.gz`, ends the file with what was read and a note.

use std::io::{BufRead, BufReader, Read};

/// Longest line kept whole; longer ones are cut (no kernel or libvirt line
/// comes close).
pub const MAX_LINE: usize = 64 * 1024;

pub struct Lines<'a> {
    reader: Box<dyn BufRead + 'a>,
    buf: Vec<u8>,
    pub number: usize,
    /// Lines cut at [`MAX_LINE`].
    pub cut: usize,
    /// Why reading stopped early, if it did.
    pub error: Option<String>,
}

impl<'a> Lines<'a> {
    pub fn new(reader: Box<dyn Read + 'a>) -> Lines<'a> {
        let mut buffered = BufReader::with_capacity(256 * 1024, reader);
        let gz = matches!(buffered.fill_buf(), Ok(head) if head.starts_with(&[0x1f, 0x8b]));
        let reader: Box<dyn BufRead + 'a> = if gz {
            Box::new(BufReader::with_capacity(
                256 * 1024,
                flate2::bufread::MultiGzDecoder::new(buffered),
            ))
        } else {
            Box::new(buffered)
        };
        Lines {
            reader,
            buf: Vec::with_capacity(1024),
            number: 0,
            cut: 0,
            error: None,
        }
    }

    /// The next line's number (from 1) and text (without its ending), or
    /// `None` at the end.
    pub fn next_line(&mut self) -> Option<(usize, std::borrow::Cow<'_, str>)> {
        let number = self.next_raw()?;
        Some((number, String::from_utf8_lossy(&self.buf)))
    }

    /// The bytes of the line [`Lines::next_raw`] last read.
    pub fn raw(&self) -> &[u8] {
        &self.buf
    }

    /// Read the next line into the buffer ([`Lines::raw`]) and return its
    /// number; `None` at the end. Callers that can reject most lines from
    /// their bytes skip the UTF-8 decoding of [`Lines::next_line`].
    pub fn next_raw(&mut self) -> Option<usize> {
        self.buf.clear();
        let mut cut = false;
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.error = Some(format!("read stopped after line {}: {e}", self.number));
                    break;
                }
            };
            if chunk.is_empty() {
                if self.buf.is_empty() && !cut {
                    return None;
                }
                break;
            }
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            let room = MAX_LINE.saturating_sub(self.buf.len());
            if take > room {
                cut = true;
            }
            self.buf.extend_from_slice(&chunk[..take.min(room)]);
            self.reader.consume(if done { take + 1 } else { take });
            if done {
                break;
            }
        }
        if self.error.is_some() && self.buf.is_empty() {
            return None;
        }
        self.number += 1;
        if cut {
            self.cut += 1;
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Some(self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(data: Vec<u8>) -> (Vec<String>, usize, Option<String>) {
        let mut l = Lines::new(Box::new(std::io::Cursor::new(data)));
        let mut out = Vec::new();
        while let Some((_, line)) = l.next_line() {
            out.push(line.into_owned());
        }
        (out, l.cut, l.error)
    }

    #[test]
    fn crlf_junk_and_long_lines() {
        let mut data = b"one\r\ntwo \xff\xfe end\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', MAX_LINE * 3));
        data.extend(b"\nlast");
        let (lines, cut, err) = all(data);
        assert_eq!(lines[0], "one");
        assert_eq!(lines[1], "two \u{fffd}\u{fffd} end");
        assert_eq!(lines[2].len(), MAX_LINE);
        assert_eq!(lines[3], "last");
        assert_eq!((cut, err), (1, None));
    }

    #[test]
    fn gzip_and_truncated_gzip() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for i in 0..2000 {
            writeln!(gz, "line {i} with some text to compress").unwrap();
        }
        let bytes = gz.finish().unwrap();
        let (lines, _, err) = all(bytes.clone());
        assert_eq!((lines.len(), err), (2000, None));
        let (lines, _, err) = all(bytes[..bytes.len() / 2].to_vec());
        assert!(lines.len() < 2000);
        assert!(err.unwrap().starts_with("read stopped after line"));
    }
}
