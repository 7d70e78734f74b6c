//! spikelearn's synapses, traces and local learning rules on host vectors.

use snn_core::SnnError;

use crate::{NetSynapse, Transform};

/// Sign of a synapse's output, spikelearn's `syn_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SynType {
    /// `"exc"`: output `+W x`.
    Exc,
    /// `"inh"`: output `-W x` (weights stay positive, the sign is applied on the output).
    Inh,
    /// `"hybrid"` / `None` (spikelearn's default): output `+W x`, weights of either sign.
    #[default]
    Hybrid,
}

/// Parameters of one spikelearn trace, the `(t0, t1)` tuples `tre`, `tro`, `trm`:
/// `t(k) = min(t0 x(k) + t1 t(k-1), tracelim)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TraceParams {
    /// Gain on the current activity `x(k)` (spikelearn's `t0`).
    pub gain: f32,
    /// Per-step decay factor of the trace (spikelearn's `t1`), in `[0, 1]` for a decaying trace.
    pub decay: f32,
}

impl TraceParams {
    /// `(t0, t1)` as in spikelearn's tuples.
    pub fn new(gain: f32, decay: f32) -> Self {
        Self { gain, decay }
    }

    fn validate(&self, field: &'static str) -> snn_core::Result<()> {
        snn_core::error::finite(field, f64::from(self.gain))?;
        snn_core::error::finite(field, f64::from(self.decay))?;
        Ok(())
    }
}

/// spikelearn's `Trace`: `t <- t0 x + t1 t`, then clamped from above at `tracelim` (there is no
/// lower clamp).
#[derive(Clone, Debug)]
pub struct Trace {
    params: TraceParams,
    limit: f32,
    t: Vec<f32>,
}

impl Trace {
    /// A trace of `size` values at 0.
    pub fn new(size: usize, params: TraceParams, limit: f32) -> Self {
        Self {
            params,
            limit,
            t: vec![0.0; size],
        }
    }

    /// The current trace values.
    pub fn values(&self) -> &[f32] {
        &self.t
    }

    /// One step: `t = min(t0 x + t1 t, tracelim)`.
    pub fn update(&mut self, x: &[f32]) {
        for (t, x) in self.t.iter_mut().zip(x) {
            *t = (self.params.gain * x + self.params.decay * *t).min(self.limit);
        }
    }

    /// Back to 0.
    pub fn reset(&mut self) {
        self.t.fill(0.0);
    }
}

/// spikelearn's weight clamp after every learning update: `W` is clamped to `[w_min, w_max]`.
///
/// spikelearn (commit `bcb02f5`, `LearningRule.update`) clamps to `Wlim` from above and to
/// `-Wlim` from below when the rule's `syn_type` is `None`, else to 0. The synapse classes never
/// pass their `syn_type` to the rule, so the effective range is always `[-Wlim, Wlim]`:
/// [`WeightLimits::symmetric`] reproduces that; [`WeightLimits::nonnegative`] is the intended
/// `[0, Wlim]` for `exc`/`inh` synapses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WeightLimits {
    /// Lower bound.
    pub w_min: f32,
    /// Upper bound (`Wlim`).
    pub w_max: f32,
}

impl WeightLimits {
    /// `[-wlim, wlim]`, spikelearn's effective clamp (default `Wlim = 1`).
    pub fn symmetric(wlim: f32) -> Self {
        Self {
            w_min: -wlim,
            w_max: wlim,
        }
    }

    /// `[0, wlim]`.
    pub fn nonnegative(wlim: f32) -> Self {
        Self {
            w_min: 0.0,
            w_max: wlim,
        }
    }

    fn validate(&self) -> snn_core::Result<()> {
        snn_core::error::finite("w_min", f64::from(self.w_min))?;
        snn_core::error::finite("w_max", f64::from(self.w_max))?;
        if self.w_min > self.w_max {
            return Err(SnnError::Invalid {
                field: "w_min",
                value: f64::from(self.w_min),
                reason: format!("must not exceed w_max = {}", self.w_max),
            });
        }
        Ok(())
    }
}

