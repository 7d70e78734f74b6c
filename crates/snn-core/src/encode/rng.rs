//! The project's one seeded, backend-independent random generator.

use rand::rand_core::Infallible;
use rand::{SeedableRng, TryRng};
use rand_pcg::Pcg64;

/// The PCG stream selector every [`SpikeRng`] uses: rand_pcg's and the PCG reference's
/// documented default (increment `2 · STREAM + 1`).
const STREAM: u128 = 0x0a02_bdbf_7bb3_c0a7_ac28_fa16_a64a_bf96;

/// A seeded generator of uniform bits, `f32`/`f64` uniforms, bounded integers and shuffles, on
/// the host.
///
/// Every seeded random number of the project comes from here: the random encoders, the
/// mlGeNN `PoissonInput`, the dataset splits and shuffles, the epoch order, the seeded weight
/// initialization and the randman generator. Drawing on the host rather than from a device's
/// generator gives the same numbers on ndarray, flex and wgpu, and never reseeds a device.
///
/// It implements rand's [`TryRng`] (hence [`rand::Rng`] and rand's extension traits) and
/// [`SeedableRng`], so it can be passed to any rand API. The methods of this type, however,
/// do not use rand's algorithms (which may change between rand versions): their results are
/// fixed by the definition below.
///
/// # The stream
///
/// * **Bits.** PCG64 (O'Neill 2014, "PCG: A family of simple fast space-efficient statistically
///   good algorithms for random number generation"), the XSL-RR 128/64 LCG variant
///   (`pcg_setseq_128_xsl_rr_64` of the PCG C library, [`rand_pcg::Lcg128Xsl64`]): a 128-bit
///   state `s` advanced by `s ← s · M + c (mod 2¹²⁸)` with
///   `M = 0x2360ed051fc65da44385df649fccf645`, and each output computed from the advanced
///   state as `rotate_right((s >> 64) ^ (s mod 2⁶⁴), s >> 122)` (64 bits).
/// * **Seed.** `SpikeRng::new(seed)` is the PCG library's `pcg64_srandom_r(seed, STREAM)` with
///   `STREAM = 0x0a02bdbf7bb3c0a7ac28fa16a64abf96`: the increment is
///   `c = 2 · STREAM + 1 = 0x14057b7ef767814f5851f42d4c957f2d` and the initial state is
///   `s₀ = (seed + c) · M + c` (the seed as an unsigned 128-bit integer). The first
///   [`next_u64`](Self::next_u64) is the output of `s₁ = s₀ · M + c`.
/// * **`f32` uniform** ([`next_f32`](Self::next_f32), [`uniform`](Self::uniform)): the top 24
///   bits of one `next_u64`, `(x >> 40) · 2⁻²⁴`, in `[0, 1)` and exact in `f32`.
/// * **`f64` uniform** ([`next_f64`](Self::next_f64)): the top 53 bits, `(x >> 11) · 2⁻⁵³`.
/// * **Integer below `n`** ([`below`](Self::below)): Lemire's multiply-and-reject (Lemire 2019,
///   "Fast Random Integer Generation in an Interval"): `m = x · n` as a 128-bit product; while
///   `m mod 2⁶⁴ < (2⁶⁴ − n) mod n`, draw a new `x`; the result is `m >> 64`. Unbiased; a
///   redraw happens with probability below `n / 2⁶⁴`.
/// * **Shuffle** ([`shuffle`](Self::shuffle)): Fisher-Yates from the back: for
///   `k = len − 1` down to `1`, swap items `k` and `below(k + 1)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpikeRng {
    pcg: Pcg64,
}

