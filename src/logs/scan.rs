//! Reading a log file in large buffers and handing on the lines that may
//! matter, with bounded memory whatever the file.
//!
//! With a prefilter (the literals the rules cannot match without, see
//! `literals`), the buffer is searched as a whole and only the lines
//! holding a hit are handed on: the rest are counted, never copied or
//! decoded. Line numbers are counted lazily, between hits. Without one,
//! every line is handed on.
//!
//! Either way the file reads the same: gzip-compressed rotations
//! (`messages-20261101.gz`, `syslog.2.gz`) are recognised by their magic
//! bytes; CRLF endings lose their CR; a line longer than [`MAX_LINE`]
//! keeps only its start (counted, and reported by the caller); a read
//! error part-way, such as a truncated `.gz`, ends the file with what was
//! read and a note.

use std::io::{BufRead, BufReader, Read};

use super::literals::Prefilter;

/// Longest line kept whole; longer ones are cut (no kernel or libvirt line
/// comes close).
pub const MAX_LINE: usize = 64 * 1024;

/// Bytes searched at a time. Large enough that refills are rare, small
/// enough to be nothing beside the 64 MiB a run may use.
const BUFFER: usize = 1 << 20;

/// What reading a file came to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Lines in the file (all of them, not only those handed on).
    pub lines: usize,
    /// Lines cut at [`MAX_LINE`].
    pub cut: usize,
    /// Why reading stopped early, if it did.
    pub error: Option<String>,
}

/// Call `line(number, bytes)` for the lines of `reader` that contain a
/// hit of `prefilter` (and always for line 1, which may be a journal's
/// header), or for every line without a prefilter. Numbers start at 1;
/// bytes are without the line ending and at most [`MAX_LINE`] long.
pub fn scan<'r>(
    reader: Box<dyn Read + 'r>,
    prefilter: Option<&Prefilter>,
    line: impl FnMut(usize, &[u8]),
) -> Totals {
    Scanner::new(decompressed(reader), BUFFER).run(prefilter, line)
}

/// The reader's bytes, gunzipped when they are gzip.
fn decompressed<'r>(reader: Box<dyn Read + 'r>) -> Box<dyn Read + 'r> {
    let mut peek = BufReader::with_capacity(64 * 1024, reader);
    let gz = matches!(peek.fill_buf(), Ok(head) if head.starts_with(&[0x1f, 0x8b]));
    if gz {
        Box::new(flate2::bufread::MultiGzDecoder::new(peek))
    } else {
        Box::new(peek)
    }
}

struct Scanner<'r> {
    reader: Box<dyn Read + 'r>,
    buf: Vec<u8>,
    /// Valid bytes in `buf`.
    end: usize,
    eof: bool,
    /// Inside a line too long for the buffer: drop bytes to its end.
    skipping: bool,
    read: Totals,
}

impl<'r> Scanner<'r> {
    fn new(reader: Box<dyn Read + 'r>, size: usize) -> Scanner<'r> {
        Scanner {
            reader,
            buf: vec![0; size.max(MAX_LINE + 2)],
            end: 0,
            eof: false,
            skipping: false,
            read: Totals::default(),
        }
    }

    /// Fill the buffer after its first `end` bytes, to full or the end.
    fn fill(&mut self) {
        while self.end < self.buf.len() && !self.eof {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // Counted lines so far plus the complete lines in the
                    // buffer: those before the failure.
                    let complete = bytecount::count(&self.buf[..self.end], b'\n');
                    let before = if self.skipping { 0 } else { complete };
                    self.read.error = Some(format!(
                        "read stopped after line {}: {e}",
                        self.read.lines + before
                    ));
                    self.eof = true;
                }
            }
        }
    }

    fn run(mut self, prefilter: Option<&Prefilter>, mut line: impl FnMut(usize, &[u8])) -> Totals {
        loop {
            self.fill();
            if self.end == 0 {
                return self.read;
            }
            if self.skipping {
                // The rest of a cut line: up to its newline, if in sight.
                match memchr::memchr(b'\n', &self.buf[..self.end]) {
                    Some(i) => {
                        self.skipping = false;
                        self.consume(i + 1);
                        continue;
                    }
                    None => {
                        self.end = 0;
                        if self.eof {
                            return self.read;
                        }
                        continue;
                    }
                }
            }
            // Whole lines only; the last line may lack its newline at the end.
            let whole = match memchr::memrchr(b'\n', &self.buf[..self.end]) {
                Some(i) if !self.eof => i + 1,
                _ if self.eof => self.end,
                _ => {
                    // A full buffer without a line end: one line longer
                    // than the buffer. Its start is the line; the rest is
                    // dropped.
                    self.read.lines += 1;
                    self.read.cut += 1;
                    line(self.read.lines, trim(&self.buf[..MAX_LINE]));
                    self.skipping = true;
                    self.end = 0;
                    continue;
                }
            };
            let region = &self.buf[..whole];
            let first = self.read.lines == 0;
            match prefilter {
                Some(ac) => scan_hits(region, ac, first, &mut self.read, &mut line),
                None => scan_all(region, &mut self.read, &mut line),
            }
            if self.eof {
                return self.read;
            }
            self.consume(whole);
        }
    }

    /// Drop the first `n` bytes, keeping the rest (a partial line) in front.
    fn consume(&mut self, n: usize) {
        self.buf.copy_within(n..self.end, 0);
        self.end -= n;
    }
}

