//! The fused Adam against burn's Adam: the same parameters after several steps on every device
//! (the fused loop on ndarray and flex, the composed ops elsewhere), with and without weight
//! decay; a parameter someone else still holds is not overwritten.

use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use snn_core::optim::FusedAdamConfig;

use crate::common::{autodiff_devices, uniform, values};

/// A linear layer with fixed weights `[5, 3]` and bias `[3]`.
fn layer(device: &Device) -> Linear {
    let mut layer = LinearConfig::new(5, 3).init(device);
    let w = Tensor::<1>::from_floats(uniform(15, 1, -0.5, 0.5).as_slice(), device).reshape([5, 3]);
    let b = Tensor::<1>::from_floats(uniform(3, 2, -0.5, 0.5).as_slice(), device);
    layer.weight = Param::from_tensor(w);
    layer.bias = Some(Param::from_tensor(b));
    layer
}

/// The layer's parameters after `steps` updates of `optim` on a fixed loss.
fn train(device: &Device, mut optim: ModuleOptimizer, steps: usize) -> Vec<Vec<f32>> {
    let mut model = layer(device);
    for k in 0..steps {
        let x = Tensor::<1>::from_floats(uniform(20, 10 + k as u64, -1.0, 1.0).as_slice(), device)
            .reshape([4, 5]);
        let loss = model.forward(x).powf_scalar(2.0).sum();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-2, model, grads);
    }
    vec![
        values(model.weight.val()),
        values(model.bias.expect("bias").val()),
    ]
}

#[test]
fn fused_adam_equals_burn_adam_on_every_device() {
    for (name, device) in autodiff_devices() {
        for decay in [None, Some(0.05)] {
            let burn_adam = AdamConfig::new()
                .with_weight_decay(decay.map(WeightDecayConfig::new))
                .init();
            let fused = FusedAdamConfig::new().with_weight_decay(decay).init();
            let want = train(&device, burn_adam, 6);
            let before = snn_core::optim::fused_updates();
            let got = train(&device, fused, 6);
            // two parameters, six steps: the fused loop on the CPU backends, composed ops on wgpu
            let expected = if name == "wgpu" { 0 } else { 12 };
            assert_eq!(
                snn_core::optim::fused_updates() - before,
                expected,
                "{name}: fused updates"
            );
            assert_ne!(want[0], values(layer(&device).weight.val()), "no update");
            for (g, w) in got.iter().zip(&want) {
                for (k, (a, b)) in g.iter().zip(w).enumerate() {
                    assert!(
                        a == b,
                        "{name} decay {decay:?}: element {k}: fused {a} vs burn {b}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_parameter_held_elsewhere_keeps_its_values() {
    for (name, device) in autodiff_devices() {
        let model = layer(&device);
        let held = model.weight.val();
        let before = values(held.clone());
        let x = Tensor::<2>::ones([2, 5], &device);
        let grads = GradientsParams::from_grads(model.forward(x).sum().backward(), &model);
        let mut optim = FusedAdamConfig::new().init();
        let model = optim.step(1e-1, model, grads);
        assert_eq!(values(held), before, "{name}: the held tensor changed");
        assert_ne!(values(model.weight.val()), before, "{name}: no update");
    }
}
