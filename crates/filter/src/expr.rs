//! A compiled SQL92 expression and its evaluation against a message's properties.
//!
//! Values are those of 4.8.0's Java objects: `Integer`, `Long`, `Double`, `String`,
//! `Boolean` and null. Logic is three-valued: a comparison with a missing property is null
//! (unknown), `AND`/`OR`/`NOT` follow SQL's rules, and a message matches only when the whole
//! expression is TRUE. A failed conversion (`a = 5` on `"x"`) is an error, which the broker
//! treats as "not matched" — unlike FALSE, it is not turned into TRUE by an outer `NOT`.
//!
//! Book: Part II, "Filtering" (null semantics). Mirrors `ComparisonExpression`,
//! `LogicExpression`, `UnaryExpression`, `UnaryInExpression`, `ConstantExpression`,
//! `BooleanConstantExpression` and `PropertyExpression` of rocketmq-filter 4.8.0.

use crate::error::EvalError;
use crate::java;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;

/// A value during evaluation (a Java object; `Null` is Java's null).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Java's null: a missing property, or an unknown truth value.
    Null,
    /// A `java.lang.Boolean`.
    Bool(bool),
    /// A `java.lang.Integer`.
    Int(i32),
    /// A `java.lang.Long`.
    Long(i64),
    /// A `java.lang.Double`.
    Double(f64),
    /// A `java.lang.String` (every message property is one).
    Str(String),
}

impl Value {
    fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Java's `equals` (same class and value; `Double` bitwise).
    fn java_equals(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Double(a), Value::Double(b)) => java::double_equals(*a, *b),
            (a, b) => a == b,
        }
    }

    /// What `String.format("%s", v)` / `toString()` prints.
    fn java_to_string(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Long(l) => l.to_string(),
            Value::Double(d) => java::double_to_string(*d),
            Value::Str(s) => s.clone(),
        }
    }
}

/// Where a property's value comes from (`EvaluationContext`): the broker passes the
/// message's decoded properties.
pub trait EvaluationContext {
    /// The property's value, `None` when the message has no such property.
    fn get(&self, name: &str) -> Option<&str>;
}

impl EvaluationContext for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<&str> {
        HashMap::get(self, name).map(String::as_str)
    }
}

impl EvaluationContext for [(String, String)] {
    fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl EvaluationContext for Vec<(String, String)> {
    fn get(&self, name: &str) -> Option<&str> {
        EvaluationContext::get(self.as_slice(), name)
    }
}

/// The comparison operators (`=` also implements `IS NULL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=` (and `IS NULL`).
    Eq,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
}

impl CmpOp {
    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
        }
    }

    fn holds(self, o: Ordering) -> bool {
        match self {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
        }
    }
}

/// A compiled expression (the tree the parser builds).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal. `TRUE`, `FALSE` and `NULL` are boolean constants (usable as conditions);
    /// strings and numbers are not.
    Const(Value),
    /// A message property, looked up by its exact (case-sensitive) name.
    Property(String),
    /// A property used as a condition: null when absent, FALSE when present (a property is
    /// a string, never a Boolean).
    BooleanCast(Box<Expr>),
    /// Unary minus: negates numbers, null for anything else.
    Negate(Box<Expr>),
    /// `NOT x`: three-valued negation (NOT null is null).
    Not(Box<Expr>),
    /// `l AND r`: three-valued conjunction.
    And(Box<Expr>, Box<Expr>),
    /// `l OR r`: three-valued disjunction.
    Or(Box<Expr>, Box<Expr>),
    /// A comparison `l op r`; `<>` and `IS NOT NULL` are `Not` around an `Eq`.
    Compare(CmpOp, Box<Expr>, Box<Expr>),
    /// `prop [NOT] IN ('a', 'b')`: plain string membership.
    In {
        /// The property name on the left of `IN`.
        property: String,
        /// The string literals in the list, in order.
        values: Vec<String>,
        /// True for `NOT IN`.
        not: bool,
    },
}

impl Expr {
    /// Whether 4.8.0 types this node as a `BooleanExpression`.
    pub fn is_boolean(&self) -> bool {
        match self {
            Expr::Const(v) => matches!(v, Value::Bool(_) | Value::Null),
            Expr::Property(_) | Expr::Negate(_) => false,
            _ => true,
        }
    }

