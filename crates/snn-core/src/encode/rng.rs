//! A seeded, backend-independent source of uniform numbers for the random encoders.

/// SplitMix64 (Steele, Lea & Flood 2014) producing `f32` uniforms in `[0, 1)` on the host.
///
/// The random encoders draw here rather than from a device's generator so that one seed gives
/// the same spikes on ndarray, flex and wgpu, and so that encoding never reseeds a device.
#[derive(Clone, Debug)]
pub struct SpikeRng {
    state: u64,
}

impl SpikeRng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Shuffles `items` in place (Fisher-Yates); the same seed gives the same order everywhere.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for k in (1..items.len()).rev() {
            let j = (self.next_u64() % (k as u64 + 1)) as usize;
            items.swap(k, j);
        }
    }

    /// `n` uniforms in `[0, 1)` (24 random bits each, exactly representable in `f32`).
    pub fn uniform(&mut self, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32)
            .collect()
    }
}
