//! The tokens of 4.8.0's selector grammar and a lexer that cuts them the way the
//! JavaCC-generated `SelectorParserTokenManager` does: longest match, the earlier token kind
//! on a tie (so `in` is the keyword IN, `inx` an identifier), over UTF-16 code units (Java
//! `char`s), with JavaCC's line/column counting (tabs to the next multiple of 8).
//!
//! Tokens are cut on demand: the parser asks for the next one only when a grammar rule needs
//! it, so only one token after a complete expression is ever lexed — exactly as in 4.8.0,
//! where `a > 5 b !` compiles (the `!` is never read) but `a > 5 !` does not.
//!
//! Book: Part II, "Filtering". Mirrors `SelectorParserConstants` and
//! `SelectorParserTokenManager` (with `SimpleCharStream` and `TokenMgrError`).

use crate::error::FilterError;

/// Token kinds, numbered as `SelectorParserConstants` (the number matters: it orders the
/// "Was expecting" list of a parse error).
pub mod kind {
    /// End of input.
    pub const EOF: u8 = 0;
    /// The keyword `NOT`.
    pub const NOT: u8 = 8;
    /// The keyword `AND`.
    pub const AND: u8 = 9;
    /// The keyword `OR`.
    pub const OR: u8 = 10;
    /// The keyword `BETWEEN`.
    pub const BETWEEN: u8 = 11;
    /// The keyword `IN`.
    pub const IN: u8 = 12;
    /// The literal `TRUE`.
    pub const TRUE: u8 = 13;
    /// The literal `FALSE`.
    pub const FALSE: u8 = 14;
    /// The literal `NULL`.
    pub const NULL: u8 = 15;
    /// The keyword `IS`.
    pub const IS: u8 = 16;
    /// An integer literal: `0`, or digits not starting with 0, optionally ending in `l`/`L`.
    pub const DECIMAL_LITERAL: u8 = 17;
    /// A number with a decimal point (`5.`, `.5`, `5.5`) or an exponent (`5E10`).
    pub const FLOATING_POINT_LITERAL: u8 = 18;
    /// A string in single quotes (`''` is one quote).
    pub const STRING_LITERAL: u8 = 20;
    /// An identifier: a property name.
    pub const ID: u8 = 21;
    /// `=`.
    pub const EQ: u8 = 22;
    /// `<>`.
    pub const NE: u8 = 23;
    /// `>`.
    pub const GT: u8 = 24;
    /// `>=`.
    pub const GE: u8 = 25;
    /// `<`.
    pub const LT: u8 = 26;
    /// `<=`.
    pub const LE: u8 = 27;
    /// `(`.
    pub const LPAREN: u8 = 28;
    /// `,`.
    pub const COMMA: u8 = 29;
    /// `)`.
    pub const RPAREN: u8 = 30;
    /// `+`.
    pub const PLUS: u8 = 31;
    /// `-`.
    pub const MINUS: u8 = 32;
}

/// How each kind prints in a parse error (`tokenImage`).
pub fn token_image(k: u8) -> &'static str {
    const IMAGES: [&str; 33] = [
        "<EOF>",
        "\" \"",
        "\"\\t\"",
        "\"\\n\"",
        "\"\\r\"",
        "\"\\f\"",
        "<LINE_COMMENT>",
        "<BLOCK_COMMENT>",
        "\"NOT\"",
        "\"AND\"",
        "\"OR\"",
        "\"BETWEEN\"",
        "\"IN\"",
        "\"TRUE\"",
        "\"FALSE\"",
        "\"NULL\"",
        "\"IS\"",
        "<DECIMAL_LITERAL>",
        "<FLOATING_POINT_LITERAL>",
        "<EXPONENT>",
        "<STRING_LITERAL>",
        "<ID>",
        "\"=\"",
        "\"<>\"",
        "\">\"",
        "\">=\"",
        "\"<\"",
        "\"<=\"",
        "\"(\"",
        "\",\"",
        "\")\"",
        "\"+\"",
        "\"-\"",
    ];
    IMAGES.get(k as usize).copied().unwrap_or("<?>")
}

/// One token: its kind, its text and where it begins (1-based, JavaCC's counting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The token kind, one of the [`kind`] constants.
    pub kind: u8,
    /// The token's text as written (a string literal keeps its quotes).
    pub image: String,
    /// Line of the first character, from 1 (Java: `beginLine`).
    pub line: u32,
    /// Column of the first character, from 1 (Java: `beginColumn`).
    pub column: u32,
}

