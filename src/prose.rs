//! Text laid out for a terminal of a given width: prose reflowed once to
//! fit, and everything that could be pasted (commands, XML, paths, log
//! lines) left exactly as written.
//!
//! Rule texts are hard-wrapped in their TOML files at about 75 columns.
//! Wrapping those lines again at another width breaks them twice (a short
//! line after every long one); so a paragraph's lines are joined first,
//! then wrapped once. A line that starts with white space is code (the
//! rule files indent commands and XML) and is never joined or wrapped.

use unicode_width::UnicodeWidthStr;

/// The width tables and reports are laid out for: `COLUMNS` when set (as
/// by a shell, or by a user who wants another width), else the
/// terminal's, else 80 (piped into a file or a ticket).
pub fn output_width(stdout_is_terminal: bool) -> usize {
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0);
    let from_terminal = || {
        stdout_is_terminal
            .then(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)))
            .flatten()
    };
    // Narrower than this, nothing readable fits beside an indent.
    from_env.or_else(from_terminal).unwrap_or(80).max(40)
}

/// Columns `text` takes on a terminal (CJK characters take two).
pub fn width_of(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// `text` reflowed to `width` columns, every line starting with `indent`:
/// paragraphs (separated by blank lines) are joined and wrapped once; a
/// line starting with white space is kept verbatim; a line starting with
/// `- ` starts a list item whose continuation lines hang under its text.
pub fn reflow(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let flush = |paragraph: &mut Vec<&str>, out: &mut String| {
        if paragraph.is_empty() {
            return;
        }
        let joined = join_lines(paragraph);
        let hang = if joined.starts_with("- ") { "  " } else { "" };
        let subsequent = format!("{indent}{hang}");
        let options = textwrap::Options::new(width.max(indent.len() + 20))
            .initial_indent(indent)
            .subsequent_indent(&subsequent)
            .break_words(false)
            .word_separator(textwrap::WordSeparator::Custom(words_and_ideographs))
            .word_splitter(textwrap::WordSplitter::NoHyphenation);
        for line in textwrap::wrap(&joined, options) {
            out.push_str(line.trim_end());
            out.push('\n');
        }
        paragraph.clear();
    };
    for line in text.trim_matches('\n').lines() {
        if line.trim().is_empty() {
            flush(&mut paragraph, &mut out);
            out.push('\n');
        } else if line.starts_with([' ', '\t']) {
            flush(&mut paragraph, &mut out);
            out.push_str(indent);
            out.push_str(line.trim_end());
            out.push('\n');
        } else {
            if line.starts_with("- ") {
                flush(&mut paragraph, &mut out);
            }
            paragraph.push(line.trim());
        }
    }
    flush(&mut paragraph, &mut out);
    out
}

/// Chinese, Japanese: characters that are words of their own for line
/// breaking (ideographs, kana, full-width punctuation and forms).
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3000}'..='\u{30FF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FF00}'..='\u{FFEF}')
}

/// Ideographs and kana: a line may break before or after each (not
/// full-width punctuation, which sticks to its neighbours).
fn is_ideograph(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}')
}

/// Punctuation no line may start with (it closes what came before).
fn no_break_before(c: char) -> bool {
    "，。、；：？！）」』】》〉％,.;:!?)]}".contains(c)
}

/// Punctuation no line may end with (it opens what comes after).
fn no_break_after(c: char) -> bool {
    "（「『【《〈([{".contains(c)
}

/// Where a line may break: after spaces, as in English, and between
/// ideographs, which Chinese writes without spaces, but never inside a
/// word of Latin letters, a path or a command (`/usr/sbin/libvirtd`,
/// `kvm-busy-03`), nor before closing or after opening punctuation.
fn words_and_ideographs(line: &str) -> Box<dyn Iterator<Item = textwrap::core::Word<'_>> + '_> {
    let mut words = Vec::new();
    let mut start = 0;
    let mut previous: Option<char> = None;
    for (i, c) in line.char_indices() {
        if let Some(p) = previous {
            let after_space = p == ' ' && c != ' ';
            let around_ideograph = (is_ideograph(c) || is_ideograph(p))
                && p != ' '
                && c != ' '
                && !no_break_before(c)
                && !no_break_after(p);
            // A clause ends at Chinese punctuation: `db01（5），web02`.
            let after_clause = "，。、；：！？".contains(p) && c != ' ' && !no_break_before(c);
            if after_space || around_ideograph || after_clause {
                words.push(textwrap::core::Word::from(&line[start..i]));
                start = i;
            }
        }
        previous = Some(c);
    }
    if start < line.len() {
        words.push(textwrap::core::Word::from(&line[start..]));
    }
    Box::new(words.into_iter())
}

/// A paragraph's lines as one: joined by a space, except where Chinese
/// meets Chinese or Chinese punctuation (a line break inside Chinese text
/// is no space; between Chinese and a Latin word, as in `mode 时`, the
/// space Chinese writers put there stays).
fn join_lines(lines: &[&str]) -> String {
    let mut out = String::new();
    for line in lines {
        let (last, first) = (out.chars().last(), line.chars().next());
        let punctuation = |c: Option<char>| c.is_some_and(|c| is_cjk(c) && !is_ideograph(c));
        let no_space = (last.is_some_and(is_cjk) && first.is_some_and(is_cjk))
            || punctuation(last)
            || punctuation(first);
        if !out.is_empty() && !no_space {
            out.push(' ');
        }
        out.push_str(line);
    }
    out
}

