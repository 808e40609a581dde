//! The parser of 4.8.0's selector grammar, by recursive descent in the order the
//! JavaCC-generated `SelectorParser` takes its decisions, so that the same texts compile and
//! the same errors come out.
//!
//! ```text
//! JmsSelector := or                                  (nothing after it is read)
//! or          := and ( OR and )*
//! and         := equality ( AND equality )*
//! equality    := comparison ( "=" comparison | "<>" comparison | IS NULL | IS NOT NULL )*
//! comparison  := unary ( (">"|">="|"<"|"<=") unary | BETWEEN unary AND unary
//!                      | NOT BETWEEN unary AND unary | IN "(" str ("," str)* ")"
//!                      | NOT IN "(" str ("," str)* ")" )*
//! unary       := "+" unary | "-" unary | NOT unary | primary
//! primary     := literal | ID | "(" or ")"
//! literal     := STRING | DECIMAL | FLOAT | TRUE | FALSE | NULL
//! ```
//!
//! Error texts: a grammar error lists the tokens that were acceptable where it stopped —
//! JavaCC collects them from every choice point visited since the last consumed token (its
//! `jj_la1` table, mirrored by `Parser::expect_at`). Checks made while the tree is built
//! (`'x' > 5`, `a IN (...)` on a non-property, a BETWEEN with NULL bounds) raise 4.8.0's
//! messages. Book: Part II, "Filtering". Mirrors `SelectorParser` (generated from
//! `SelectorParser.jj`) and the `create*` factories of `ComparisonExpression`.

use crate::error::FilterError;
use crate::expr::{compare, value_to_string, CmpOp, Expr, Value};
use crate::java;
use crate::lexer::{add_escapes, kind, token_image, Lexer, Token};

/// Parses and checks an expression (`SelectorParser.parse`).
pub fn parse(text: &str) -> Result<Expr, FilterError> {
    let mut p = Parser {
        lexer: Lexer::new(text),
        tokens: vec![Token {
            kind: kind::EOF,
            image: String::new(),
            line: 0,
            column: 0,
        }],
        current: 0,
        generation: 0,
        la1: [-1; 13],
        failed_kind: None,
    };
    let e = p.or_expression()?;
    as_boolean(e)
}

/// The token kinds each of JavaCC's 13 choice points accepts (`jj_la1_0`/`jj_la1_1`).
const LA1: [&[u8]; 13] = {
    use kind::*;
    [
        &[OR],
        &[AND],
        &[IS, EQ, NE],
        &[EQ, NE],
        &[IS],
        &[NOT, BETWEEN, IN, GT, GE, LT, LE],
        &[COMMA],
        &[COMMA],
        &[BETWEEN, GT, GE, LT, LE],
        &[IN],
        &[
            NOT,
            TRUE,
            FALSE,
            NULL,
            DECIMAL_LITERAL,
            FLOATING_POINT_LITERAL,
            STRING_LITERAL,
            ID,
            LPAREN,
            MINUS,
        ],
        &[
            TRUE,
            FALSE,
            NULL,
            DECIMAL_LITERAL,
            FLOATING_POINT_LITERAL,
            STRING_LITERAL,
            ID,
            LPAREN,
        ],
        &[
            TRUE,
            FALSE,
            NULL,
            DECIMAL_LITERAL,
            FLOATING_POINT_LITERAL,
            STRING_LITERAL,
        ],
    ]
};

struct Parser {
    lexer: Lexer,
    /// Tokens lexed so far; `tokens[0]` stands for "before the first token".
    tokens: Vec<Token>,
    /// Index of the last consumed token (JavaCC's `token`).
    current: usize,
    /// Bumped on every consumed token (JavaCC's `jj_gen`).
    generation: i64,
    /// When each choice point was last passed without a match (JavaCC's `jj_la1`).
    la1: [i64; 13],
    /// The kind a failed `consume` wanted (JavaCC's `jj_kind`).
    failed_kind: Option<u8>,
}

type PResult<T> = Result<T, FilterError>;