    /// The constant's value if this is a literal (`ConstantExpression`).
    pub fn constant(&self) -> Option<&Value> {
        match self {
            Expr::Const(v) => Some(v),
            _ => None,
        }
    }

    /// True only when the expression evaluates to TRUE (`BooleanExpression.matches`); an
    /// evaluation error is returned as such so callers can log it.
    pub fn matches(&self, ctx: &dyn EvaluationContext) -> Result<bool, EvalError> {
        Ok(self.evaluate(ctx)? == Value::Bool(true))
    }

    /// Evaluates the expression (`Expression.evaluate`).
    pub fn evaluate(&self, ctx: &dyn EvaluationContext) -> Result<Value, EvalError> {
        Ok(match self {
            Expr::Const(v) => v.clone(),
            Expr::Property(name) => match ctx.get(name) {
                Some(s) => Value::Str(s.to_string()),
                None => Value::Null,
            },
            Expr::BooleanCast(e) => match e.evaluate(ctx)? {
                Value::Null => Value::Null,
                Value::Bool(b) => Value::Bool(b),
                _ => Value::Bool(false),
            },
            Expr::Negate(e) => match e.evaluate(ctx)? {
                Value::Int(i) => Value::Int(i.wrapping_neg()),
                Value::Long(l) => Value::Long(l.wrapping_neg()),
                Value::Double(d) => Value::Double(-d),
                _ => Value::Null,
            },
            Expr::Not(e) => match boolean(e.evaluate(ctx)?)? {
                None => Value::Null,
                Some(b) => Value::Bool(!b),
            },
            Expr::And(l, r) => {
                let lv = boolean(l.evaluate(ctx)?)?;
                if lv == Some(false) {
                    return Ok(Value::Bool(false));
                }
                let rv = boolean(r.evaluate(ctx)?)?;
                match (lv, rv) {
                    (_, Some(false)) => Value::Bool(false),
                    (None, _) | (_, None) => Value::Null,
                    _ => Value::Bool(true),
                }
            }
            Expr::Or(l, r) => {
                let lv = boolean(l.evaluate(ctx)?)?;
                if lv == Some(true) {
                    return Ok(Value::Bool(true));
                }
                let rv = boolean(r.evaluate(ctx)?)?;
                match (lv, rv) {
                    (_, Some(true)) => Value::Bool(true),
                    (None, _) | (_, None) => Value::Null,
                    _ => Value::Bool(false),
                }
            }
            Expr::Compare(CmpOp::Eq, l, r) => {
                let lv = l.evaluate(ctx)?;
                let rv = r.evaluate(ctx)?;
                if lv.is_null() != rv.is_null() {
                    return Ok(if lv.is_null() {
                        Value::Null
                    } else {
                        Value::Bool(false)
                    });
                }
                // both null (== in Java) or equal objects
                if lv.is_null() || lv.java_equals(&rv) {
                    return Ok(Value::Bool(true));
                }
                Value::Bool(compare(&lv, &rv)? == Ordering::Equal)
            }
            Expr::Compare(op, l, r) => {
                let lv = l.evaluate(ctx)?;
                if lv.is_null() {
                    return Ok(Value::Null);
                }
                let rv = r.evaluate(ctx)?;
                if rv.is_null() {
                    return Ok(Value::Null);
                }
                let o = match (&lv, &rv) {
                    // two strings (property against property) compare as doubles
                    (Value::Str(a), Value::Str(b)) => {
                        match (java::parse_double(a), java::parse_double(b)) {
                            (Some(x), Some(y)) => java::double_compare(x, y),
                            _ => {
                                return Err(EvalError(format!(
                                "It's illegal to compare string by '>=', '>', '<', '<='. lv={a}, rv={b}"
                            )))
                            }
                        }
                    }
                    _ => compare(&lv, &rv)?,
                };
                Value::Bool(op.holds(o))
            }
            Expr::In {
                property,
                values,
                not,
            } => match ctx.get(property) {
                None => Value::Null,
                Some(v) => Value::Bool(values.iter().any(|x| x == v) ^ not),
            },
        })
    }
}

