//! What the CPU loops keep for the backward pass of a spiking layer, per neuron and step.
//!
//! The reverse loop needs, at every step, the surrogate derivative `σ'(u − θ)` and the spike
//! `z = H(u − θ)`; only an undetached reset to a value (Norse's default) also needs the membrane
//! `u` itself (its gradient carries `(v_reset − u)·σ'`). So there are two forms:
//!
//! * [`SavedForm::Membrane`]: `u` as f32, 4 bytes per neuron and step; the backward recomputes
//!   `σ'` and `z` from it (bit-exactly). Used when `u` itself is needed or the surrogate's
//!   parameters are invalid.
//! * [`SavedForm::Surrogate`]: `σ'` and `z` packed into 3 bytes per neuron and step: a 24-bit
//!   word holding `σ'` as a 23-bit fixed-point fraction of the surrogate's peak
//!   ([`Surrogate::peak`]), and `z` in the top bit. Stored as two planes over the whole
//!   `[batch, time, size]` sequence: the word's low 16 bits (`u16`), then its high 8 bits
//!   (`u8`), so each step of a work item writes and reads two contiguous runs.
//!
//! # Accuracy of the packed form
//!
//! `σ'` lies in `[0, peak]` (every surrogate peaks at 0 with validated parameters), so a code
//! `q ∈ [0, 2²³ − 2]` with `σ' ≈ q · peak / (2²³ − 2)` has an absolute error of at most two
//! steps, `2.4e-7 · peak` (half a step of rounding, plus the f32 rounding of the scaling both
//! ways): a few times f32's own rounding of `σ'` near its peak. The remaining code, `2²³ − 1`, stands for NaN, so a NaN
//! membrane still gives a NaN gradient. The spike bit is exact, so the spikes (and everything
//! the forward pass returns) are unchanged; only the gradients differ from the f32 form, by
//! rounding.

use crate::dynamics::Reset;
use crate::host::Shared;

use super::LeakySpec;

/// Largest code of a finite `σ'` (`σ' = peak`).
const MAX_CODE: u32 = (1 << 23) - 2;
/// The code of a NaN `σ'`; also the mask of the code bits.
const NAN_CODE: u32 = (1 << 23) - 1;
/// The bit of the spike.
const SPIKE_SHIFT: u32 = 23;

/// How the forward pass of a spiking layer keeps what the backward needs (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum SavedForm {
    /// Nothing: a leaky integrator, whose backward is linear.
    Nothing,
    /// The pre-reset membrane `u`, f32.
    Membrane,
    /// `σ'` and `z` packed in 3 bytes; `σ' = code · step`.
    Surrogate {
        /// `MAX_CODE / peak`: codes per unit of `σ'`.
        scale: f32,
        /// `peak / MAX_CODE`: `σ'` per code.
        step: f32,
    },
}

impl SavedForm {
    /// The form the CPU loops use for `spec`.
    pub(crate) fn of(spec: &LeakySpec) -> Self {
        let Some(firing) = spec.firing else {
            return Self::Nothing;
        };
        // `v' = (1 − z)·u + z·v_reset` with the gradient through `z`: needs `u`
        let needs_membrane =
            firing.reset == Reset::ToValue && !firing.detach_reset && !firing.reset_delay;
        let peak = firing.surrogate.peak() as f32;
        if needs_membrane
            || firing.surrogate.validate().is_err()
            || !(peak.is_finite() && peak > 0.0)
        {
            return Self::Membrane;
        }
        Self::Surrogate {
            scale: MAX_CODE as f32 / peak,
            step: peak / MAX_CODE as f32,
        }
    }

    /// The length in f32 words of the saved buffer for `elements` neurons × steps.
    pub(crate) fn words(self, elements: usize) -> usize {
        match self {
            Self::Nothing => 0,
            Self::Membrane => elements,
            Self::Surrogate { .. } => (3 * elements).div_ceil(4),
        }
    }
}

/// The 24-bit word of one neuron and step: `σ'` (`sg ≥ 0`) times `scale` rounded, and the spike
/// `z` (0.0 or 1.0) in the top bit.
#[inline(always)]
pub(crate) fn encode(sg: f32, z: f32, scale: f32) -> u32 {
    // clamped to the code range in f32 first (`max` also maps NaN to 0, replaced just below),
    // so the conversion needs no saturation and vectorizes
    let scaled = (sg * scale + 0.5).max(0.0).min(MAX_CODE as f32);
    // SAFETY: `scaled` is finite and in [0, MAX_CODE], which i32 holds
    let code = unsafe { scaled.to_int_unchecked::<i32>() } as u32;
    let code = if sg.is_nan() { NAN_CODE } else { code };
    code | if z > 0.0 { 1 << SPIKE_SHIFT } else { 0 }
}