impl SpikeRng {
    /// A generator seeded with `seed` (see [the stream](Self#the-stream)).
    pub fn new(seed: u64) -> Self {
        Self {
            pcg: Pcg64::new(u128::from(seed), STREAM),
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let Ok(bits) = self.pcg.try_next_u64();
        bits
    }

    /// A uniform `f32` in `[0, 1)` from the top 24 bits of one [`next_u64`](Self::next_u64).
    pub fn next_f32(&mut self) -> f32 {
        const UNIT: f32 = 1.0 / (1u32 << 24) as f32;
        (self.next_u64() >> 40) as f32 * UNIT
    }

    /// A uniform `f64` in `[0, 1)` from the top 53 bits of one [`next_u64`](Self::next_u64).
    pub fn next_f64(&mut self) -> f64 {
        const UNIT: f64 = 1.0 / (1u64 << 53) as f64;
        (self.next_u64() >> 11) as f64 * UNIT
    }

    /// `n` uniforms in `[0, 1)`, [`next_f32`](Self::next_f32) each.
    pub fn uniform(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.next_f32()).collect()
    }

    /// A uniform integer in `[0, bound)` (Lemire's unbiased multiply-and-reject, see
    /// [the stream](Self#the-stream)).
    ///
    /// # Panics
    ///
    /// If `bound` is 0.
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "SpikeRng::below: the bound must be > 0");
        let mut product = u128::from(self.next_u64()) * u128::from(bound);
        if (product as u64) < bound {
            let threshold = bound.wrapping_neg() % bound;
            while (product as u64) < threshold {
                product = u128::from(self.next_u64()) * u128::from(bound);
            }
        }
        (product >> 64) as u64
    }

    /// Shuffles `items` in place (Fisher-Yates over [`below`](Self::below)); the same seed gives
    /// the same order on every machine and with every rand version.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for k in (1..items.len()).rev() {
            let j = self.below(k as u64 + 1) as usize;
            items.swap(k, j);
        }
    }

    /// Skips `delta` draws of [`next_u64`](Self::next_u64) in `O(log delta)` steps (PCG's jump
    /// ahead): a generator advanced by `k` continues exactly where `k` draws would have left
    /// it, so disjoint parts of one stream can be drawn in parallel.
    pub fn advance(&mut self, delta: u128) {
        self.pcg.advance(delta);
    }
}

/// rand's core trait: the same bits as the inherent methods, so `rand::RngExt` and rand's
/// distributions can draw from a [`SpikeRng`].
impl TryRng for SpikeRng {
    type Error = Infallible;

    /// The low 32 bits of one `next_u64`.
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        self.pcg.try_next_u32()
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.pcg.try_next_u64()
    }

    /// Little-endian bytes of successive `next_u64` (a partial last word is cut).
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.pcg.try_fill_bytes(dst)
    }
}

/// Seeding through rand: the seed is a little-endian `u64`, and
/// [`seed_from_u64`](SeedableRng::seed_from_u64) is [`SpikeRng::new`] (not rand's default
/// seed expansion, which is rand's to change).
impl SeedableRng for SpikeRng {
    type Seed = [u8; 8];

    fn from_seed(seed: [u8; 8]) -> Self {
        Self::new(u64::from_le_bytes(seed))
    }

    fn seed_from_u64(seed: u64) -> Self {
        Self::new(seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    /// The first three draws of `SpikeRng::new(42)`.
    const PINNED_42: [u64; 3] = [
        0x7f56_8159_6e68_84d6,
        0x8e25_207d_f0e4_f4cd,
        0x87d8_e0e1_d5dd_1c26,
    ];

    /// The documented recurrence written out, independent of rand_pcg: `pcg64_srandom_r(seed,
    /// stream)`, then `n` draws.
    fn reference(seed: u64, stream: u128, n: usize) -> Vec<u64> {
        const M: u128 = 0x2360_ed05_1fc6_5da4_4385_df64_9fcc_f645;
        let c = (stream << 1) | 1;
        let mut s = (u128::from(seed).wrapping_add(c))
            .wrapping_mul(M)
            .wrapping_add(c);
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(M).wrapping_add(c);
                (((s >> 64) as u64) ^ (s as u64)).rotate_right((s >> 122) as u32)
            })
            .collect()
    }

