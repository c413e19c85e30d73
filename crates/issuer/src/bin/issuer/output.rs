//! Everything `issuer` prints goes through here: standard output through [`Out`], standard
//! error through [`eprint_line`]. Both escape control characters and the other characters a
//! name may not hold (bidirectional overrides, zero-width characters, line separators:
//! [`format::text::is_refused_char`]), so a value that holds a terminal escape sequence or a
//! reordering override (a ledger edited directly in SQLite, written before they were refused,
//! a file name) is shown as `\u{1b}]0;...` or `\u{202e}` instead of acting on the terminal.
//! Only a line break passes as it is.
//!
//! A reader that went away (`issuer activity | head -1`: the pipe is closed) is not an
//! error of the command: the output ends there, quietly, and the command finishes with the
//! exit status it would have had (0 when it succeeded; what it did, such as issuing a file,
//! is done either way). Any other failure to write is still an error (exit 4).

use std::io::{self, Write};

/// `text` with every refused character ([`format::text::is_refused_char`]: controls,
/// bidirectional overrides, zero-width characters, line separators ...) except the line break
/// written as Rust writes it in a string literal (`\u{1b}`, `\t`, `\r`, `\u{202e}`),
/// everything else as it is.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    format::text::escape_refused(text, &['\n'])
}

fn push_escaped(out: &mut String, text: &str) {
    out.push_str(&escape_controls(text));
}

/// A writer that escapes control characters ([`escape_controls`]) in what passes through
/// it. Bytes that are not UTF-8 are written as `\xNN`; a character split across two writes is
/// kept until its last byte arrives (or until [`Write::flush`]).
pub struct Out<W: Write> {
    inner: W,
    /// The start of a UTF-8 sequence whose remaining bytes have not been written yet.
    partial: Vec<u8>,
    /// The reader went away (broken pipe): everything else written is dropped.
    closed: bool,
}

impl Out<io::StdoutLock<'static>> {
    /// Standard output.
    pub fn stdout() -> Self {
        Out::new(io::stdout().lock())
    }
}

impl<W: Write> Out<W> {
    /// Escape what is written to `inner`.
    pub fn new(inner: W) -> Self {
        Out {
            inner,
            partial: Vec::new(),
            closed: false,
        }
    }

    /// Write `bytes` unchanged (the recorded bytes of an activation file, `download --out -`).
    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.flush_partial()?;
        let r = self.inner.write_all(bytes);
        self.quiet_if_closed(r)
    }

    fn flush_partial(&mut self) -> io::Result<()> {
        if self.partial.is_empty() {
            return Ok(());
        }
        let mut s = String::new();
        for b in std::mem::take(&mut self.partial) {
            s.push_str(&format!("\\x{b:02x}"));
        }
        let r = self.inner.write_all(s.as_bytes());
        self.quiet_if_closed(r)
    }

    /// A broken pipe ends the output without an error; any other error is returned.
    fn quiet_if_closed(&mut self, r: io::Result<()>) -> io::Result<()> {
        match r {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                self.partial.clear();
                Ok(())
            }
            other => other,
        }
    }
}

impl<W: Write> Write for Out<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let mut data = std::mem::take(&mut self.partial);
        data.extend_from_slice(buf);
        let mut s = String::with_capacity(data.len());
        let mut rest = &data[..];
        while !rest.is_empty() {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    push_escaped(&mut s, text);
                    rest = &[];
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    push_escaped(&mut s, std::str::from_utf8(valid).unwrap_or_default());
                    match e.error_len() {
                        Some(n) => {
                            let (bad, after) = after.split_at(n);
                            for b in bad {
                                s.push_str(&format!("\\x{b:02x}"));
                            }
                            rest = after;
                        }
                        None => {
                            // An incomplete character at the end: wait for its last bytes.
                            self.partial = after.to_vec();
                            rest = &[];
                        }
                    }
                }
            }
        }
        let r = self.inner.write_all(s.as_bytes());
        self.quiet_if_closed(r)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        self.flush_partial()?;
        let r = self.inner.flush();
        self.quiet_if_closed(r)
    }
}

/// Print one line on standard error, control characters escaped. A standard error that
/// cannot be written (closed) is not an error of the command: the line is dropped.
pub fn eprint_line(line: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{}", escape_controls(line));
}

