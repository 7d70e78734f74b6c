//! A quiet progress renderer for the `Learner`: one line per epoch with its metrics, then burn's
//! summary table. It also records every metric's end-of-epoch value for the JSON report.
//!
//! burn's `CliMetricsRenderer` prints a line per batch, and its TUI needs a terminal; a training
//! log wants neither. [`crate::train()`] uses burn's terminal dashboard instead when stdout is a
//! terminal and this renderer otherwise.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining,
};

/// End-of-epoch metric values, by split (`train`, `valid`) and metric name, one value per epoch
/// in the order the epochs ran. Shared between a renderer and whoever reads it after training.
#[derive(Clone, Debug, Default)]
pub struct MetricLog(Arc<Mutex<SplitMetrics>>);

/// Split (`train`, `valid`) -> metric name -> one value per epoch.
pub type SplitMetrics = BTreeMap<String, BTreeMap<String, Vec<f64>>>;

impl MetricLog {
    /// The values recorded so far: split -> metric -> per-epoch values.
    pub fn snapshot(&self) -> SplitMetrics {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Records the end-of-epoch value of `metric` in `split`.
    pub fn record(&self, split: &str, metric: &str, value: f64) {
        if let Ok(mut m) = self.0.lock() {
            m.entry(split.to_string())
                .or_default()
                .entry(metric.to_string())
                .or_default()
                .push(value);
        }
    }
}

/// Prints `epoch k/n (s)` and the epoch's metrics after each epoch, records them in a
/// [`MetricLog`]; the default end-of-training summary table (per-epoch minimum and maximum of
/// every metric) follows.
pub struct EpochRenderer {
    total_epochs: usize,
    started: Instant,
    names: HashMap<MetricId, String>,
    log: MetricLog,
}

impl EpochRenderer {
    /// A renderer whose clock starts now, recording into a fresh log.
    pub fn new() -> Self {
        Self::with_log(MetricLog::default())
    }

    /// A renderer recording into `log`.
    pub fn with_log(log: MetricLog) -> Self {
        Self {
            total_epochs: 0,
            started: Instant::now(),
            names: HashMap::new(),
            log,
        }
    }

    fn record(&mut self, split: &str, state: MetricState) {
        if let MetricState::Numeric(entry, Some(NumericEntry::Final(value))) = state {
            let name = self
                .names
                .get(&entry.metric_id)
                .cloned()
                .unwrap_or_else(|| format!("{:?}", entry.metric_id));
            self.log.record(split, &name, value);
        }
    }

    /// The latest recorded value of every metric, `split/metric=value`, for the epoch line.
    fn latest(&self) -> String {
        let mut parts = Vec::new();
        for (split, metrics) in self.log.snapshot() {
            for (metric, values) in metrics {
                if let Some(v) = values.last() {
                    parts.push(format!("{split} {metric} {v:.4}"));
                }
            }
        }
        parts.join(", ")
    }
}

impl Default for EpochRenderer {
    fn default() -> Self {
        Self::new()
    }
}

impl MetricsRendererTraining for EpochRenderer {
    fn update_train(&mut self, state: MetricState) {
        self.record("train", state);
    }
    fn update_valid(&mut self, state: MetricState) {
        self.record("valid", state);
    }
}

impl TrainingProgressLogger for EpochRenderer {
    fn start(
        &mut self,
        total_epochs: usize,
        _starting_epoch: usize,
        _total_items: Option<usize>,
        _label: Option<&str>,
    ) {
        self.total_epochs = total_epochs;
        self.started = Instant::now();
    }
    /// burn calls this with the number of the epoch just finished, counting from 1, before that
    fn update_epoch(&mut self, epoch: usize) {
        println!(
            "epoch {}/{} done ({:.1} s) {}",
            epoch,
            self.total_epochs,
            self.started.elapsed().as_secs_f64(),
            self.latest()
        );
    }
    fn start_split(&mut self, _split: &str, _total_items: usize) {}
    fn update_split(&mut self, _items_processed: usize) {}
    fn end_split(&mut self) {}
    fn end(&mut self) {}
    fn log_event_training(&mut self, _event: String) {}
}

impl EvaluationProgressLogger for EpochRenderer {
    fn start_global_progress(&mut self, _total_tests: usize) {}
    fn start_test(&mut self, _name: &str, _total_items: usize) {}
    fn update_test_progress(&mut self, _items_processed: usize) {}
    fn end_test(&mut self) {}
    fn end_global_progress(&mut self) {}
    fn log_event_evaluation(&mut self, _event: String) {}
}

impl MetricsRendererEvaluation for EpochRenderer {
    fn update_test(&mut self, _name: EvaluationName, _state: MetricState) {}
}

impl MetricsRenderer for EpochRenderer {
    fn manual_close(&mut self) {}
    fn register_metric(&mut self, definition: MetricDefinition) {
        self.names
            .insert(definition.metric_id, definition.name.to_string());
    }
}