impl Parser {
    /// The kind of token `i` (lexing it if needed).
    fn kind_at(&mut self, i: usize) -> PResult<u8> {
        while self.tokens.len() <= i {
            if self.tokens.last().is_some_and(|t| t.kind == kind::EOF) && self.tokens.len() > 1 {
                // EOF repeats
                let t = self.tokens[self.tokens.len() - 1].clone();
                self.tokens.push(t);
                continue;
            }
            let t = self.lexer.next_token()?;
            self.tokens.push(t);
        }
        Ok(self.tokens[i].kind)
    }

    /// The next token's kind (`jj_ntk`).
    fn peek(&mut self) -> PResult<u8> {
        self.kind_at(self.current + 1)
    }

    /// Records that choice point `i` was passed (`jj_la1[i] = jj_gen`).
    fn expect_at(&mut self, i: usize) {
        self.la1[i] = self.generation;
    }

    /// Consumes a token of `k` or fails with the "Encountered ... Was expecting" error.
    fn consume(&mut self, k: u8) -> PResult<Token> {
        if self.peek()? == k {
            self.current += 1;
            self.generation += 1;
            return Ok(self.tokens[self.current].clone());
        }
        self.failed_kind = Some(k);
        Err(self.parse_error())
    }

    /// Fails on the next token with what was acceptable (`jj_consume_token(-1)`).
    fn fail(&mut self) -> PResult<Expr> {
        self.peek()?;
        self.failed_kind = None;
        Err(self.parse_error())
    }

    /// `generateParseException` + `ParseException.initialise`: the offending token, then
    /// every kind acceptable at the choice points passed since the last consumed token, in
    /// kind order.
    fn parse_error(&mut self) -> FilterError {
        let mut expected = [false; 33];
        if let Some(k) = self.failed_kind.take() {
            expected[k as usize] = true;
        }
        for (i, kinds) in LA1.iter().enumerate() {
            if self.la1[i] == self.generation {
                for &k in *kinds {
                    expected[k as usize] = true;
                }
            }
        }
        let list: Vec<u8> = (0..33u8).filter(|k| expected[*k as usize]).collect();
        let next = &self.tokens[self.current + 1];
        let mut msg = String::from("Encountered \"");
        if next.kind == kind::EOF {
            msg.push_str(token_image(kind::EOF));
        } else {
            let image: Vec<u16> = next.image.encode_utf16().collect();
            msg.push_str(&format!(
                " {} \"{} \"",
                token_image(next.kind),
                add_escapes(&image)
            ));
        }
        msg.push_str(&format!(
            "\" at line {}, column {}.\n",
            next.line, next.column
        ));
        msg.push_str(if list.len() == 1 {
            "Was expecting:\n    "
        } else {
            "Was expecting one of:\n    "
        });
        for k in list {
            msg.push_str(token_image(k));
            msg.push(' ');
            if k != kind::EOF {
                msg.push_str("...");
            }
            msg.push_str("\n    ");
        }
        FilterError::Parse(msg)
    }

    fn or_expression(&mut self) -> PResult<Expr> {
        self.logic_chain(kind::OR, 0, Self::and_expression, Expr::Or)
    }

    fn and_expression(&mut self) -> PResult<Expr> {
        self.logic_chain(kind::AND, 1, Self::equality_expression, Expr::And)
    }

    /// `operand ( OP operand )*`, left-associative; `la` is the loop's choice point. Both
    /// operands are parsed before either is checked to be boolean, as in 4.8.0.
    fn logic_chain(
        &mut self,
        op: u8,
        la: usize,
        operand: fn(&mut Self) -> PResult<Expr>,
        make: fn(Box<Expr>, Box<Expr>) -> Expr,
    ) -> PResult<Expr> {
        let mut left = operand(self)?;
        loop {
            if self.peek()? != op {
                self.expect_at(la);
                return Ok(left);
            }
            self.consume(op)?;
            let right = operand(self)?;
            let l = as_boolean(left)?;
            let r = as_boolean(right)?;
            left = make(Box::new(l), Box::new(r));
        }
    }