const KEYWORDS: [(&str, u8); 9] = [
    ("NOT", kind::NOT),
    ("AND", kind::AND),
    ("OR", kind::OR),
    ("BETWEEN", kind::BETWEEN),
    ("IN", kind::IN),
    ("TRUE", kind::TRUE),
    ("FALSE", kind::FALSE),
    ("NULL", kind::NULL),
    ("IS", kind::IS),
];

/// The lexer state: the text as UTF-16 units, their positions, and where the next token starts.
pub struct Lexer {
    text: Vec<u16>,
    /// (line, column) of each unit, computed as `SimpleCharStream.UpdateLineColumn` does.
    pos: Vec<(u32, u32)>,
    at: usize,
}

fn is_digit(c: u16) -> bool {
    (b'0' as u16..=b'9' as u16).contains(&c)
}

fn is_id_start(c: u16) -> bool {
    c < 128 && ((c as u8).is_ascii_alphabetic() || c == b'_' as u16 || c == b'$' as u16)
}

fn is_id_part(c: u16) -> bool {
    is_id_start(c) || is_digit(c)
}

/// `TokenMgrError.addEscapes` (also `ParseException.add_escapes`).
pub fn add_escapes(units: &[u16]) -> String {
    let mut out = String::new();
    for &c in units {
        match c {
            0 => {}
            8 => out.push_str("\\b"),
            9 => out.push_str("\\t"),
            10 => out.push_str("\\n"),
            12 => out.push_str("\\f"),
            13 => out.push_str("\\r"),
            34 => out.push_str("\\\""),
            39 => out.push_str("\\'"),
            92 => out.push_str("\\\\"),
            c if !(0x20..=0x7e).contains(&c) => out.push_str(&format!("\\u{c:04x}")),
            c => out.push(c as u8 as char),
        }
    }
    out
}

impl Lexer {
    /// A lexer positioned at the start of `text`.
    pub fn new(text: &str) -> Lexer {
        let text: Vec<u16> = text.encode_utf16().collect();
        let mut pos = Vec::with_capacity(text.len());
        let (mut line, mut column) = (1u32, 0u32);
        let (mut prev_cr, mut prev_lf) = (false, false);
        for &c in &text {
            column += 1;
            if prev_lf {
                prev_lf = false;
                column = 1;
                line += 1;
            } else if prev_cr {
                prev_cr = false;
                if c == 10 {
                    prev_lf = true;
                } else {
                    column = 1;
                    line += 1;
                }
            }
            match c {
                13 => prev_cr = true,
                10 => prev_lf = true,
                9 => {
                    column -= 1;
                    column += 8 - (column % 8);
                }
                _ => {}
            }
            pos.push((line, column));
        }
        Lexer { text, pos, at: 0 }
    }

    /// The next token, skipping white space and comments.
    pub fn next_token(&mut self) -> Result<Token, FilterError> {
        loop {
            if self.at >= self.text.len() {
                // JavaCC places EOF at the last character read (line 0, column 0 for no input).
                let (line, column) = self.pos.last().copied().unwrap_or((0, 0));
                return Ok(Token {
                    kind: kind::EOF,
                    image: String::new(),
                    line,
                    column,
                });
            }
            let start = self.at;
            match self.longest_match(start) {
                Some((k, len)) => {
                    self.at = start + len;
                    if k <= 7 {
                        continue; // white space and comments
                    }
                    let (line, column) = self.pos[start];
                    return Ok(Token {
                        kind: k,
                        image: String::from_utf16_lossy(&self.text[start..start + len]),
                        line,
                        column,
                    });
                }
                None => return Err(self.lexical_error(start)),
            }
        }
    }

    fn unit(&self, i: usize) -> Option<u16> {
        self.text.get(i).copied()
    }