impl Default for WeightLimits {
    fn default() -> Self {
        Self::symmetric(1.0)
    }
}

/// Parameters of spikelearn's pair-based STDP (`STDPRule`, `ModSTDPRule`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StdpParams {
    /// Potentiation amplitude `Ap`.
    pub ap: f32,
    /// Depression amplitude `An`.
    pub an: f32,
    /// Presynaptic trace `tre`.
    pub pre_trace: TraceParams,
    /// Postsynaptic trace `tro`.
    pub post_trace: TraceParams,
    /// Trace clamp `tracelim` (spikelearn default 10).
    pub trace_limit: f32,
    /// Weight clamp (spikelearn default `Wlim = 1`, i.e. `[-1, 1]`).
    pub limits: WeightLimits,
}

impl StdpParams {
    /// `Ap`, `An`, `tre`, `tro`, with spikelearn's defaults `tracelim = 10`, `Wlim = 1`.
    pub fn new(ap: f32, an: f32, pre_trace: TraceParams, post_trace: TraceParams) -> Self {
        Self {
            ap,
            an,
            pre_trace,
            post_trace,
            trace_limit: 10.0,
            limits: WeightLimits::default(),
        }
    }
}

/// Parameters of spikelearn's non-Hebbian MSE rule (`MSERule`, `MSESynapse`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MseParams {
    /// Learning rate `lr`.
    pub lr: f32,
    /// Presynaptic trace `tre`.
    pub pre_trace: TraceParams,
    /// Postsynaptic (output) trace `tro`.
    pub post_trace: TraceParams,
    /// Modulator (target) trace `trm`: kept and updated as in spikelearn, unused by the rule.
    pub mod_trace: TraceParams,
    /// Trace clamp `tracelim` (spikelearn default 10).
    pub trace_limit: f32,
    /// Weight clamp (spikelearn default `Wlim = 1`, i.e. `[-1, 1]`).
    pub limits: WeightLimits,
}

impl MseParams {
    /// `lr`, `tre`, `tro`, `trm` with spikelearn's defaults `tracelim = 10`, `Wlim = 1`.
    pub fn new(
        lr: f32,
        pre_trace: TraceParams,
        post_trace: TraceParams,
        mod_trace: TraceParams,
    ) -> Self {
        Self {
            lr,
            pre_trace,
            post_trace,
            mod_trace,
            trace_limit: 10.0,
            limits: WeightLimits::default(),
        }
    }
}

/// What a [`Synapse`] computes and how it learns.
#[derive(Clone, Debug, PartialEq)]
pub enum SynapseKind {
    /// `StaticSynapse`: `y = ±W x`, `W` dense `[post][pre]`; one source.
    Static,
    /// `OneToOneSynapse`: `y_i = ±w_i x_i`; one source, `pre == post` size.
    OneToOne,
    /// `STDPSynapse`: dense, one source, learns with `STDPRule`.
    Stdp(StdpParams),
    /// spikelearn's `TernarySynapse` without a rule: dense `±W x`; two sources (pre,
    /// modulator), the modulator does not enter the output.
    StaticWithModulator,
    /// spikelearn's `TernarySynapse` with `ModSTDPRule` ([`Synapse::ternary`]): STDP gated by
    /// the modulator trace (`trm`, the second field); two sources.
    ModStdp(StdpParams, TraceParams),
    /// `MSESynapse`: `MSERule`, modulator = target of the postsynaptic layer; two sources.
    Mse(MseParams),
}

impl SynapseKind {
    /// How many presynaptic sources (`pre_names` in spikelearn's `add_synapse`) this kind takes:
    /// 1, or 2 for ternary kinds (presynaptic layer, then modulator).
    pub fn sources(&self) -> usize {
        match self {
            Self::Static | Self::OneToOne | Self::Stdp(_) => 1,
            Self::StaticWithModulator | Self::ModStdp(..) | Self::Mse(_) => 2,
        }
    }