    fn equality_expression(&mut self) -> PResult<Expr> {
        let mut left = self.comparison_expression()?;
        loop {
            match self.peek()? {
                kind::IS | kind::EQ | kind::NE => {}
                _ => {
                    self.expect_at(2);
                    return Ok(left);
                }
            }
            match self.peek()? {
                kind::EQ => {
                    self.consume(kind::EQ)?;
                    let right = self.comparison_expression()?;
                    left = create_equal(left, right)?;
                }
                kind::NE => {
                    self.consume(kind::NE)?;
                    let right = self.comparison_expression()?;
                    left = Expr::Not(Box::new(create_equal(left, right)?));
                }
                _ => {
                    self.expect_at(3);
                    // LOOKAHEAD(2): IS NULL
                    if self.kind_at(self.current + 1)? == kind::IS
                        && self.kind_at(self.current + 2)? == kind::NULL
                    {
                        self.consume(kind::IS)?;
                        self.consume(kind::NULL)?;
                        left = is_null(left);
                    } else if self.peek()? == kind::IS {
                        self.consume(kind::IS)?;
                        self.consume(kind::NOT)?;
                        self.consume(kind::NULL)?;
                        left = Expr::Not(Box::new(is_null(left)));
                    } else {
                        self.expect_at(4);
                        return self.fail();
                    }
                }
            }
        }
    }

    fn comparison_expression(&mut self) -> PResult<Expr> {
        use kind::*;
        let mut left = self.unary_expr()?;
        loop {
            match self.peek()? {
                NOT | BETWEEN | IN | GT | GE | LT | LE => {}
                _ => {
                    self.expect_at(5);
                    return Ok(left);
                }
            }
            let k = self.peek()?;
            let op = match k {
                GT => Some(CmpOp::Gt),
                GE => Some(CmpOp::Ge),
                LT => Some(CmpOp::Lt),
                LE => Some(CmpOp::Le),
                _ => None,
            };
            if let Some(op) = op {
                self.consume(k)?;
                let right = self.unary_expr()?;
                left = create_ordering(op, left, right)?;
                continue;
            }
            if k == BETWEEN {
                self.consume(BETWEEN)?;
                let low = self.unary_expr()?;
                self.consume(AND)?;
                let high = self.unary_expr()?;
                left = create_between(left, low, high)?;
                continue;
            }
            self.expect_at(8);
            // LOOKAHEAD(2): NOT BETWEEN
            if self.kind_at(self.current + 1)? == NOT && self.kind_at(self.current + 2)? == BETWEEN
            {
                self.consume(NOT)?;
                self.consume(BETWEEN)?;
                let low = self.unary_expr()?;
                self.consume(AND)?;
                let high = self.unary_expr()?;
                let lt = create_ordering(CmpOp::Lt, left.clone(), low)?;
                let gt = create_ordering(CmpOp::Gt, left, high)?;
                left = Expr::Or(Box::new(lt), Box::new(gt));
                continue;
            }
            if self.peek()? == IN {
                self.consume(IN)?;
                let values = self.string_list(6)?;
                left = create_in(left, values, false)?;
                continue;
            }
            self.expect_at(9);
            // LOOKAHEAD(2): NOT IN
            if self.kind_at(self.current + 1)? == NOT && self.kind_at(self.current + 2)? == IN {
                self.consume(NOT)?;
                self.consume(IN)?;
                let values = self.string_list(7)?;
                left = create_in(left, values, true)?;
                continue;
            }
            return self.fail();
        }
    }

    /// `"(" str ("," str)* ")"` after IN; `la` is the choice point of the "," loop.
    fn string_list(&mut self, la: usize) -> PResult<Vec<String>> {
        self.consume(kind::LPAREN)?;
        let mut values = vec![self.string_literal()?];
        loop {
            if self.peek()? != kind::COMMA {
                self.expect_at(la);
                break;
            }
            self.consume(kind::COMMA)?;
            values.push(self.string_literal()?);
        }
        self.consume(kind::RPAREN)?;
        Ok(values)
    }

