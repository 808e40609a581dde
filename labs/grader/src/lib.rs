//! What the tests of every lab share: a failure message that says why the expected value is
//! right and where the book explains it, and a small seeded random generator for the tests
//! that compare a lab with the production crates on many random inputs.
//!
//! It is a dev-dependency of each lab, never part of what a student edits. Book: "Labs"
//! (book/src/labs.md, "How grading works").

use rand::rngs::StdRng;
use rand::{Rng as _, RngCore, SeedableRng};
use std::fmt::Display;

/// The explanation a failed check prints under `assert!`'s own "left/right" lines:
/// the rule that was broken and the book section that states it.
///
/// `section` is a path below `book/src`, such as `part1/commitlog.md#the-end-of-a-file`.
pub fn why(rule: impl Display, section: &str) -> String {
    format!("\n    rule: {rule}\n    read: book/src/{section}\n")
}

/// A seeded random generator: the same seed gives the same inputs on every run, so a failing
/// random case can be run again. Each failure message prints the seed.
#[derive(Debug, Clone)]
pub struct Rng {
    inner: StdRng,
    /// The seed this generator started from (printed by failing tests).
    pub seed: u64,
}

impl Rng {
    /// A generator from `seed`; the environment variable `LAB_SEED` overrides it.
    pub fn new(seed: u64) -> Rng {
        let seed = std::env::var("LAB_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(seed);
        Rng {
            inner: StdRng::seed_from_u64(seed),
            seed,
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.inner.gen_range(0..n)
        }
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        self.inner.gen_range(lo..=hi)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One element of `items` (which must not be empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_numbers_and_ranges_hold() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        for _ in 0..100 {
            let r = a.range(-3, 3);
            assert!((-3..=3).contains(&r), "{r}");
            assert!(a.below(5) < 5);
        }
        assert_eq!(a.below(0), 0);
        assert!(why("x", "labs.md").contains("book/src/labs.md"));
    }
}