/// `(σ', z)` back from a word of [`encode`].
#[inline(always)]
pub(crate) fn decode(word: u32, step: f32) -> (f32, f32) {
    let code = word & NAN_CODE;
    // codes fit in i32, whose conversion to f32 is a single instruction on every SIMD level
    let sg = if code == NAN_CODE {
        f32::NAN
    } else {
        code as i32 as f32 * step
    };
    (sg, (word >> SPIKE_SHIFT) as i32 as f32)
}

/// The two planes of a packed buffer of `elements` words, writable by the work items.
#[derive(Clone, Copy)]
pub(crate) struct PackedOut<'a> {
    low: Shared<'a, u16>,
    high: Shared<'a, u8>,
    pub(crate) scale: f32,
}

impl<'a> PackedOut<'a> {
    /// The planes of `buffer` (of [`SavedForm::words`]`(elements)` words).
    pub(crate) fn new(buffer: &'a mut [f32], elements: usize, scale: f32) -> Self {
        assert!(buffer.len() * 4 >= 3 * elements, "packed buffer size");
        // f32 alignment (4) covers u16's; the high plane starts after 2 bytes per element
        let bytes = bytemuck::cast_slice_mut::<f32, u8>(buffer);
        let (low, rest) = bytes.split_at_mut(2 * elements);
        Self {
            low: Shared::new(bytemuck::cast_slice_mut::<u8, u16>(low)),
            high: Shared::new(&mut rest[..elements]),
            scale,
        }
    }

    /// Hints the caches to fetch elements `offset..offset + len` of both planes (see
    /// [`crate::host::simd::prefetch`]).
    #[inline(always)]
    pub(crate) fn prefetch(self, offset: usize, len: usize) {
        self.low.prefetch(offset, len);
        self.high.prefetch(offset, len);
    }

    /// Writes `words[..]` at elements `offset..offset + words.len()`; panics outside the buffer.
    ///
    /// SAFETY: the range belongs to the calling item.
    #[inline(always)]
    pub(crate) unsafe fn write(self, offset: usize, words: &[u32]) {
        let len = words.len();
        let (low, high) = unsafe { (self.low.write(offset, len), self.high.write(offset, len)) };
        for j in 0..len {
            low[j] = words[j] as u16;
            high[j] = (words[j] >> 16) as u8;
        }
    }
}

/// The two planes of a packed buffer, for reading.
#[derive(Clone, Copy)]
pub(crate) struct Packed<'a> {
    low: &'a [u16],
    high: &'a [u8],
    pub(crate) step: f32,
}

impl<'a> Packed<'a> {
    /// The planes of `buffer` (of [`SavedForm::words`]`(elements)` words).
    pub(crate) fn new(buffer: &'a [f32], elements: usize, step: f32) -> Self {
        assert!(buffer.len() * 4 >= 3 * elements, "packed buffer size");
        // f32 alignment covers u16's; the high plane starts after 2 bytes per element
        let bytes = bytemuck::cast_slice::<f32, u8>(buffer);
        let (low, rest) = bytes.split_at(2 * elements);
        Self {
            low: bytemuck::cast_slice::<u8, u16>(low),
            high: &rest[..elements],
            step,
        }
    }

    /// Hints the caches to fetch elements `offset..offset + len` of both planes (see
    /// [`crate::host::simd::prefetch`]).
    #[inline(always)]
    pub(crate) fn prefetch(&self, offset: usize, len: usize) {
        crate::host::simd::prefetch(self.low.as_ptr().wrapping_add(offset), len);
        crate::host::simd::prefetch(self.high.as_ptr().wrapping_add(offset), len);
    }

    /// Decodes elements `offset..offset + sg.len()` into `(σ', z)`, written to `sg` and `z`.
    #[inline(always)]
    pub(crate) fn decode_run(&self, offset: usize, sg: &mut [f32], z: &mut [f32]) {
        let len = sg.len();
        let (low, high) = (
            &self.low[offset..offset + len],
            &self.high[offset..offset + len],
        );
        for (((&low, &high), sg), z) in low.iter().zip(high).zip(sg).zip(z) {
            (*sg, *z) = decode(u32::from(low) | (u32::from(high) << 16), self.step);
        }
    }