    fn unary_expr(&mut self) -> PResult<Expr> {
        use kind::*;
        // LOOKAHEAD("+" unaryExpr()): a full syntactic look ahead
        if self.kind_at(self.current + 1)? == PLUS && self.scan_unary(self.current + 1)?.is_some() {
            self.consume(PLUS)?;
            return self.unary_expr();
        }
        match self.peek()? {
            MINUS => {
                self.consume(MINUS)?;
                let e = self.unary_expr()?;
                Ok(Expr::Negate(Box::new(e)))
            }
            NOT => {
                self.consume(NOT)?;
                let e = self.unary_expr()?;
                Ok(Expr::Not(Box::new(as_boolean(e)?)))
            }
            TRUE
            | FALSE
            | NULL
            | DECIMAL_LITERAL
            | FLOATING_POINT_LITERAL
            | STRING_LITERAL
            | ID
            | LPAREN => self.primary_expr(),
            _ => {
                self.expect_at(10);
                self.fail()
            }
        }
    }

    fn primary_expr(&mut self) -> PResult<Expr> {
        use kind::*;
        match self.peek()? {
            TRUE | FALSE | NULL | DECIMAL_LITERAL | FLOATING_POINT_LITERAL | STRING_LITERAL => {
                self.literal()
            }
            ID => {
                let t = self.consume(ID)?;
                Ok(Expr::Property(t.image))
            }
            LPAREN => {
                self.consume(LPAREN)?;
                let e = self.or_expression()?;
                self.consume(RPAREN)?;
                Ok(e)
            }
            _ => {
                self.expect_at(11);
                self.fail()
            }
        }
    }

    fn literal(&mut self) -> PResult<Expr> {
        use kind::*;
        match self.peek()? {
            STRING_LITERAL => Ok(Expr::Const(Value::Str(self.string_literal()?))),
            DECIMAL_LITERAL => {
                let t = self.consume(DECIMAL_LITERAL)?;
                create_from_decimal(&t.image)
            }
            FLOATING_POINT_LITERAL => {
                let t = self.consume(FLOATING_POINT_LITERAL)?;
                create_float(&t.image)
            }
            TRUE => {
                self.consume(TRUE)?;
                Ok(Expr::Const(Value::Bool(true)))
            }
            FALSE => {
                self.consume(FALSE)?;
                Ok(Expr::Const(Value::Bool(false)))
            }
            NULL => {
                self.consume(NULL)?;
                Ok(Expr::Const(Value::Null))
            }
            _ => {
                self.expect_at(12);
                self.fail()
            }
        }
    }

    /// A string literal's value: the quotes dropped, a doubled quote made one.
    fn string_literal(&mut self) -> PResult<String> {
        let t = self.consume(kind::STRING_LITERAL)?;
        let units: Vec<u16> = t.image.encode_utf16().collect();
        let mut out = Vec::with_capacity(units.len());
        let mut i = 1;
        while i + 1 < units.len() {
            let c = units[i];
            if c == 39 {
                i += 1;
            }
            out.push(c);
            i += 1;
        }
        Ok(String::from_utf16_lossy(&out))
    }

    // --- syntactic look ahead (JavaCC's jj_3 routines): the next position after a match
    // starting at token index `at`+1, or None. Tokens are lexed as the scan needs them.

    fn scan(&mut self, at: usize, k: u8) -> PResult<Option<usize>> {
        Ok((self.kind_at(at + 1)? == k).then_some(at + 1))
    }

    fn scan_unary(&mut self, at: usize) -> PResult<Option<usize>> {
        use kind::*;
        for prefix in [PLUS, MINUS, NOT] {
            if let Some(p) = self.scan(at, prefix)? {
                if let Some(q) = self.scan_unary(p)? {
                    return Ok(Some(q));
                }
            }
        }
        self.scan_primary(at)
    }

    fn scan_primary(&mut self, at: usize) -> PResult<Option<usize>> {
        use kind::*;
        for k in [
            STRING_LITERAL,
            DECIMAL_LITERAL,
            FLOATING_POINT_LITERAL,
            TRUE,
            FALSE,
            NULL,
            ID,
        ] {
            if let Some(p) = self.scan(at, k)? {
                return Ok(Some(p));
            }
        }
        if let Some(p) = self.scan(at, LPAREN)? {
            if let Some(q) = self.scan_or(p)? {
                return self.scan(q, RPAREN);
            }
        }
        Ok(None)
    }

