//! Errors of compiling and evaluating an expression.
//!
//! A compile error carries the text 4.8.0 puts in the remark of SUBSCRIPTION_PARSE_FAILED:
//! `MQFilterException.getMessage()`, which is the `toString()` of the exception the parser
//! threw (class name, colon, message). Book: Part II, "Filtering". Mirrors
//! `MQFilterException`, `ParseException`, `TokenMgrError`.

use thiserror::Error;

/// Why an expression did not compile.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FilterError {
    /// The lexer met a character no token starts with (`TokenMgrError`).
    #[error("org.apache.rocketmq.filter.parser.TokenMgrError: {0}")]
    Lexical(String),
    /// The grammar did not accept the tokens (`ParseException`).
    #[error("org.apache.rocketmq.filter.parser.ParseException: {0}")]
    Parse(String),
    /// A check made while building the expression failed (`RuntimeException`).
    #[error("java.lang.RuntimeException: {0}")]
    Semantic(String),
    /// A number literal out of range (`NumberFormatException` from `new Long(text)`).
    #[error("java.lang.NumberFormatException: {0}")]
    NumberFormat(String),
    /// No compiler for this expression type (4.8.0: a NullPointerException, no message).
    #[error("no filter registered for expression type {0}")]
    UnknownType(String),
}

impl FilterError {
    /// The remark 4.8.0 sends back for this error, or `None` where 4.8.0's is null.
    pub fn remark(&self) -> Option<String> {
        match self {
            FilterError::UnknownType(_) => None,
            e => Some(e.to_string()),
        }
    }
}

/// An evaluation that threw in 4.8.0 (a failed number conversion, a bad cast): the message
/// does not match.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct EvalError(pub String);