/// A value a command prints. `--json` prints [`serde::Serialize`]'s form of it, and the text
/// form is drawn from the same value by [`Render::text`], so the two cannot say different
/// things: a command builds its value once and hands it to [`emit`].
pub trait Render: serde::Serialize {
    /// The value as text for people (a table, a list of fields).
    fn text(&self, out: &mut dyn Write) -> io::Result<()>;
}

/// Print `value` as pretty JSON (one document and a line break) when `json`, else as text.
pub fn emit<R: Render + ?Sized>(out: &mut dyn Write, value: &R, json: bool) -> io::Result<()> {
    if json {
        print_json(out, value)
    } else {
        value.text(out)
    }
}

/// Print any value as pretty JSON followed by a line break.
pub fn print_json<T: serde::Serialize + ?Sized>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::from)?;
    writeln!(out)
}

/// How many terminal columns `s` takes: CJK characters and most emoji take two, combining
/// marks none (Unicode's East Asian Width, through unicode-width).
pub fn display_width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// A table with columns sized to their content (by [`display_width`], so CJK and emoji names
/// line up); `right` marks right-aligned columns.
pub fn print_table(
    out: &mut dyn Write,
    headers: &[&str],
    rows: &[Vec<String>],
    right: &[usize],
) -> io::Result<()> {
    let width = display_width;
    let mut w: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(x) = w.get_mut(i) {
                *x = (*x).max(width(c));
            }
        }
    }
    let line = |out: &mut dyn Write, cells: &mut dyn Iterator<Item = &str>| -> io::Result<()> {
        let mut l = String::new();
        for (i, (c, w)) in cells.zip(&w).enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            let pad = w.saturating_sub(width(c));
            if right.contains(&i) {
                l.push_str(&" ".repeat(pad));
                l.push_str(c);
            } else {
                l.push_str(c);
                l.push_str(&" ".repeat(pad));
            }
        }
        writeln!(out, "{}", l.trim_end())
    };
    line(out, &mut headers.iter().copied())?;
    for r in rows {
        line(out, &mut r.iter().map(String::as_str))?;
    }
    Ok(())
}

/// Fields as `Name  value` lines, the names padded to the longest.
pub fn print_fields(out: &mut dyn Write, fields: &[(&str, String)]) -> io::Result<()> {
    let w = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in fields {
        writeln!(out, "{k:<w$}  {v}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that went away after `room` bytes.
    struct Closing {
        room: usize,
        got: Vec<u8>,
    }

    impl Write for Closing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::from(io::ErrorKind::BrokenPipe));
            }
            let n = buf.len().min(self.room);
            self.got.extend_from_slice(&buf[..n]);
            self.room -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_reader_ends_the_output_quietly() {
        let mut out = Out::new(Closing {
            room: 4,
            got: Vec::new(),
        });
        for _ in 0..1000 {
            writeln!(out, "a line").unwrap();
        }
        out.write_raw(b"raw").unwrap();
        out.flush().unwrap();
        assert_eq!(out.inner.got, b"a li");
    }

    #[test]
    fn control_characters_are_escaped_and_line_breaks_and_text_kept() {
        assert_eq!(escape_controls("ok\n"), "ok\n");
        assert_eq!(
            escape_controls("\u{1b}]0;pwned\u{7}\u{1b}[2J tab\tcr\r c1\u{9b} é"),
            "\\u{1b}]0;pwned\\u{7}\\u{1b}[2J tab\\tcr\\r c1\\u{9b} é"
        );
        let mut out = Out::new(Vec::new());
        // A character split across writes, an invalid byte, and an escape.
        out.write_all("a\u{e9}".as_bytes().split_at(2).0).unwrap();
        out.write_all(&"a\u{e9}".as_bytes()[2..]).unwrap();
        out.write_all(b" \xff \x1b[1m\n").unwrap();
        out.write_raw(b"\x1b raw").unwrap();
        out.flush().unwrap();
        assert_eq!(
            String::from_utf8(out.inner).unwrap(),
            "a\u{e9} \\xff \\u{1b}[1m\n\u{1b} raw"
        );
    }
}