    fn scan_or(&mut self, at: usize) -> PResult<Option<usize>> {
        let Some(p) = self.scan_and(at)? else {
            return Ok(None);
        };
        self.scan_repeat(p, |s, p| s.scan_op_then(p, &[kind::OR], Self::scan_and))
    }

    fn scan_and(&mut self, at: usize) -> PResult<Option<usize>> {
        let Some(p) = self.scan_equality(at)? else {
            return Ok(None);
        };
        self.scan_repeat(p, |s, p| {
            s.scan_op_then(p, &[kind::AND], Self::scan_equality)
        })
    }

    /// `( step )*` in look-ahead mode: a step that does not match leaves the position.
    fn scan_repeat(
        &mut self,
        mut p: usize,
        step: impl Fn(&mut Self, usize) -> PResult<Option<usize>>,
    ) -> PResult<Option<usize>> {
        while let Some(q) = step(self, p)? {
            p = q;
        }
        Ok(Some(p))
    }

    /// One of `ops` followed by `operand`, trying the operators in order.
    fn scan_op_then(
        &mut self,
        at: usize,
        ops: &[u8],
        operand: fn(&mut Self, usize) -> PResult<Option<usize>>,
    ) -> PResult<Option<usize>> {
        for &op in ops {
            if let Some(q) = self.scan(at, op)? {
                if let Some(r) = operand(self, q)? {
                    return Ok(Some(r));
                }
            }
        }
        Ok(None)
    }

    fn scan_equality(&mut self, at: usize) -> PResult<Option<usize>> {
        use kind::*;
        let Some(p) = self.scan_comparison(at)? else {
            return Ok(None);
        };
        self.scan_repeat(p, |s, p| {
            if let Some(q) = s.scan_op_then(p, &[EQ, NE], Self::scan_comparison)? {
                return Ok(Some(q));
            }
            if let Some(q) = s.scan_seq(p, &[IS, NULL])? {
                return Ok(Some(q));
            }
            s.scan_seq(p, &[IS, NOT, NULL])
        })
    }

    fn scan_seq(&mut self, mut at: usize, kinds: &[u8]) -> PResult<Option<usize>> {
        for &k in kinds {
            match self.scan(at, k)? {
                Some(p) => at = p,
                None => return Ok(None),
            }
        }
        Ok(Some(at))
    }

    fn scan_comparison(&mut self, at: usize) -> PResult<Option<usize>> {
        use kind::*;
        let Some(p) = self.scan_unary(at)? else {
            return Ok(None);
        };
        self.scan_repeat(p, |s, p| {
            if let Some(q) = s.scan_op_then(p, &[GT, GE, LT, LE], Self::scan_unary)? {
                return Ok(Some(q));
            }
            for not in [false, true] {
                if let Some(q) = s.scan_between(p, not)? {
                    return Ok(Some(q));
                }
            }
            match s.scan_in(p, false)? {
                Some(q) => Ok(Some(q)),
                None => s.scan_in(p, true),
            }
        })
    }

    fn scan_between(&mut self, at: usize, not: bool) -> PResult<Option<usize>> {
        let mut p = at;
        if not {
            match self.scan(p, kind::NOT)? {
                Some(q) => p = q,
                None => return Ok(None),
            }
        }
        let Some(p) = self.scan(p, kind::BETWEEN)? else {
            return Ok(None);
        };
        let Some(p) = self.scan_unary(p)? else {
            return Ok(None);
        };
        let Some(p) = self.scan(p, kind::AND)? else {
            return Ok(None);
        };
        self.scan_unary(p)
    }

    fn scan_in(&mut self, at: usize, not: bool) -> PResult<Option<usize>> {
        use kind::*;
        let head: &[u8] = if not {
            &[NOT, IN, LPAREN, STRING_LITERAL]
        } else {
            &[IN, LPAREN, STRING_LITERAL]
        };
        let Some(mut p) = self.scan_seq(at, head)? else {
            return Ok(None);
        };
        while let Some(q) = self.scan_seq(p, &[COMMA, STRING_LITERAL])? {
            p = q;
        }
        self.scan(p, RPAREN)
    }
}