    /// The kind's name, for errors.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Static => "static",
            Self::OneToOne => "one-to-one",
            Self::Stdp(_) => "STDP",
            Self::StaticWithModulator => "static with modulator",
            Self::ModStdp(..) => "ternary (modulated STDP)",
            Self::Mse(_) => "MSE",
        }
    }
}

#[derive(Clone, Debug)]
struct Traces {
    pre: Trace,
    post: Trace,
    modulator: Option<Trace>,
}

/// A spikelearn synapse into one layer: weights, sign, optional input transforms, optional
/// learning rule with its traces.
///
/// Output (every kind): `y = ±W T(x_pre)` (`-` for [`SynType::Inh`]); one-to-one:
/// `y_i = ±w_i T(x_pre)_i`, with `T` the [`Transform`] of [`Synapse::with_transform`] (the
/// identity without one). Learning reads the raw `x_pre`, as spikelearn's rules do.
///
/// Learning (after the network step, spikelearn's `update(xo, learn)`), with `x_e` the
/// presynaptic input seen this step, `x_o` the postsynaptic spikes of this step, `x_m` the
/// modulator seen this step (through its [`Synapse::with_mod_transform`], if any); first the traces (`te <- x_e`, `to <- x_o`, `tm <- x_m`), then, only
/// when learning is on:
///
/// * STDP: `dW = Ap outer(x_o, te) - An outer(to, x_e)`
/// * modulated STDP: `dW = tm * (Ap outer(x_o, te) - An outer(to, x_e))`, `tm` broadcast as
///   NumPy does over the last (presynaptic) axis: a modulator of size 1 gates all weights, one of
///   size `pre` gates each presynaptic column.
/// * MSE: `dW = lr outer(x_m - to, te)` (modulator = target, size `post`)
///
/// and `W <- clamp(W + dW, w_min, w_max)`. Because the traces are updated first, a pre spike
/// followed by a post spike potentiates by `Ap t0_e t1_e` (one step apart) and the reverse
/// order depresses by `An t0_o t1_o`; a coincident pair gives `(Ap t0_e - An t0_o)`.
#[derive(Clone, Debug)]
pub struct Synapse {
    kind: SynapseKind,
    syn_type: SynType,
    pre: usize,
    post: usize,
    modulator: usize,
    w: Vec<f32>,
    traces: Option<Traces>,
    transform: Option<Transform>,
    mod_transform: Option<Transform>,
    last_pre: Vec<f32>,
    last_mod: Vec<f32>,
}

fn check_weights(
    context: &'static str,
    w: &[f32],
    len: usize,
    shape: String,
) -> snn_core::Result<()> {
    if w.len() != len {
        return Err(SnnError::ShapeMismatch {
            context,
            expected: shape,
            actual: vec![w.len()],
        });
    }
    if let Some(bad) = w.iter().find(|w| !w.is_finite()) {
        return Err(SnnError::NotFinite {
            field: "w0",
            value: f64::from(*bad),
        });
    }
    Ok(())
}

