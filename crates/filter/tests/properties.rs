//! Property tests of the filter: no input crashes the compiler or the evaluator, and the
//! three-valued logic keeps its laws on every compiled expression and property map.

use proptest::prelude::*;
use rmq_filter::{compile, Value};
use std::collections::HashMap;

const WORDS: &[&str] = &[
    "a",
    "b",
    "c",
    "5",
    "-",
    "+",
    "'x'",
    "'5'",
    "1.5",
    "0",
    "TRUE",
    "FALSE",
    "NULL",
    "AND",
    "OR",
    "NOT",
    "IS",
    "IN",
    "BETWEEN",
    "(",
    ")",
    ",",
    "=",
    "<>",
    ">",
    ">=",
    "<",
    "<=",
    "!",
    "'",
    "/*",
    "--",
    "\n",
    ".",
    "2147483648",
    "1e3",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 0..12).prop_map(|w| w.join(" "))
}

fn props() -> impl Strategy<Value = HashMap<String, String>> {
    prop::collection::hash_map(
        prop::sample::select(vec!["a", "b", "c"]).prop_map(String::from),
        prop::sample::select(vec!["5", "-3", "abc", "1.5", "true", " 7", "NaN", "x"])
            .prop_map(String::from),
        0..3,
    )
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,40}") {
        let _ = compile("SQL92", &s);
    }

    #[test]
    fn token_soup_compiles_or_explains(s in soup(), p in props()) {
        match compile("SQL92", &s) {
            Ok(e) => { let _ = e.evaluate(&p); }
            Err(e) => prop_assert!(e.remark().is_some_and(|r| !r.is_empty())),
        }
    }

    /// NOT flips TRUE and FALSE and keeps NULL; an error stays an error.
    #[test]
    fn not_is_three_valued_negation(s in soup(), p in props()) {
        if let Ok(e) = compile("SQL92", &s) {
            let negated = compile("SQL92", &format!("NOT ({s})"));
            if let Ok(n) = negated {
                let (a, b) = (e.evaluate(&p), n.evaluate(&p));
                match a {
                    Ok(Value::Bool(x)) => prop_assert_eq!(b, Ok(Value::Bool(!x))),
                    Ok(Value::Null) => prop_assert_eq!(b, Ok(Value::Null)),
                    Ok(other) => prop_assert!(false, "non-boolean result {:?}", other),
                    Err(_) => prop_assert!(b.is_err()),
                }
            }
        }
    }

    /// A comparison with a property the message does not have is never TRUE.
    #[test]
    fn missing_property_never_matches(op in prop::sample::select(vec!["=", "<>", ">", ">=", "<", "<="]),
                                      lit in prop::sample::select(vec!["5", "1.5", "'x'", "-2"])) {
        let text = format!("zz {op} {lit}");
        if let Ok(e) = compile("SQL92", &text) {
            let empty: HashMap<String, String> = HashMap::new();
            prop_assert_eq!(e.matches(&empty), Ok(false));
        }
    }
}