// --- the checks and factories of the expression classes ---------------------------------

fn runtime(msg: String) -> FilterError {
    FilterError::Semantic(msg)
}

/// `asBooleanExpression`: conditions must be boolean; a bare property is cast.
fn as_boolean(e: Expr) -> PResult<Expr> {
    if e.is_boolean() {
        return Ok(e);
    }
    if let Expr::Property(_) = e {
        return Ok(Expr::BooleanCast(Box::new(e)));
    }
    Err(FilterError::Parse(format!(
        "Expression will not result in a boolean value: {e}"
    )))
}

/// `ConstantExpression.createFromDecimal`: Integer when it fits, else Long.
fn create_from_decimal(text: &str) -> PResult<Expr> {
    let digits = text.strip_suffix(['l', 'L']).unwrap_or(text);
    let v = java::parse_long(digits)
        .ok_or_else(|| FilterError::NumberFormat(format!("For input string: \"{digits}\"")))?;
    Ok(Expr::Const(match i32::try_from(v) {
        Ok(i) => Value::Int(i),
        Err(_) => Value::Long(v),
    }))
}

/// `ConstantExpression.createFloat`: refuses infinity and anything below `Double.MIN_VALUE`
/// (so `0.0` does not compile).
fn create_float(text: &str) -> PResult<Expr> {
    let v = java::parse_double(text)
        .ok_or_else(|| FilterError::NumberFormat(format!("For input string: \"{text}\"")))?;
    if v > f64::MAX {
        return Err(runtime(format!(
            "{text} is greater than {}",
            java::double_to_string(f64::MAX)
        )));
    }
    let min = f64::from_bits(1);
    if v < min {
        return Err(runtime(format!(
            "{text} is less than {}",
            java::double_to_string(min)
        )));
    }
    Ok(Expr::Const(Value::Double(v)))
}

fn is_null(left: Expr) -> Expr {
    Expr::Compare(
        CmpOp::Eq,
        Box::new(left),
        Box::new(Expr::Const(Value::Null)),
    )
}

/// `createEqual`: no NULL literal on either side; a boolean literal only against a boolean
/// literal.
fn create_equal(left: Expr, right: Expr) -> PResult<Expr> {
    for e in [&left, &right] {
        if e.constant() == Some(&Value::Null) {
            return Err(runtime(format!("'{e}' cannot be compared.")));
        }
    }
    if left.constant().is_some()
        && right.constant().is_some()
        && left.is_boolean()
        && !right.is_boolean()
    {
        return Err(runtime(format!(
            "'{left}' cannot be compared with '{right}'"
        )));
    }
    Ok(Expr::Compare(CmpOp::Eq, Box::new(left), Box::new(right)))
}

/// `checkLessThanOperand`: only numbers (or non-boolean expressions) may be ordered.
fn check_less_than_operand(e: &Expr) -> PResult<()> {
    let bad = match e.constant() {
        Some(v) => !matches!(v, Value::Int(_) | Value::Long(_) | Value::Double(_)),
        None => e.is_boolean(),
    };
    if bad {
        return Err(runtime(format!("Value '{e}' cannot be compared.")));
    }
    Ok(())
}

fn create_ordering(op: CmpOp, left: Expr, right: Expr) -> PResult<Expr> {
    check_less_than_operand(&left)?;
    check_less_than_operand(&right)?;
    Ok(Expr::Compare(op, Box::new(left), Box::new(right)))
}

/// `createBetween`: constant bounds must be non-null and ordered; then `>= low AND <= high`.
fn create_between(value: Expr, low: Expr, high: Expr) -> PResult<Expr> {
    if let (Some(lv), Some(rv)) = (low.constant(), high.constant()) {
        if matches!(lv, Value::Null) || matches!(rv, Value::Null) {
            return Err(runtime(
                "Illegal values of between, values can not be null!".into(),
            ));
        }
        let ord = compare(rv, lv).map_err(|e| runtime(e.0))?;
        if ord == std::cmp::Ordering::Less {
            return Err(runtime(format!(
                "Illegal values of between, left value({}) must less than or equal to right value({})",
                value_to_string(lv),
                value_to_string(rv)
            )));
        }
    }
    let ge = create_ordering(CmpOp::Ge, value.clone(), low)?;
    let le = create_ordering(CmpOp::Le, value, high)?;
    Ok(Expr::And(Box::new(ge), Box::new(le)))
}