impl Synapse {
    fn build(
        kind: SynapseKind,
        pre: usize,
        post: usize,
        modulator: usize,
        w0: Vec<f32>,
        syn_type: SynType,
    ) -> snn_core::Result<Self> {
        snn_core::error::nonzero("pre", pre)?;
        snn_core::error::nonzero("post", post)?;
        if kind.sources() == 2 {
            snn_core::error::nonzero("modulator", modulator)?;
        }
        if kind == SynapseKind::OneToOne {
            check_weights("Synapse::one_to_one w0", &w0, pre, format!("[{pre}]"))?;
        } else {
            check_weights(
                "Synapse w0",
                &w0,
                pre * post,
                format!("[post {post} * pre {pre}] = {} weights", pre * post),
            )?;
        }
        let traces = match &kind {
            SynapseKind::Stdp(p) | SynapseKind::ModStdp(p, _) => {
                p.pre_trace.validate("pre_trace")?;
                p.post_trace.validate("post_trace")?;
                p.limits.validate()?;
                snn_core::error::finite("ap", f64::from(p.ap))?;
                snn_core::error::finite("an", f64::from(p.an))?;
                snn_core::error::finite("trace_limit", f64::from(p.trace_limit))?;
                Some(Traces {
                    pre: Trace::new(pre, p.pre_trace, p.trace_limit),
                    post: Trace::new(post, p.post_trace, p.trace_limit),
                    modulator: match &kind {
                        SynapseKind::ModStdp(_, trm) => {
                            trm.validate("mod_trace")?;
                            Some(Trace::new(modulator, *trm, p.trace_limit))
                        }
                        _ => None,
                    },
                })
            }
            SynapseKind::Mse(p) => {
                p.pre_trace.validate("pre_trace")?;
                p.post_trace.validate("post_trace")?;
                p.mod_trace.validate("mod_trace")?;
                p.limits.validate()?;
                snn_core::error::finite("lr", f64::from(p.lr))?;
                snn_core::error::finite("trace_limit", f64::from(p.trace_limit))?;
                Some(Traces {
                    pre: Trace::new(pre, p.pre_trace, p.trace_limit),
                    post: Trace::new(post, p.post_trace, p.trace_limit),
                    modulator: Some(Trace::new(modulator, p.mod_trace, p.trace_limit)),
                })
            }
            _ => None,
        };
        Ok(Self {
            kind,
            syn_type,
            pre,
            post,
            modulator,
            w: w0,
            traces,
            transform: None,
            mod_transform: None,
            last_pre: vec![0.0; pre],
            last_mod: vec![0.0; modulator],
        })
    }

    /// spikelearn's `StaticSynapse(Ne, No, W0, syn_type)`: `w0` row-major `[post][pre]`.
    pub fn dense(
        pre: usize,
        post: usize,
        w0: Vec<f32>,
        syn_type: SynType,
    ) -> snn_core::Result<Self> {
        Self::build(SynapseKind::Static, pre, post, 0, w0, syn_type)
    }

    /// spikelearn's `OneToOneSynapse(Ne, W0, syn_type)`: `w0` has one weight per neuron.
    pub fn one_to_one(size: usize, w0: Vec<f32>, syn_type: SynType) -> snn_core::Result<Self> {
        Self::build(SynapseKind::OneToOne, size, size, 0, w0, syn_type)
    }

    /// spikelearn's `STDPSynapse(Ne, No, W0, tre, tro, rule_params={Ap, An}, Wlim, syn_type,
    /// tracelim)`.
    pub fn stdp(
        pre: usize,
        post: usize,
        w0: Vec<f32>,
        params: StdpParams,
        syn_type: SynType,
    ) -> snn_core::Result<Self> {
        Self::build(SynapseKind::Stdp(params), pre, post, 0, w0, syn_type)
    }

    /// spikelearn's `TernarySynapse(Ne, No, Nm, W0)` without a learning rule: `±W x_pre`; the
    /// modulator source (size `modulator`) is accepted and ignored.
    pub fn static_with_modulator(
        pre: usize,
        post: usize,
        modulator: usize,
        w0: Vec<f32>,
        syn_type: SynType,
    ) -> snn_core::Result<Self> {
        Self::build(
            SynapseKind::StaticWithModulator,
            pre,
            post,
            modulator,
            w0,
            syn_type,
        )
    }

    /// spikelearn's `TernarySynapse(Ne, No, Nm, W0, learning_rule=ModSTDPRule(...))`: STDP
    /// multiplied by the modulator's trace. `modulator` must be 1 (a global third factor) or
    /// `pre` (NumPy broadcasting over the presynaptic axis, as spikelearn's `tm() * dW`).
    /// `mod_trace` is spikelearn's `trm`.
    pub fn ternary(
        pre: usize,
        post: usize,
        modulator: usize,
        w0: Vec<f32>,
        params: StdpParams,
        mod_trace: TraceParams,
        syn_type: SynType,
    ) -> snn_core::Result<Self> {
        if modulator != 1 && modulator != pre {
            return Err(SnnError::ShapeMismatch {
                context: "Synapse::ternary modulator",
                expected: format!("1 or the presynaptic size {pre}"),
                actual: vec![modulator],
            });
        }
        Self::build(
            SynapseKind::ModStdp(params, mod_trace),
            pre,
            post,
            modulator,
            w0,
            syn_type,
        )
    }