/// `text` on lines of at most `width` columns, the first starting with
/// `first`, the rest with `rest`; words longer than a line (a path, a
/// log line without spaces) are broken, since this is for text that must
/// fit, not text that must be pasted.
pub fn wrap_hanging(text: &str, width: usize, first: &str, rest: &str) -> String {
    let options = textwrap::Options::new(width.max(rest.len() + 20))
        .initial_indent(first)
        .subsequent_indent(rest)
        .break_words(true)
        .word_separator(textwrap::WordSeparator::Custom(words_and_ideographs))
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    let mut out = String::new();
    for line in textwrap::wrap(text, options) {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `text` cut to `width` columns with `…`, for a line that must stay one
/// line (the triage list); the whole text is printed further down.
pub fn fit(text: &str, width: usize) -> String {
    if width_of(text) <= width {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// `text` as one Markdown code span: delimited by a run of backticks
/// longer than any inside it, padded when it starts or ends with one, so
/// that XML, paths and log lines are shown as written, not as HTML.
pub fn code_span(text: &str) -> String {
    let text = text.replace('\n', " ");
    let (mut longest, mut run) = (0, 0);
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let ticks = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_are_joined_then_wrapped_once() {
        let text = "one two three\nfour five six\n\nseven eight";
        assert_eq!(
            reflow(text, 40, "  "),
            "  one two three four five six\n\n  seven eight\n"
        );
        assert_eq!(
            reflow(
                "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk",
                30,
                "> "
            ),
            "> aaaa bbbb cccc dddd eeee\n> ffff gggg hhhh iiii jjjj\n> kkkk\n"
        );
    }

    #[test]
    fn indented_lines_are_code_and_stay_whole() {
        let cmd = "  echo 'vm.swappiness = 10' > /etc/sysctl.d/90-kvm-swappiness.conf";
        let text = format!("Lower it now and at every boot:\n{cmd}\nand reboot");
        let out = reflow(&text, 40, "    ");
        assert!(out.lines().any(|l| l == format!("    {cmd}")), "{out}");
        assert!(out.ends_with("    and reboot\n"), "{out}");
    }

    #[test]
    fn list_items_hang() {
        let out = reflow(
            "- first item that is long enough to wrap here\n- second",
            30,
            "",
        );
        assert_eq!(
            out,
            "- first item that is long\n  enough to wrap here\n- second\n"
        );
    }

    #[test]
    fn fit_cuts_by_columns_not_bytes() {
        assert_eq!(fit("abcdef", 6), "abcdef");
        assert_eq!(fit("abcdefg", 6), "abcde…");
        // Two columns per CJK character.
        assert_eq!(fit("大页大页大页", 7), "大页大…");
        assert!(width_of(&fit("大页大页大页", 7)) <= 7);
    }

    #[test]
    fn code_spans_hold_any_backticks() {
        assert_eq!(code_span("<domain> x"), "`<domain> x`");
        assert_eq!(code_span("a `b` c"), "``a `b` c``");
        assert_eq!(code_span("`x`"), "`` `x` ``");
    }

    #[test]
    fn names_with_hyphens_are_not_split() {
        let out = reflow("most findings: kvm-busy-03 (5), rt01 (3)", 20, "");
        assert_eq!(out, "most findings:\nkvm-busy-03 (5),\nrt01 (3)\n");
        let out = wrap_hanging("on kvm-busy-03 now", 20, "", "  ");
        assert_eq!(out, "on kvm-busy-03 now\n");
        let out = wrap_hanging("most findings: kvm-busy-03", 20, "", "  ");
        assert_eq!(out, "most findings:\n  kvm-busy-03\n");
    }

    #[test]
    fn chinese_breaks_between_characters_not_inside_words() {
        let text = "虚拟机在缺少这些特性的情况下运行，而不是使用其定义中描述的 CPU（/usr/sbin/libvirtd）。";
        let out = reflow(text, 30, "");
        for line in out.lines() {
            assert!(width_of(line) <= 30, "{line}");
            assert!(!line.starts_with('，') && !line.starts_with('。'), "{line}");
        }
        assert!(out.contains("/usr/sbin/libvirtd"), "{out}");
        // Nothing lost but the space a line broke at.
        assert_eq!(out.replace(['\n', ' '], ""), text.replace(' ', ""));
        // A name keeps its count; a list breaks after its commas.
        let out = reflow(
            "结果最多：compute4（2），instance-00000001（2），web（2）",
            30,
            "",
        );
        assert_eq!(
            out,
            "结果最多：compute4（2），\ninstance-00000001（2），\nweb（2）\n"
        );
        // A line break inside Chinese is no space; between English words it is.
        assert_eq!(reflow("宿主机\n内存", 40, ""), "宿主机内存\n");
        assert_eq!(reflow("未指定 mode\n时", 40, ""), "未指定 mode 时\n");
        assert_eq!(reflow("内存，\nmode", 40, ""), "内存，mode\n");
        assert_eq!(reflow("host\nmemory", 40, ""), "host memory\n");
    }

    #[test]
    fn hanging_wrap_breaks_long_words_to_fit() {
        let out = wrap_hanging(&"x".repeat(50), 30, "a: ", "   ");
        assert!(out.lines().all(|l| width_of(l) <= 30), "{out}");
    }
}