    /// Decodes only the spikes of elements `offset..offset + z.len()` (they sit in the high
    /// plane alone).
    #[inline(always)]
    pub(crate) fn spikes_run(&self, offset: usize, z: &mut [f32]) {
        let high = &self.high[offset..offset + z.len()];
        for (&high, z) in high.iter().zip(z) {
            *z = decode(u32::from(high) << 16, self.step).1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surrogate::Surrogate;

    fn surrogates() -> [Surrogate; 8] {
        [
            Surrogate::superspike(),
            Surrogate::FastSigmoid { slope: 10.0 },
            Surrogate::arctan(),
            Surrogate::arctan_inv_pi(),
            Surrogate::Sigmoid { alpha: 25.0 },
            Surrogate::triangle(),
            Surrogate::boxcar(),
            Surrogate::StraightThrough,
        ]
    }

    fn form(surrogate: Surrogate) -> SavedForm {
        use super::super::{FiringSpec, MembraneForm, SynapseForm};
        SavedForm::of(&LeakySpec {
            membrane: MembraneForm::Exact,
            synapse: SynapseForm::None,
            v_leak: 0.0,
            firing: Some(FiringSpec {
                reset: Reset::Subtract,
                v_reset: 0.0,
                surrogate,
                fire_at_threshold: false,
                detach_reset: false,
                reset_delay: true,
                spike_from_previous: false,
                refractory: None,
            }),
        })
    }

    #[test]
    fn packed_surrogate_is_within_its_rounding_of_the_f32_value() {
        for surrogate in surrogates() {
            let SavedForm::Surrogate { scale, step } = form(surrogate) else {
                panic!("{surrogate:?}: not packed");
            };
            let peak = surrogate.peak() as f32;
            for k in -4000..=4000 {
                let x = k as f32 * 1e-3;
                let sg = surrogate.derivative(f64::from(x)) as f32;
                assert!(
                    (0.0..=peak).contains(&sg),
                    "{surrogate:?}: σ'({x}) = {sg} outside [0, peak {peak}]"
                );
                for z in [0.0, 1.0] {
                    let (back, z_back) = decode(encode(sg, z, scale), step);
                    assert_eq!(z_back, z, "{surrogate:?}: spike bit at {x}");
                    assert!(
                        (back - sg).abs() <= 2.4e-7 * peak,
                        "{surrogate:?}: σ'({x}) = {sg} came back as {back}"
                    );
                }
            }
            // the peak itself, and a value just above it from f32 rounding, give the top code
            let (back, _) = decode(encode(peak * 1.000_001, 0.0, scale), step);
            assert!((back - peak).abs() <= 2.4e-7 * peak, "{surrogate:?}: peak");
        }
    }

    #[test]
    fn nan_survives_packing_and_zero_stays_zero() {
        let SavedForm::Surrogate { scale, step } = form(Surrogate::fast_sigmoid()) else {
            panic!("not packed");
        };
        for z in [0.0, 1.0] {
            let (sg, z_back) = decode(encode(f32::NAN, z, scale), step);
            assert!(sg.is_nan(), "NaN packed as {sg}");
            assert_eq!(z_back, z);
            assert_eq!(decode(encode(0.0, z, scale), step), (0.0, z));
        }
    }

    #[test]
    fn planes_round_trip_words() {
        let elements = 7; // 21 bytes: the high plane starts mid-word and ends inside padding
        let form = SavedForm::Surrogate {
            scale: 1.0,
            step: 1.0,
        };
        let mut buffer = vec![0f32; form.words(elements)];
        assert_eq!(buffer.len(), 6);
        let words: Vec<u32> = (0..elements as u32)
            .map(|k| (k * 2_396_745 + 11) & 0xFF_FFFF)
            .collect();
        let out = PackedOut::new(&mut buffer, elements, 1.0);
        // two items writing disjoint ranges
        unsafe {
            out.write(0, &words[..3]);
            out.write(3, &words[3..]);
        }
        let packed = Packed::new(&buffer, elements, 1.0);
        let (mut sg, mut z) = ([0f32; 7], [0f32; 7]);
        packed.decode_run(0, &mut sg[..4], &mut z[..4]);
        packed.decode_run(4, &mut sg[4..], &mut z[4..]);
        let mut spikes = [0f32; 7];
        packed.spikes_run(0, &mut spikes[..5]);
        packed.spikes_run(5, &mut spikes[5..]);
        for (k, &w) in words.iter().enumerate() {
            assert_eq!((sg[k], z[k]), decode(w, 1.0), "element {k}");
            assert_eq!(spikes[k], z[k], "spike of element {k}");
        }
    }

    #[test]
    fn undetached_reset_to_value_keeps_the_membrane() {
        use super::super::{FiringSpec, MembraneForm, SynapseForm};
        let spec = |reset, detach_reset, reset_delay| LeakySpec {
            membrane: MembraneForm::EulerScaled,
            synapse: SynapseForm::Euler,
            v_leak: 0.0,
            firing: Some(FiringSpec {
                reset,
                v_reset: 0.0,
                surrogate: Surrogate::superspike(),
                fire_at_threshold: false,
                detach_reset,
                reset_delay,
                spike_from_previous: false,
                refractory: None,
            }),
        };
        assert_eq!(
            SavedForm::of(&spec(Reset::ToValue, false, false)),
            SavedForm::Membrane
        );
        for (reset, detach, delay) in [
            (Reset::ToValue, true, false),
            (Reset::ToValue, false, true),
            (Reset::Subtract, false, false),
            (Reset::None, false, false),
        ] {
            assert!(
                matches!(
                    SavedForm::of(&spec(reset, detach, delay)),
                    SavedForm::Surrogate { .. }
                ),
                "{reset:?} detach {detach} delay {delay}"
            );
        }
        let bad = Surrogate::FastSigmoid { slope: -1.0 };
        assert_eq!(form(bad), SavedForm::Membrane);
    }
}