    /// spikelearn's `MSESynapse(Ne, No, W0, tre, tro, trm, rule_params={lr}, Wlim, syn_type,
    /// tracelim)`: the modulator is the postsynaptic target, of size `post`.
    pub fn mse(
        pre: usize,
        post: usize,
        w0: Vec<f32>,
        params: MseParams,
        syn_type: SynType,
    ) -> snn_core::Result<Self> {
        Self::build(SynapseKind::Mse(params), pre, post, post, w0, syn_type)
    }

    /// The same synapse with `transform` applied to its presynaptic input before the weights
    /// (spikelearn's `transform`; learning still reads the raw input).
    ///
    /// # Errors
    /// [`SnnError::ShapeMismatch`] when the transform's size is not the presynaptic size.
    pub fn with_transform(self, transform: Transform) -> snn_core::Result<Self> {
        check_transform("Synapse::with_transform", &transform, self.pre)?;
        Ok(Self {
            transform: Some(transform),
            ..self
        })
    }

    /// The same synapse with `transform` applied to its modulator before its trace and its rule
    /// (spikelearn's `transform_mod`, as documented).
    ///
    /// **Deliberate difference:** spikelearn 0.1.2 accepts `transform_mod` and never applies
    /// it (its results equal those without), and raises on `reset()` when no `transform` is
    /// given.
    ///
    /// # Errors
    /// [`SnnError::Rejected`] for a kind without a modulator, [`SnnError::ShapeMismatch`] when
    /// the transform's size is not the modulator's.
    pub fn with_mod_transform(self, transform: Transform) -> snn_core::Result<Self> {
        if self.kind.sources() != 2 {
            return Err(SnnError::Rejected {
                field: "mod_transform",
                reason: format!("a {} synapse has no modulator", self.kind.name()),
            });
        }
        check_transform("Synapse::with_mod_transform", &transform, self.modulator)?;
        Ok(Self {
            mod_transform: Some(transform),
            ..self
        })
    }

    /// The presynaptic transform, if any.
    pub fn transform(&self) -> Option<&Transform> {
        self.transform.as_ref()
    }

    /// The synapse kind.
    pub fn kind(&self) -> &SynapseKind {
        &self.kind
    }

    /// The sign type.
    pub fn syn_type(&self) -> SynType {
        self.syn_type
    }

    /// Presynaptic size `Ne`.
    pub fn pre_size(&self) -> usize {
        self.pre
    }

    /// Postsynaptic size `No`.
    pub fn post_size(&self) -> usize {
        self.post
    }

    /// Modulator size `Nm` (0 for one-source kinds).
    pub fn modulator_size(&self) -> usize {
        self.modulator
    }

    /// The expected size of each source, in `add_synapse` order.
    pub fn source_sizes(&self) -> Vec<usize> {
        if self.kind.sources() == 2 {
            vec![self.pre, self.modulator]
        } else {
            vec![self.pre]
        }
    }

    /// The weights: row-major `[post][pre]`, or one per neuron for one-to-one.
    pub fn weights(&self) -> &[f32] {
        &self.w
    }

    /// The presynaptic trace `te` (learning kinds only).
    pub fn pre_trace(&self) -> Option<&[f32]> {
        self.traces.as_ref().map(|t| t.pre.values())
    }

    /// The postsynaptic trace `to` (learning kinds only).
    pub fn post_trace(&self) -> Option<&[f32]> {
        self.traces.as_ref().map(|t| t.post.values())
    }

    /// The modulator trace `tm` (modulated learning kinds only).
    pub fn mod_trace(&self) -> Option<&[f32]> {
        self.traces
            .as_ref()
            .and_then(|t| t.modulator.as_ref())
            .map(|t| t.values())
    }
}

fn check_transform(context: &'static str, t: &Transform, size: usize) -> snn_core::Result<()> {
    if t.size() == size {
        return Ok(());
    }
    Err(SnnError::ShapeMismatch {
        context,
        expected: format!("a transform of size {size}"),
        actual: vec![t.size()],
    })
}

