//! The bloom filter behind the consume-queue bit map.
//!
//! Each consumer group that filters a topic by SQL gets k bit positions out of m, derived
//! from the string `group#topic`. When a message arrives, the broker evaluates every such
//! group's expression once and sets the positions of the groups that match; the m-bit map
//! goes into ConsumeQueueExt next to the consume-queue entry. A pull then tests the group's k
//! bits: any bit clear means "certainly not for this group" and the commit log is not read;
//! all set means "probably" (another group's bits may cover them) and the expression is
//! evaluated for real.
//!
//! Sizes: `k = ceil(log0.5(f/100))`, `m = ceil(n · log2(100/f) · log2(e))` rounded up to whole
//! bytes, with f = `maxErrorRateOfBloomFilter` (20 %) and n = `expectConsumerNumUseFilter`
//! (32): k = 3, m = 112 bits (14 bytes). Positions: murmur3_x64_128 (seed 0) of the UTF-8 key,
//! first 64 bits little-endian; h1 = low 32 bits, h2 = high 32 bits; position i (1..=k) =
//! `(h1 + i·h2)` (32-bit wrapping, bit-inverted if negative) mod m. Bit p lives in byte p/8
//! under mask `1 << (p % 8)`.
//!
//! Book: Part II, "Filtering" (the bit map). Mirrors `BloomFilter`, `BloomFilterData` and
//! `BitsArray` of rocketmq-filter 4.8.0 (Guava's `Hashing.murmur3_128()`).

/// The filter's shape: error rate f (%), expected groups n, hash count k and bit count m.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BloomFilter {
    /// Target false-positive rate, in percent (1..=99).
    pub f: i32,
    /// Expected number of consumer groups the filter is sized for.
    pub n: i32,
    /// Number of hash functions, i.e. bit positions per group.
    pub k: i32,
    /// Total number of bits in a bit map built with this filter.
    pub m: i32,
}

/// One group's positions (`BloomFilterData`, persisted in consumerFilter.json as
/// `{"bitNum":112,"bitPos":[a,b,c]}`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BloomFilterData {
    /// The group's k bit positions (Java: `bitPos`).
    pub bit_pos: Vec<i32>,
    /// The bit count m of the filter that computed them (Java: `bitNum`).
    pub bit_num: i32,
}

/// Why a filter could not be built (`createByFn` preconditions).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BloomError(pub String);

impl BloomFilter {
    /// `BloomFilter.createByFn(f, n)`.
    pub fn create_by_fn(f: i32, n: i32) -> Result<BloomFilter, BloomError> {
        if !(1..100).contains(&f) {
            return Err(BloomError(
                "f must be greater or equal than 1 and less than 100".into(),
            ));
        }
        if n < 1 {
            return Err(BloomError("n must be greater than 0".into()));
        }
        let error_rate = f as f64 / 100.0;
        let log = |base: f64, x: f64| x.ln() / base.ln();
        let k = log(0.5, error_rate).ceil() as i32;
        if k < 1 {
            return Err(BloomError("Hash function num is less than 1".into()));
        }
        let m =
            (n as f64 * log(2.0, 1.0 / error_rate) * log(2.0, std::f64::consts::E)).ceil() as i32;
        let m = (8.0 * (m as f64 / 8.0).ceil()) as i32;
        Ok(BloomFilter { f, n, k, m })
    }

    // ANCHOR: bloom_positions
    /// `calcBitPositions(key)`.
    pub fn bit_positions(&self, key: &str) -> Vec<i32> {
        let (h64, _) = murmur3_x64_128(key.as_bytes(), 0);
        let h1 = h64 as i32;
        let h2 = (h64 >> 32) as i32;
        (1..=self.k)
            .map(|i| {
                let mut c = h1.wrapping_add(i.wrapping_mul(h2));
                if c < 0 {
                    c = !c;
                }
                c % self.m
            })
            .collect()
    }
    // ANCHOR_END: bloom_positions

    /// `generate(key)`: the positions of `group#topic`.
    pub fn generate(&self, key: &str) -> BloomFilterData {
        BloomFilterData {
            bit_pos: self.bit_positions(key),
            bit_num: self.m,
        }
    }

    /// `isValid`: data made by a filter of this shape.
    pub fn is_valid(&self, d: &BloomFilterData) -> bool {
        d.bit_num == self.m && d.bit_pos.len() == self.k as usize
    }

    /// `hashTo`: sets the data's positions in `bits` (both must fit this filter).
    pub fn hash_to(&self, d: &BloomFilterData, bits: &mut BitsArray) -> bool {
        if !self.is_valid(d) || bits.bit_len() != self.m as usize {
            return false;
        }
        for &p in &d.bit_pos {
            bits.set(p as usize);
        }
        true
    }