/// `createInFilter`: the left side must be a property.
fn create_in(left: Expr, values: Vec<String>, not: bool) -> PResult<Expr> {
    match left {
        Expr::Property(property) => Ok(Expr::In {
            property,
            values,
            not,
        }),
        other => Err(runtime(format!(
            "Expected a property for In expression, got: {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        parse(s).unwrap_err().to_string()
    }

    #[test]
    fn precedence_and_shapes() {
        assert_eq!(
            parse("a > 5 AND b = 'x' OR NOT c IS NULL")
                .unwrap()
                .to_string(),
            "(((a > 5) && (b == 'x')) || ((NOT c) == NULL))"
        );
        assert_eq!(
            parse("a BETWEEN 1 AND 3").unwrap().to_string(),
            "((a >= 1) && (a <= 3))"
        );
        assert_eq!(parse("a").unwrap().to_string(), "a");
        assert_eq!(parse("- -5 = a").unwrap().to_string(), "((- (- 5)) == a)");
        assert_eq!(parse("+ a > 1").unwrap().to_string(), "(a > 1)");
    }

    #[test]
    fn text_after_a_complete_expression_is_ignored() {
        assert!(parse("a > 5 b = 6").is_ok());
        assert!(parse("a > 5 )").is_ok());
        assert!(parse("a > 5 b !").is_ok());
        assert!(
            parse("a > 5 !").is_err(),
            "the one token after the expression is lexed"
        );
        assert!(parse("a > 5 -- no line end").is_ok());
    }

    #[test]
    fn checks_made_while_building() {
        assert_eq!(
            err("a > 'x'"),
            "java.lang.RuntimeException: Value ''x'' cannot be compared."
        );
        assert_eq!(
            err("a = NULL"),
            "java.lang.RuntimeException: 'NULL' cannot be compared."
        );
        assert_eq!(
            err("TRUE = 5"),
            "java.lang.RuntimeException: 'TRUE' cannot be compared with '5'"
        );
        assert!(parse("5 = TRUE").is_ok());
        assert_eq!(
            err("'x' IN ('x')"),
            "java.lang.RuntimeException: Expected a property for In expression, got: 'x'"
        );
        assert_eq!(
            err("a BETWEEN 5 AND 1"),
            "java.lang.RuntimeException: Illegal values of between, left value(5) must less than or equal to right value(1)"
        );
        assert_eq!(
            err("a = 0.0"),
            "java.lang.RuntimeException: 0.0 is less than 4.9E-324"
        );
        assert_eq!(
            err("5"),
            "org.apache.rocketmq.filter.parser.ParseException: Expression will not result in a boolean value: 5"
        );
        assert!(err("a = 99999999999999999999").starts_with("java.lang.NumberFormatException"));
    }

    #[test]
    fn grammar_errors_list_what_was_expected() {
        assert_eq!(
            err("a >"),
            "org.apache.rocketmq.filter.parser.ParseException: Encountered \"<EOF>\" at line 1, column 3.\n\
             Was expecting one of:\n    \"NOT\" ...\n    \"TRUE\" ...\n    \"FALSE\" ...\n    \"NULL\" ...\n    \
             <DECIMAL_LITERAL> ...\n    <FLOATING_POINT_LITERAL> ...\n    <STRING_LITERAL> ...\n    <ID> ...\n    \
             \"(\" ...\n    \"-\" ...\n    "
        );
        assert_eq!(
            err("a IS 5"),
            "org.apache.rocketmq.filter.parser.ParseException: Encountered \" <DECIMAL_LITERAL> \"5 \"\" at line 1, column 6.\n\
             Was expecting:\n    \"NOT\" ...\n    "
        );
    }
}
