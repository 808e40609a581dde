//! The few Java library behaviours the filter's results depend on: `Integer.valueOf`,
//! `Long.valueOf`, `Double.valueOf` and `Boolean.valueOf` on property strings,
//! `Double.compare`, `Double.equals` and `Double.toString` (which appears in error texts).
//!
//! 4.8.0 converts a property string to the type of the constant it is compared with, so
//! `a = 5` parses the property with `Integer.valueOf` (`"5"` yes, `"5.0"` and `" 5"` no) while
//! `a = 5.0` uses `Double.valueOf` (which trims, and takes `"5"`, `"5d"`, `"1e3"`, `"NaN"`).
//! Book: Part II, "Filtering" (null and conversion semantics). Mirrors `java.lang.Integer`,
//! `Long`, `Double`, `Boolean` as of Java 8-17 (ASCII digits only; hexadecimal floating-point
//! strings such as `0x1p3` are refused here although Java reads them).

use std::cmp::Ordering;

/// `Long.parseLong(s, 10)` bounded to `[min, max]`: an optional `+`/`-`, then ASCII digits.
fn parse_integer(s: &str, min: i128, max: i128) -> Option<i128> {
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut v: i128 = 0;
    for b in digits.bytes() {
        v = v * 10 + (b - b'0') as i128;
        if v > max + 1 {
            return None;
        }
    }
    let v = if neg { -v } else { v };
    (min..=max).contains(&v).then_some(v)
}

/// `Integer.valueOf(s)`.
pub fn parse_int(s: &str) -> Option<i32> {
    parse_integer(s, i32::MIN as i128, i32::MAX as i128).map(|v| v as i32)
}

/// `Long.valueOf(s)`.
pub fn parse_long(s: &str) -> Option<i64> {
    parse_integer(s, i64::MIN as i128, i64::MAX as i128).map(|v| v as i64)
}

/// `Boolean.valueOf(s)`: true only for "true" in any case.
pub fn parse_boolean(s: &str) -> bool {
    s.eq_ignore_ascii_case("true")
}

/// `Double.valueOf(s)` (decimal forms): trims characters up to U+0020, takes an optional
/// sign, `NaN`, `Infinity`, or digits with an optional point and exponent and an optional
/// `f`/`F`/`d`/`D` suffix.
pub fn parse_double(s: &str) -> Option<f64> {
    let t = s.trim_matches(|c: char| c <= ' ');
    let (neg, body) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let v = match body {
        "NaN" => f64::NAN,
        "Infinity" => f64::INFINITY,
        _ => {
            let body = body.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(body);
            let b = body.as_bytes();
            let mut i = 0;
            let int_start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let mut n_digits = i - int_start;
            if i < b.len() && b[i] == b'.' {
                i += 1;
                let f = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                n_digits += i - f;
            }
            if n_digits == 0 {
                return None;
            }
            if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                i += 1;
                if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                    i += 1;
                }
                let e = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                if i == e {
                    return None;
                }
            }
            if i != b.len() {
                return None;
            }
            body.parse::<f64>().ok()?
        }
    };
    Some(if neg { -v } else { v })
}

/// `Double.compare(a, b)`: NaN above everything and equal to itself, -0.0 below 0.0.
pub fn double_compare(a: f64, b: f64) -> Ordering {
    if a < b {
        return Ordering::Less;
    }
    if a > b {
        return Ordering::Greater;
    }
    let bits = |d: f64| {
        if d.is_nan() {
            0x7ff8_0000_0000_0000i64
        } else {
            d.to_bits() as i64
        }
    };
    bits(a).cmp(&bits(b))
}

/// `Double.equals`: bitwise (NaN equals NaN, 0.0 differs from -0.0).
pub fn double_equals(a: f64, b: f64) -> bool {
    let bits = |d: f64| {
        if d.is_nan() {
            f64::NAN.to_bits()
        } else {
            d.to_bits()
        }
    };
    bits(a) == bits(b)
}

/// `Double.toString(d)`: plain notation with at least one fraction digit for
/// 10^-3 <= |d| < 10^7, otherwise `d.dddE±n`; shortest digits that read back as `d`.
pub fn double_to_string(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    if d.abs() == f64::from_bits(1) {
        // Java's FloatingDecimal prints Double.MIN_VALUE with two digits
        return if d < 0.0 { "-4.9E-324" } else { "4.9E-324" }.into();
    }
    // Rust's {:e} gives the shortest round-trip digits: "1.2345e-7"
    let sci = format!("{:e}", d.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let sign = if d < 0.0 { "-" } else { "" };
    let abs = d.abs();
    if (1e-3..1e7).contains(&abs) {
        let s = if exp >= 0 {
            let int_len = exp as usize + 1;
            let mut int_part = digits.clone();
            while int_part.len() < int_len {
                int_part.push('0');
            }
            let frac = if digits.len() > int_len {
                &digits[int_len..]
            } else {
                "0"
            };
            format!("{}.{}", &int_part[..int_len], frac)
        } else {
            format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
        };
        format!("{sign}{s}")
    } else {
        let frac = if digits.len() > 1 { &digits[1..] } else { "0" };
        format!("{sign}{}.{}E{}", &digits[..1], frac, exp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_parsing_is_strict() {
        assert_eq!(parse_int("5"), Some(5));
        assert_eq!(parse_int("+5"), Some(5));
        assert_eq!(parse_int("-2147483648"), Some(i32::MIN));
        assert_eq!(parse_int("2147483648"), None);
        for bad in ["", "+", "-", " 5", "5.0", "5L", "0x5", "1e3"] {
            assert_eq!(parse_int(bad), None, "{bad:?}");
        }
        assert_eq!(parse_long("9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_long("9223372036854775808"), None);
    }

    #[test]
    fn double_parsing_follows_java() {
        assert_eq!(parse_double(" 5 "), Some(5.0));
        assert_eq!(parse_double("5d"), Some(5.0));
        assert_eq!(parse_double("-.5e1"), Some(-5.0));
        assert_eq!(parse_double("1."), Some(1.0));
        assert!(parse_double("NaN").is_some_and(f64::is_nan));
        assert_eq!(parse_double("-Infinity"), Some(f64::NEG_INFINITY));
        for bad in ["", ".", "e3", "inf", "nan", "1e", "1,5", "5 5"] {
            assert_eq!(parse_double(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn double_to_string_matches_java() {
        for (d, s) in [
            (1.0, "1.0"),
            (5.5, "5.5"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1e7, "1.0E7"),
            (1234567.0, "1234567.0"),
            (f64::MAX, "1.7976931348623157E308"),
            (f64::from_bits(1), "4.9E-324"),
            (-2.5e-10, "-2.5E-10"),
        ] {
            assert_eq!(double_to_string(d), s);
        }
    }

    #[test]
    fn double_compare_orders_nan_and_zeros() {
        assert_eq!(double_compare(f64::NAN, 1.0), Ordering::Greater);
        assert_eq!(double_compare(f64::NAN, f64::NAN), Ordering::Equal);
        assert_eq!(double_compare(-0.0, 0.0), Ordering::Less);
        assert!(!double_equals(0.0, -0.0));
        assert!(double_equals(f64::NAN, f64::NAN));
    }
}