    /// `isHit`: all of the data's positions are set (false if shapes disagree).
    pub fn is_hit(&self, d: &BloomFilterData, bits: &BitsArray) -> bool {
        self.is_valid(d)
            && bits.bit_len() == self.m as usize
            && d.bit_pos.iter().all(|&p| bits.get(p as usize))
    }
}

/// A bit array in `BitsArray`'s layout: bit p in byte p/8, mask `1 << (p % 8)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitsArray {
    bytes: Vec<u8>,
}

impl BitsArray {
    /// All clear, `bits` rounded up to whole bytes.
    pub fn new(bits: usize) -> BitsArray {
        BitsArray {
            bytes: vec![0; bits.div_ceil(8)],
        }
    }

    /// Wraps stored bytes (`BitsArray.create(bytes)`).
    pub fn from_bytes(bytes: Vec<u8>) -> BitsArray {
        BitsArray { bytes }
    }

    /// Number of bits held: the byte count times 8 (`BitsArray.bitLength`).
    pub fn bit_len(&self) -> usize {
        self.bytes.len() * 8
    }

    /// Sets bit `p` to 1; a position past the end is ignored.
    pub fn set(&mut self, p: usize) {
        if let Some(b) = self.bytes.get_mut(p / 8) {
            *b |= 1 << (p % 8);
        }
    }

    /// Whether bit `p` is 1; a position past the end reads as 0.
    pub fn get(&self, p: usize) -> bool {
        self.bytes
            .get(p / 8)
            .is_some_and(|b| b & (1 << (p % 8)) != 0)
    }

    /// The bytes as stored in ConsumeQueueExt (bit p in byte p/8).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Gives up the bytes, for writing them to ConsumeQueueExt.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// MurmurHash3 x64 128-bit (Austin Appleby's reference, as Guava's `murmur3_128(seed)`):
/// returns (h1, h2); Guava's `asLong()` is h1.
pub fn murmur3_x64_128(data: &[u8], seed: u32) -> (u64, u64) {
    const C1: u64 = 0x87c3_7b91_1142_53d5;
    const C2: u64 = 0x4cf5_ad43_2745_937f;
    let mut h1 = seed as u64;
    let mut h2 = seed as u64;
    let fmix = |mut k: u64| {
        k ^= k >> 33;
        k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
        k ^= k >> 33;
        k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        k ^ (k >> 33)
    };
    let mut chunks = data.chunks_exact(16);
    for c in &mut chunks {
        let mut k1 = u64::from_le_bytes(c[..8].try_into().unwrap_or_default());
        let mut k2 = u64::from_le_bytes(c[8..].try_into().unwrap_or_default());
        k1 = k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 ^= k1;
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        k2 = k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 ^= k2;
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }
    let tail = chunks.remainder();
    let (mut k1, mut k2) = (0u64, 0u64);
    for (i, &b) in tail.iter().enumerate() {
        if i < 8 {
            k1 |= (b as u64) << (8 * i);
        } else {
            k2 |= (b as u64) << (8 * (i - 8));
        }
    }
    if tail.len() > 8 {
        k2 = k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 ^= k2;
    }
    if !tail.is_empty() {
        k1 = k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 ^= k1;
    }
    let len = data.len() as u64;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (h1, h2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_shape_is_k3_m112() {
        let b = BloomFilter::create_by_fn(20, 32).unwrap();
        assert_eq!((b.k, b.m), (3, 112));
        let b = BloomFilter::create_by_fn(20, 64).unwrap();
        assert_eq!((b.k, b.m), (3, 216));
        assert!(BloomFilter::create_by_fn(0, 32).is_err());
        assert!(BloomFilter::create_by_fn(20, 0).is_err());
    }

    #[test]
    fn murmur3_reference_values() {
        // Reference values of MurmurHash3_x64_128 with seed 0 (smhasher).
        assert_eq!(murmur3_x64_128(b"", 0), (0, 0));
        assert_eq!(murmur3_x64_128(b"hello", 0).0, 0xcbd8_a7b3_41bd_9b02);
    }

    #[test]
    fn positions_set_and_hit() {
        let b = BloomFilter::create_by_fn(20, 32).unwrap();
        let d = b.generate("group#topic");
        assert_eq!(d.bit_pos.len(), 3);
        assert!(d.bit_pos.iter().all(|p| (0..112).contains(p)));
        let mut bits = BitsArray::new(112);
        assert!(!b.is_hit(&d, &bits));
        assert!(b.hash_to(&d, &mut bits));
        assert!(b.is_hit(&d, &bits));
        assert_eq!(bits.bytes().len(), 14);
    }
}
