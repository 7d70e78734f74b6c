//! mlGeNN's `SpikeInput` (`ml_genn/neurons/spike_input.py`): pre-recorded spike trains.

use burn::prelude::*;

use crate::error::{SnnError, nonzero, positive};

/// Configuration of a [`SpikeInput`]: neurons that replay recorded spike events (mlGeNN
/// `SpikeInput`, fed with `PreprocessedSpikes`).
///
/// mlGeNN stores each neuron's spike times sorted (`preprocess_spikes`) and fires at step `n`
/// (time `t = n·dt`) while the next stored time is `≤ t`, one spike per step:
///
/// ```text
/// z(n) = 1  if StartSpike ≠ EndSpike and t ≥ SpikeTimes[StartSpike];  then StartSpike += 1
/// ```
///
/// So an event at time `τ` ms fires at the first step `n = ⌈τ / dt⌉`, and when a neuron has
/// several events for one step, the later ones are queued to the following steps:
/// the `m`-th event of a neuron (in time order) fires at `n_m = max(step_m, n_(m−1) + 1)`.
///
/// `max_spikes` is the budget of the whole batch, as in mlGeNN ("this needs to include batch
/// size"); its default is mlGeNN's 1 000 000.
#[derive(Config, Debug)]
pub struct SpikeInputConfig {
    /// Number of neurons (the population's size).
    pub size: usize,
    /// Number of steps of the dense output.
    pub num_steps: usize,
    /// Largest number of events in one call, over the whole batch. Default 1 000 000.
    #[config(default = 1_000_000)]
    pub max_spikes: usize,
    /// Simulation step in ms, for [`SpikeInput::dense_ms`]. Default 1.
    #[config(default = 1.0)]
    pub dt_ms: f64,
}

impl SpikeInputConfig {
    /// Checks every field (`size`, `num_steps`, `max_spikes` at least 1, `dt_ms > 0`).
    pub fn validate(&self) -> crate::Result<()> {
        nonzero("size", self.size)?;
        nonzero("num_steps", self.num_steps)?;
        nonzero("max_spikes", self.max_spikes)?;
        positive("dt_ms", self.dt_ms).map(drop)
    }

    /// Builds the input after [`SpikeInputConfig::validate`].
    pub fn init(&self) -> crate::Result<SpikeInput> {
        self.validate()?;
        Ok(SpikeInput {
            config: self.clone(),
        })
    }
}

/// Replays recorded spike events as a dense spike tensor; see [`SpikeInputConfig`].
#[derive(Clone, Debug)]
pub struct SpikeInput {
    config: SpikeInputConfig,
}

impl SpikeInput {
    /// The configuration the input was built from.
    pub fn config(&self) -> &SpikeInputConfig {
        &self.config
    }

    /// The dense spikes `[batch, num_steps, size]` (`0.0`/`1.0`) of `samples`, one list of
    /// `(time step, neuron id)` events per batch entry, in any order, on `device`.
    ///
    /// Errors, checked before anything is built, with `index` counting the events through the
    /// samples in order: [`SnnError::ZeroSize`] for no sample; [`SnnError::TooManySpikes`] for
    /// more than `max_spikes` events in all; [`SnnError::EventOutOfRange`] for a neuron id
    /// `≥ size`, a time step `≥ num_steps`, or an event pushed to a step `≥ num_steps` by
    /// earlier events of its neuron (see [`SpikeInputConfig`]).
    pub fn dense<S: AsRef<[(usize, usize)]>>(
        &self,
        samples: &[S],
        device: &Device,
    ) -> crate::Result<Tensor<3>> {
        self.build("SpikeInput::dense", samples, device)
    }

    /// [`SpikeInput::dense`] for events `(time in ms, neuron id)`, as mlGeNN records them: an
    /// event at `τ` ms fires at step `⌈τ / dt_ms⌉`. A time that is negative, not finite, or
    /// past the last step is an [`SnnError::EventOutOfRange`] with `what = "time_ms"`.
    pub fn dense_ms<S: AsRef<[(f64, usize)]>>(
        &self,
        samples: &[S],
        device: &Device,
    ) -> crate::Result<Tensor<3>> {
        let context = "SpikeInput::dense_ms";
        self.check_budget(context, samples)?;
        let steps = self.config.num_steps;
        let mut index = 0;
        let mut converted = Vec::with_capacity(samples.len());
        for sample in samples {
            let mut events = Vec::with_capacity(sample.as_ref().len());
            for &(time_ms, neuron) in sample.as_ref() {
                let step = (time_ms / self.config.dt_ms).ceil();
                if !(time_ms >= 0.0 && step.is_finite() && step < steps as f64) {
                    return Err(SnnError::EventOutOfRange {
                        context,
                        index,
                        what: "time_ms",
                        value: time_ms,
                        allowed: format!(
                            "[0, {}] ms (steps 0..{steps} of {} ms)",
                            (steps - 1) as f64 * self.config.dt_ms,
                            self.config.dt_ms
                        ),
                    });
                }
                events.push((step as usize, neuron));
                index += 1;
            }
            converted.push(events);
        }
        self.build(context, &converted, device)
    }

    fn check_budget<E, S: AsRef<[E]>>(
        &self,
        context: &'static str,
        samples: &[S],
    ) -> crate::Result<()> {
        if samples.is_empty() {
            return Err(SnnError::ZeroSize { field: "samples" });
        }
        let count: usize = samples.iter().map(|s| s.as_ref().len()).sum();
        if count > self.config.max_spikes {
            return Err(SnnError::TooManySpikes {
                context,
                count,
                max_spikes: self.config.max_spikes,
            });
        }
        Ok(())
    }

    fn build<S: AsRef<[(usize, usize)]>>(
        &self,
        context: &'static str,
        samples: &[S],
        device: &Device,
    ) -> crate::Result<Tensor<3>> {
        self.check_budget(context, samples)?;
        let (size, steps) = (self.config.size, self.config.num_steps);
        let out_of_range = |index, what, value: usize, bound: usize| SnnError::EventOutOfRange {
            context,
            index,
            what,
            value: value as f64,
            allowed: format!("0..{bound}"),
        };
        let mut dense = vec![0.0f32; samples.len() * steps * size];
        let mut first = 0;
        for (b, sample) in samples.iter().enumerate() {
            let sample = sample.as_ref();
            // (neuron, step, index): each neuron's events in time order, as preprocess_spikes
            let mut events = Vec::with_capacity(sample.len());
            for (k, &(step, neuron)) in sample.iter().enumerate() {
                let index = first + k;
                if neuron >= size {
                    return Err(out_of_range(index, "neuron id", neuron, size));
                }
                if step >= steps {
                    return Err(out_of_range(index, "time step", step, steps));
                }
                events.push((neuron, step, index));
            }
            events.sort_unstable();
            let mut last: Option<(usize, usize)> = None; // (neuron, step it last fired)
            for (neuron, step, index) in events {
                let fire = match last {
                    Some((n, fired)) if n == neuron => step.max(fired + 1),
                    _ => step,
                };
                if fire >= steps {
                    return Err(out_of_range(
                        index,
                        "time step (queued behind earlier spikes of its neuron)",
                        fire,
                        steps,
                    ));
                }
                dense[(b * steps + fire) * size + neuron] = 1.0;
                last = Some((neuron, fire));
            }
            first += sample.len();
        }
        let shape = [samples.len(), steps, size];
        Ok(Tensor::from_data(TensorData::new(dense, shape), device))
    }
}