/// A line's bytes as handed on: at most MAX_LINE, without a CR ending.
fn trim(line: &[u8]) -> &[u8] {
    let line = &line[..line.len().min(MAX_LINE)];
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Every line of `region` (whole lines, the last maybe without its newline).
fn scan_all(region: &[u8], read: &mut Totals, line: &mut impl FnMut(usize, &[u8])) {
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', region).chain(
        // The last line, when it has no newline.
        (region.last() != Some(&b'\n')).then_some(region.len()),
    ) {
        let text = &region[start..end];
        read.lines += 1;
        if text.len() > MAX_LINE {
            read.cut += 1;
        }
        line(read.lines, trim(text));
        start = end + 1;
    }
}

/// The lines of `region` holding a hit of `ac` (and line 1 when `first`).
fn scan_hits(
    region: &[u8],
    ac: &Prefilter,
    first: bool,
    read: &mut Totals,
    line: &mut impl FnMut(usize, &[u8]),
) {
    let mut pos = 0;
    if first {
        let end = memchr::memchr(b'\n', region).unwrap_or(region.len());
        hand_on(&region[..end], read, line);
        pos = end + 1;
    }
    while pos < region.len() {
        let Some(hit) = ac.find(&region[pos..]) else {
            break;
        };
        let hit = pos + hit;
        let start = memchr::memrchr(b'\n', &region[pos..hit]).map_or(pos, |i| pos + i + 1);
        count(&region[pos..start], read);
        let end = memchr::memchr(b'\n', &region[hit..]).map_or(region.len(), |i| hit + i);
        hand_on(&region[start..end], read, line);
        pos = end + 1;
    }
    if pos < region.len() {
        let rest = &region[pos..];
        match rest.last() {
            Some(b'\n') => count(rest, read),
            // The file's last line, without a newline.
            _ => {
                let start = memchr::memrchr(b'\n', rest).map_or(0, |i| i + 1);
                count(&rest[..start], read);
                read.lines += 1;
                if rest.len() - start > MAX_LINE {
                    read.cut += 1;
                }
            }
        }
    }
}

fn hand_on(text: &[u8], read: &mut Totals, line: &mut impl FnMut(usize, &[u8])) {
    read.lines += 1;
    if text.len() > MAX_LINE {
        read.cut += 1;
    }
    line(read.lines, trim(text));
}