    /// The longest token at `p` as (kind, length in units); the lower kind on a tie.
    fn longest_match(&self, p: usize) -> Option<(u8, usize)> {
        let mut best: Option<(u8, usize)> = None;
        let mut offer = |k: u8, len: usize| {
            if len == 0 {
                return;
            }
            match best {
                Some((bk, bl)) if bl > len || (bl == len && bk <= k) => {}
                _ => best = Some((k, len)),
            }
        };
        let c = self.unit(p)?;
        match c {
            32 => offer(1, 1),
            9 => offer(2, 1),
            10 => offer(3, 1),
            13 => offer(4, 1),
            12 => offer(5, 1),
            _ => {}
        }
        if let Some(len) = self.line_comment(p) {
            offer(6, len);
        }
        if let Some(len) = self.block_comment(p) {
            offer(7, len);
        }
        for (word, k) in KEYWORDS {
            let w: Vec<u16> = word.encode_utf16().collect();
            let matches = w.iter().enumerate().all(|(i, &wc)| {
                self.unit(p + i)
                    .is_some_and(|u| u < 128 && (u as u8).to_ascii_uppercase() as u16 == wc)
            });
            if matches {
                offer(k, w.len());
            }
        }
        offer(kind::DECIMAL_LITERAL, self.decimal(p));
        offer(kind::FLOATING_POINT_LITERAL, self.float(p));
        if let Some(len) = self.string(p) {
            offer(kind::STRING_LITERAL, len);
        }
        if is_id_start(c) {
            let mut i = p + 1;
            while self.unit(i).is_some_and(is_id_part) {
                i += 1;
            }
            offer(kind::ID, i - p);
        }
        let next = self.unit(p + 1);
        match (c, next) {
            (60, Some(62)) => offer(kind::NE, 2),
            (62, Some(61)) => offer(kind::GE, 2),
            (60, Some(61)) => offer(kind::LE, 2),
            _ => {}
        }
        match c {
            61 => offer(kind::EQ, 1),
            62 => offer(kind::GT, 1),
            60 => offer(kind::LT, 1),
            40 => offer(kind::LPAREN, 1),
            44 => offer(kind::COMMA, 1),
            41 => offer(kind::RPAREN, 1),
            43 => offer(kind::PLUS, 1),
            45 => offer(kind::MINUS, 1),
            _ => {}
        }
        best
    }

    /// `"--" (~["\n","\r"])* ("\n"|"\r"|"\r\n")`: a line comment needs its line end.
    fn line_comment(&self, p: usize) -> Option<usize> {
        if self.unit(p) != Some(45) || self.unit(p + 1) != Some(45) {
            return None;
        }
        let mut i = p + 2;
        loop {
            match self.unit(i)? {
                10 => return Some(i + 1 - p),
                13 if self.unit(i + 1) == Some(10) => return Some(i + 2 - p),
                13 => return Some(i + 1 - p),
                _ => i += 1,
            }
        }
    }

    /// `/* ... */`, ending at the first `*/`.
    fn block_comment(&self, p: usize) -> Option<usize> {
        if self.unit(p) != Some(47) || self.unit(p + 1) != Some(42) {
            return None;
        }
        let mut i = p + 2;
        loop {
            if self.unit(i)? == 42 && self.unit(i + 1) == Some(47) {
                return Some(i + 2 - p);
            }
            i += 1;
        }
    }

    /// `"0" | ["1"-"9"] (["0"-"9"])* (["l","L"])?` (no suffix after a lone 0).
    fn decimal(&self, p: usize) -> usize {
        match self.unit(p) {
            Some(48) => 1,
            Some(c) if is_digit(c) => {
                let mut i = p + 1;
                while self.unit(i).is_some_and(is_digit) {
                    i += 1;
                }
                if matches!(self.unit(i), Some(108) | Some(76)) {
                    i += 1;
                }
                i - p
            }
            _ => 0,
        }
    }

    fn digits(&self, mut i: usize) -> usize {
        while self.unit(i).is_some_and(is_digit) {
            i += 1;
        }
        i
    }

    /// `"E" (["+","-"])? (["0"-"9"])+` at `i` (either case): the end, or `i` if absent.
    fn exponent(&self, i: usize) -> usize {
        if !matches!(self.unit(i), Some(69) | Some(101)) {
            return i;
        }
        let mut j = i + 1;
        if matches!(self.unit(j), Some(43) | Some(45)) {
            j += 1;
        }
        let end = self.digits(j);
        if end > j {
            end
        } else {
            i
        }
    }

    /// `5.5`, `5.`, `5.5E10`, `.5`, `.5E10`, `5E10`.
    fn float(&self, p: usize) -> usize {
        let mut best = 0;
        let int_end = self.digits(p);
        if int_end > p {
            if self.unit(int_end) == Some(46) {
                let frac_end = self.digits(int_end + 1);
                best = best.max(self.exponent(frac_end) - p);
            }
            let e = self.exponent(int_end);
            if e > int_end {
                best = best.max(e - p);
            }
        } else if self.unit(p) == Some(46) {
            let frac_end = self.digits(p + 1);
            if frac_end > p + 1 {
                best = best.max(self.exponent(frac_end) - p);
            }
        }
        best
    }

