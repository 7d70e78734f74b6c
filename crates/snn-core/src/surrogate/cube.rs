//! Every surrogate formula written once as a `#[cube]` function, for the CubeCL kernels (the
//! host spelling is [`super::host_derivative`]; both read the parameters of
//! [`super::Surrogate::kernel_parameters`]).

use cubecl::prelude::*;

use super::SurrogateKind;

const RATIONAL: u32 = SurrogateKind::Rational as u32;
const ARCTAN: u32 = SurrogateKind::Arctan as u32;
const ARCTAN_INV_PI: u32 = SurrogateKind::ArctanInvPi as u32;
const SIGMOID: u32 = SurrogateKind::Sigmoid as u32;
const TRIANGLE: u32 = SurrogateKind::Triangle as u32;
const BOXCAR: u32 = SurrogateKind::Boxcar as u32;

/// `σ'(s)` for the formula `kind` (a [`SurrogateKind`] as `u32`, a compile-time parameter of
/// the kernel) with the parameters `p1`, `p2` of [`super::Surrogate::kernel_parameters`].
#[cube]
pub(crate) fn derivative<F: Float>(s: F, p1: F, p2: F, #[comptime] kind: u32) -> F {
    // straight-through unless one of the branches below is compiled in
    let mut out = F::new(1.0);
    if comptime!(kind == RATIONAL) {
        let d = F::abs(s) * p1 + F::new(1.0);
        out = F::new(1.0) / (d * d);
    } else if comptime!(kind == ARCTAN) {
        let u = s * p1;
        out = p2 / (u * u + F::new(1.0));
    } else if comptime!(kind == ARCTAN_INV_PI) {
        let u = s * p1;
        out = F::new(1.0) / ((u * u + F::new(1.0)) * p2);
    } else if comptime!(kind == SIGMOID) {
        let sig = F::new(1.0) / (F::new(1.0) + F::exp(-(s * p1)));
        out = sig * (F::new(1.0) - sig) * p1;
    } else if comptime!(kind == TRIANGLE) {
        let ramp = F::abs(s) * p1 + F::new(1.0);
        out = select(ramp > F::new(0.0), ramp, F::new(0.0)) * p2;
    } else if comptime!(kind == BOXCAR) {
        out = select(F::abs(s) < p1, p2, F::new(0.0));
    }
    out
}