/// A Boolean operand of a logic operator (a Java `(Boolean)` cast).
fn boolean(v: Value) -> Result<Option<bool>, EvalError> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(b)),
        other => Err(EvalError(format!(
            "{} cannot be cast to java.lang.Boolean",
            other.java_to_string()
        ))),
    }
}

fn nfe(s: &str) -> EvalError {
    EvalError(format!(
        "java.lang.NumberFormatException: For input string: \"{s}\""
    ))
}

// ANCHOR: compare
/// `ComparisonExpression.__compare` with string conversion on: values of different classes
/// are brought to one class first — numbers widen (Integer → Long → Double), a string takes
/// the class of the other side (`Integer.valueOf`, `Long.valueOf`, `Double.valueOf`,
/// `Boolean.valueOf`); pairs with no conversion compare as "less" (-1).
pub fn compare(lv: &Value, rv: &Value) -> Result<Ordering, EvalError> {
    use Value::*;
    Ok(match (lv, rv) {
        (Bool(a), Bool(b)) => a.cmp(b),
        (Int(a), Int(b)) => a.cmp(b),
        (Long(a), Long(b)) => a.cmp(b),
        (Double(a), Double(b)) => java::double_compare(*a, *b),
        (Str(a), Str(b)) => java_string_compare(a, b),
        // 4.8.0 casts the Boolean itself to String here: a ClassCastException
        (Bool(_), Str(_)) => return Err(EvalError(
            "java.lang.ClassCastException: java.lang.Boolean cannot be cast to java.lang.String"
                .into(),
        )),
        (Int(a), Long(b)) => (*a as i64).cmp(b),
        (Int(a), Double(b)) => java::double_compare(*a as f64, *b),
        (Int(a), Str(s)) => a.cmp(&java::parse_int(s).ok_or_else(|| nfe(s))?),
        (Long(a), Int(b)) => a.cmp(&(*b as i64)),
        (Long(a), Double(b)) => java::double_compare(*a as f64, *b),
        (Long(a), Str(s)) => a.cmp(&java::parse_long(s).ok_or_else(|| nfe(s))?),
        (Double(a), Int(b)) => java::double_compare(*a, *b as f64),
        (Double(a), Long(b)) => java::double_compare(*a, *b as f64),
        (Double(a), Str(s)) => {
            java::double_compare(*a, java::parse_double(s).ok_or_else(|| nfe(s))?)
        }
        (Str(s), Bool(b)) => java::parse_boolean(s).cmp(b),
        (Str(s), Int(b)) => java::parse_int(s).ok_or_else(|| nfe(s))?.cmp(b),
        (Str(s), Long(b)) => java::parse_long(s).ok_or_else(|| nfe(s))?.cmp(b),
        (Str(s), Double(b)) => {
            java::double_compare(java::parse_double(s).ok_or_else(|| nfe(s))?, *b)
        }
        _ => Ordering::Less,
    })
}
// ANCHOR_END: compare

/// `String.compareTo`: UTF-16 code unit order.
fn java_string_compare(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// `ConstantExpression.encodeString`: quotes doubled inside single quotes.
pub fn encode_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Prints like the Java classes' `toString()`, which 4.8.0 puts into its error texts.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Const(v) => match v {
                Value::Null => write!(f, "NULL"),
                Value::Bool(true) => write!(f, "TRUE"),
                Value::Bool(false) => write!(f, "FALSE"),
                Value::Str(s) => write!(f, "{}", encode_string(s)),
                v => write!(f, "{}", v.java_to_string()),
            },
            Expr::Property(n) => write!(f, "{n}"),
            Expr::BooleanCast(e) => write!(f, "{e}"),
            Expr::Negate(e) => write!(f, "(- {e})"),
            Expr::Not(e) => write!(f, "(NOT {e})"),
            Expr::And(l, r) => write!(f, "({l} && {r})"),
            Expr::Or(l, r) => write!(f, "({l} || {r})"),
            Expr::Compare(op, l, r) => write!(f, "({l} {} {r})", op.symbol()),
            Expr::In {
                property,
                values,
                not,
            } => write!(
                f,
                "{property} {} ( {} )",
                if *not { "NOT IN" } else { "IN" },
                values.join(", ")
            ),
        }
    }
}

/// What a value prints as inside `String.format("%s")` (BETWEEN's error text).
pub(crate) fn value_to_string(v: &Value) -> String {
    v.java_to_string()
}