    /// `"'" ( "''" | ~["'"] )* "'"`, the longest such.
    fn string(&self, p: usize) -> Option<usize> {
        if self.unit(p) != Some(39) {
            return None;
        }
        let mut end = None;
        let mut i = p + 1;
        while let Some(c) = self.unit(i) {
            if c == 39 {
                end = Some(i + 1 - p);
                if self.unit(i + 1) == Some(39) {
                    i += 2;
                    continue;
                }
                break;
            }
            i += 1;
        }
        end
    }

    /// The `TokenMgrError` for text at `start` that begins no token. JavaCC reads on while
    /// some token could still match (an open string or comment, `/`, `.`), so the error names
    /// the character where that stopped, or EOF.
    fn lexical_error(&self, start: usize) -> FilterError {
        let len = self.text.len();
        let c0 = self.text[start];
        // index of the last unit read, and whether the reading ran into the end
        let last_read = match c0 {
            39 => len - 1, // an unterminated string runs to the end
            47 if self.unit(start + 1) == Some(42) => len - 1, // an unterminated comment
            47 | 46 if start + 1 < len => start + 1,
            _ => start,
        };
        let cur_pos = last_read + 1 - start;
        let (mut line, mut column) = self.pos[last_read];
        let cur = self.text[last_read];
        let eof = last_read + 1 >= len;
        let (encountered, after) = if eof {
            if cur == 10 || cur == 13 {
                line += 1;
                column = 0;
            } else {
                column += 1;
            }
            let after = if cur_pos <= 1 {
                String::new()
            } else {
                add_escapes(&self.text[start..=last_read])
            };
            ("<EOF> ".to_string(), after)
        } else {
            let after = if cur_pos <= 1 {
                String::new()
            } else {
                add_escapes(&self.text[start..last_read])
            };
            (format!("\"{}\" ({}), ", add_escapes(&[cur]), cur), after)
        };
        FilterError::Lexical(format!(
            "Lexical error at line {line}, column {column}.  Encountered: {encountered}after : \"{after}\""
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<u8> {
        let mut lx = Lexer::new(s);
        let mut out = Vec::new();
        loop {
            let t = lx.next_token().unwrap();
            if t.kind == kind::EOF {
                return out;
            }
            out.push(t.kind);
        }
    }

    #[test]
    fn keywords_identifiers_and_literals() {
        use kind::*;
        assert_eq!(
            kinds("a in ('x') AND notX >= 1.5e3 or b IS NOT NULL"),
            vec![
                ID,
                IN,
                LPAREN,
                STRING_LITERAL,
                RPAREN,
                AND,
                ID,
                GE,
                FLOATING_POINT_LITERAL,
                OR,
                ID,
                IS,
                NOT,
                NULL
            ]
        );
        assert_eq!(
            kinds("007 5L .5 5. 1e"),
            vec![
                DECIMAL_LITERAL,
                DECIMAL_LITERAL,
                DECIMAL_LITERAL,
                DECIMAL_LITERAL,
                FLOATING_POINT_LITERAL,
                FLOATING_POINT_LITERAL,
                DECIMAL_LITERAL,
                ID
            ]
        );
        assert_eq!(kinds("'it''s' '' -- c\n<> /* x */ -"), vec![20, 20, 23, 32]);
        // a line comment without its line end is two minus signs
        assert_eq!(kinds("-- c"), vec![MINUS, MINUS, ID]);
    }

    #[test]
    fn lexical_errors_read_like_javacc() {
        let mut lx = Lexer::new("a ! b");
        lx.next_token().unwrap();
        assert_eq!(
            lx.next_token().unwrap_err().to_string(),
            "org.apache.rocketmq.filter.parser.TokenMgrError: Lexical error at line 1, column 3.  Encountered: \"!\" (33), after : \"\""
        );
        let mut lx = Lexer::new("'abc");
        assert_eq!(
            lx.next_token().unwrap_err().to_string(),
            "org.apache.rocketmq.filter.parser.TokenMgrError: Lexical error at line 1, column 5.  Encountered: <EOF> after : \"\\'abc\""
        );
    }
}
