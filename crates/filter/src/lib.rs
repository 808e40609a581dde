//! rmq-filter: RocketMQ 4.8.0's SQL92 property filter, the crate the broker uses to decide
//! whether a message matches a consumer's `MessageSelector.bySql(...)` expression.
//!
//! Three parts, each in its own module:
//! - [`lexer`] and [`parser`]: the grammar of 4.8.0's `SelectorParser.jj` (a JMS-selector
//!   subset), parsed the way the JavaCC-generated parser does it — same tokens, same
//!   precedence, same quirks (the text after a complete expression is not read, a `--` comment
//!   needs a line end, `0.0` does not compile) and the same error texts, which the broker
//!   returns to clients as the remark of SUBSCRIPTION_PARSE_FAILED.
//! - [`expr`]: the compiled expression and its three-valued evaluation against a message's
//!   properties (all strings; a missing property is null), with Java's number conversions
//!   ([`java`]).
//! - [`bloom`]: the bloom filter (murmur3 positions, `BitsArray` bit order) that turns "which
//!   groups match this message" into the bit map stored in ConsumeQueueExt.
//!
//! Book: Part II, "Filtering: tags, SQL92 and the bit map". Mirrors the `rocketmq-filter`
//! module of 4.8.0: `SqlFilter`, `parser/SelectorParser`, `expression/*`, `util/BloomFilter`,
//! `util/BitsArray`.

#![warn(missing_docs)]

pub mod bloom;
pub mod error;
pub mod expr;
pub mod java;
pub mod lexer;
pub mod parser;

pub use bloom::{BitsArray, BloomFilter, BloomFilterData};
pub use error::{EvalError, FilterError};
pub use expr::{EvaluationContext, Expr, Value};

/// `ExpressionType.SQL92`.
pub const SQL92: &str = "SQL92";
/// `ExpressionType.TAG`.
pub const TAG: &str = "TAG";

/// `ExpressionType.isTagType`: null, empty and `TAG` all mean tag filtering.
pub fn is_tag_type(expression_type: Option<&str>) -> bool {
    matches!(expression_type, None | Some("") | Some(TAG))
}

// ANCHOR: compile
/// Compiles an expression of `expression_type` as 4.8.0's `FilterFactory.get(type).compile`:
/// only SQL92 has a compiler; any other type fails with no message (4.8.0 throws a
/// NullPointerException there, whose message is null).
pub fn compile(expression_type: &str, expression: &str) -> Result<Expr, FilterError> {
    if expression_type != SQL92 {
        return Err(FilterError::UnknownType(expression_type.to_string()));
    }
    parser::parse(expression)
}
// ANCHOR_END: compile