    #[test]
    fn the_stream_is_the_documented_pcg64() {
        // The PCG C library's test vector for `pcg64_srandom_r(42, 54)` (as in rand_pcg's tests).
        assert_eq!(
            reference(42, 54, 6),
            [
                0x86b1_da1d_7206_2b68,
                0x1304_aa46_c985_3d39,
                0xa367_0e9e_0dd5_0358,
                0xf909_0e52_9a7d_ae00,
                0xc85b_9fd8_3799_6f2c,
                0x6061_21f8_e391_9196,
            ]
        );
        assert_eq!((STREAM << 1) | 1, 0x1405_7b7e_f767_814f_5851_f42d_4c95_7f2d);
        for seed in [0, 1, 42, u64::MAX] {
            let mut rng = SpikeRng::new(seed);
            let drawn: Vec<u64> = (0..100).map(|_| rng.next_u64()).collect();
            assert_eq!(drawn, reference(seed, STREAM, 100), "seed {seed}");
        }
        // Pinned, so that a change of the stream cannot pass unnoticed.
        let mut rng = SpikeRng::new(42);
        let first = [rng.next_u64(), rng.next_u64(), rng.next_u64()];
        assert_eq!(first, PINNED_42);
    }

    #[test]
    fn uniforms_take_the_top_bits() {
        let bits = reference(7, STREAM, 2);
        let mut rng = SpikeRng::new(7);
        assert_eq!(rng.next_f32(), (bits[0] >> 40) as f32 / (1u64 << 24) as f32);
        assert_eq!(rng.next_f64(), (bits[1] >> 11) as f64 / (1u64 << 53) as f64);
        let u = SpikeRng::new(3).uniform(10_000);
        assert!(u.iter().all(|&x| (0.0..1.0).contains(&x)));
        let mean = u.iter().map(|&x| f64::from(x)).sum::<f64>() / u.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
    }

    #[test]
    fn below_is_the_widening_multiply_and_in_range() {
        let bits = reference(11, STREAM, 1);
        assert_eq!(
            SpikeRng::new(11).below(10),
            ((u128::from(bits[0]) * 10) >> 64) as u64
        );
        let mut rng = SpikeRng::new(5);
        let mut counts = [0usize; 6];
        for _ in 0..60_000 {
            counts[rng.below(6) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_000..11_000).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(rng.below(1), 0);
        assert!(rng.below(u64::MAX) < u64::MAX);
    }

    #[test]
    #[should_panic(expected = "the bound must be > 0")]
    fn below_zero_panics() {
        SpikeRng::new(0).below(0);
    }

    #[test]
    fn shuffle_is_a_seeded_permutation() {
        let mut a: Vec<usize> = (0..100).collect();
        SpikeRng::new(9).shuffle(&mut a);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_ne!(a, sorted);
        let mut b: Vec<usize> = (0..100).collect();
        SpikeRng::new(9).shuffle(&mut b);
        assert_eq!(a, b);
        // Fisher-Yates over `below`, written out.
        let mut c: Vec<usize> = (0..100).collect();
        let mut rng = SpikeRng::new(9);
        for k in (1..c.len()).rev() {
            let j = rng.below(k as u64 + 1) as usize;
            c.swap(k, j);
        }
        assert_eq!(a, c);
    }

    #[test]
    fn advance_skips_draws() {
        let mut ahead = SpikeRng::new(13);
        ahead.advance(1000);
        let mut walked = SpikeRng::new(13);
        for _ in 0..1000 {
            walked.next_u64();
        }
        assert_eq!(ahead, walked);
        assert_eq!(ahead.next_u64(), walked.next_u64());
    }

    #[test]
    fn rand_traits_draw_the_same_bits() {
        let mut rng = SpikeRng::seed_from_u64(17);
        let mut inherent = SpikeRng::new(17);
        assert_eq!(Rng::next_u64(&mut rng), inherent.next_u64());
        assert_eq!(Rng::next_u32(&mut rng), inherent.next_u64() as u32);
        assert_eq!(SpikeRng::from_seed(17u64.to_le_bytes()), SpikeRng::new(17));
    }
}