impl NetSynapse for Synapse {
    fn source_sizes(&self) -> Vec<usize> {
        Synapse::source_sizes(self)
    }

    fn post_size(&self) -> usize {
        self.post
    }

    fn syn_type(&self) -> SynType {
        self.syn_type
    }

    /// Output for this step (spikelearn's `__call__`): remembers the raw input (and the
    /// modulator, through its transform) for the learning update, returns `±W T(x_pre)`.
    /// `sources` are `[x_pre]` or `[x_pre, x_mod]` of the declared sizes (unchecked here:
    /// [`SpikingNet`](super::SpikingNet) checks them at construction).
    fn step(&mut self, sources: &[&[f32]]) -> Vec<f32> {
        let raw = sources[0];
        self.last_pre.copy_from_slice(raw);
        if let Some(m) = sources.get(1) {
            match self.mod_transform.as_mut() {
                Some(t) => self.last_mod = t.apply(m),
                None => self.last_mod.copy_from_slice(m),
            }
        }
        let transformed = self.transform.as_mut().map(|t| t.apply(raw));
        let x = transformed.as_deref().unwrap_or(raw);
        let sign = if self.syn_type == SynType::Inh {
            -1.0
        } else {
            1.0
        };
        if self.kind == SynapseKind::OneToOne {
            return self.w.iter().zip(x).map(|(w, x)| sign * w * x).collect();
        }
        let n = self.pre;
        (0..self.post)
            .map(|o| sign * (0..n).map(|e| self.w[o * n + e] * x[e]).sum::<f32>())
            .collect()
    }

    /// spikelearn's `update(xo, learn)` after the network step: traces always move; weights only
    /// when `learn`. `post_spikes` are the postsynaptic layer's spikes of this step.
    fn update(&mut self, post_spikes: &[f32], learn: bool) {
        let Some(tr) = self.traces.as_mut() else {
            return;
        };
        tr.pre.update(&self.last_pre);
        tr.post.update(post_spikes);
        if let Some(m) = tr.modulator.as_mut() {
            m.update(&self.last_mod);
        }
        if !learn {
            return;
        }
        let (ne, te, to) = (self.pre, tr.pre.values(), tr.post.values());
        let (xe, xo, xm) = (&self.last_pre, post_spikes, &self.last_mod);
        let limits = match &self.kind {
            SynapseKind::Stdp(p) | SynapseKind::ModStdp(p, _) => {
                let tm = tr.modulator.as_ref().map(|m| m.values());
                for (o, row) in self.w.chunks_mut(ne).enumerate() {
                    for (e, w) in row.iter_mut().enumerate() {
                        let mut dw = p.ap * xo[o] * te[e] - p.an * to[o] * xe[e];
                        if let Some(tm) = tm {
                            // NumPy broadcasting of `tm() * dW` over the last (pre) axis.
                            dw *= if tm.len() == 1 { tm[0] } else { tm[e] };
                        }
                        *w += dw;
                    }
                }
                p.limits
            }
            SynapseKind::Mse(p) => {
                for (o, row) in self.w.chunks_mut(ne).enumerate() {
                    for (w, te) in row.iter_mut().zip(te) {
                        *w += p.lr * (xm[o] - to[o]) * te;
                    }
                }
                p.limits
            }
            _ => return,
        };
        for w in &mut self.w {
            *w = w.clamp(limits.w_min, limits.w_max);
        }
    }

    /// spikelearn's `reset`: traces and transforms to 0 (weights are kept).
    fn reset(&mut self) {
        for t in [&mut self.transform, &mut self.mod_transform]
            .into_iter()
            .flatten()
        {
            t.reset();
        }
        if let Some(tr) = self.traces.as_mut() {
            tr.pre.reset();
            tr.post.reset();
            if let Some(m) = tr.modulator.as_mut() {
                m.reset();
            }
        }
        self.last_pre.fill(0.0);
        self.last_mod.fill(0.0);
    }
}
