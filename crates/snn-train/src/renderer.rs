//! A quiet progress renderer for the `Learner`: one line per epoch, then burn's summary table.
//!
//! burn's `CliMetricsRenderer` prints a line per batch, and its TUI needs a terminal; a training
//! log wants neither.

use std::time::Instant;

use burn::train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn::train::metric::MetricDefinition;
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining,
};

/// Prints `epoch k/n (s)` after each epoch; the default end-of-training summary table (per-epoch
/// minimum and maximum of every metric) follows.
pub struct EpochRenderer {
    total_epochs: usize,
    started: Instant,
}

impl EpochRenderer {
    /// A renderer whose clock starts now.
    pub fn new() -> Self {
        Self {
            total_epochs: 0,
            started: Instant::now(),
        }
    }
}

impl Default for EpochRenderer {
    fn default() -> Self {
        Self::new()
    }
}

impl MetricsRendererTraining for EpochRenderer {
    fn update_train(&mut self, _state: MetricState) {}
    fn update_valid(&mut self, _state: MetricState) {}
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
    /// burn calls this with the number of the epoch just finished, counting from 1.
    fn update_epoch(&mut self, epoch: usize) {
        println!(
            "epoch {}/{} done ({:.1} s)",
            epoch,
            self.total_epochs,
            self.started.elapsed().as_secs_f64()
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
    fn register_metric(&mut self, _definition: MetricDefinition) {}
}