/// Count the whole lines of `lines` (each ending in a newline) without
/// handing them on: how many, and how many are longer than MAX_LINE.
fn count(lines: &[u8], read: &mut Totals) {
    read.lines += bytecount::count(lines, b'\n');
    // A line longer than MAX_LINE is a stretch of more than MAX_LINE bytes
    // without a newline. Any window of MAX_LINE + 1 bytes from a line's
    // start that holds a newline proves every line ending inside it short,
    // so the search jumps a window at a time, looking back from each
    // window's end for its last newline (found within a line's length).
    let mut start = 0;
    while lines.len() - start > MAX_LINE + 1 {
        let window = &lines[start..start + MAX_LINE + 1];
        match memchr::memrchr(b'\n', window) {
            Some(i) => start += i + 1,
            None => {
                read.cut += 1;
                let rest = start + MAX_LINE + 1;
                start = rest + memchr::memchr(b'\n', &lines[rest..]).map_or(lines.len(), |i| i + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (number, text) of the lines handed on, and the totals.
    fn lines_of(
        data: &[u8],
        ac: Option<&Prefilter>,
        size: usize,
    ) -> (Vec<(usize, String)>, Totals) {
        let mut out = Vec::new();
        let read = Scanner::new(
            decompressed(Box::new(std::io::Cursor::new(data.to_vec()))),
            size,
        )
        .run(ac, |n, l| {
            out.push((n, String::from_utf8_lossy(l).into_owned()))
        });
        (out, read)
    }

    #[test]
    fn crlf_junk_and_long_lines() {
        let mut data = b"one\r\ntwo \xff\xfe end\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', MAX_LINE * 3));
        data.extend(b"\nlast");
        for size in [MAX_LINE + 2, BUFFER] {
            let (lines, read) = lines_of(&data, None, size);
            assert_eq!(lines[0], (1, "one".into()));
            assert_eq!(lines[1], (2, "two \u{fffd}\u{fffd} end".into()));
            assert_eq!(lines[2].1.len(), MAX_LINE);
            assert_eq!(lines[3], (4, "last".into()));
            assert_eq!(
                read,
                Totals {
                    lines: 4,
                    cut: 1,
                    error: None
                }
            );
        }
    }

    #[test]
    fn gzip_and_truncated_gzip() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for i in 0..2000 {
            writeln!(gz, "line {i} with some text to compress").unwrap();
        }
        let bytes = gz.finish().unwrap();
        let (lines, read) = lines_of(&bytes, None, BUFFER);
        assert_eq!((lines.len(), read.lines, read.error), (2000, 2000, None));
        let (lines, read) = lines_of(&bytes[..bytes.len() / 2], None, BUFFER);
        assert!(lines.len() < 2000);
        let error = read.error.unwrap();
        assert!(error.starts_with("read stopped after line"), "{error}");
    }

    /// A file of short lines, long lines and lines longer than the buffer,
    /// with and without a final newline: the prefilter hands on exactly
    /// the lines holding a hit (and line 1), with the numbers and text the
    /// every-line reading gives them, and both count the same lines.
    #[test]
    fn hits_are_the_lines_that_hold_them() {
        let ac = Prefilter::new(&["needle".to_owned()]).unwrap();
        let mut data = Vec::new();
        let mut state = 7u64;
        for i in 0..3000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = match state >> 60 {
                0 => MAX_LINE + (state >> 40) as usize % (3 * MAX_LINE),
                1 => MAX_LINE - 1 + (state >> 40) as usize % 3,
                _ => (state >> 40) as usize % 200,
            };
            let mut l = vec![b'a' + (i % 26) as u8; len];
            if (state >> 58) & 3 == 0 && len > 10 {
                let at = (state >> 20) as usize % (len - 6);
                l[at..at + 6].copy_from_slice(b"needle");
            }
            if i % 7 == 0 {
                l.push(b'\r');
            }
            data.extend(l);
            data.push(b'\n');
        }
        for tail in [&b""[..], b"last needle", b"last"] {
            let mut data = data.clone();
            data.extend(tail);
            for size in [MAX_LINE + 2, 100_000, BUFFER] {
                let (all, read_all) = lines_of(&data, None, size);
                let (hits, read_hits) = lines_of(&data, Some(&ac), size);
                assert_eq!(read_all, read_hits, "size {size}");
                let expected: Vec<_> = all
                    .into_iter()
                    .filter(|(n, l)| *n == 1 || l.contains("needle"))
                    .collect();
                // A hit past MAX_LINE in a cut line is handed on too, cut
                // (the rules then see what every-line reading shows them).
                let shown: Vec<_> = hits
                    .into_iter()
                    .filter(|(n, l)| *n == 1 || l.contains("needle"))
                    .collect();
                assert_eq!(shown, expected, "size {size}");
            }
        }
    }
}
