//! NIR export of a trained [`SnnClassifier`] (the `snn-train nir export` command).

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::*;
use snn_nir::cli::{CliError, ExportRequest};
use snn_nir::{NirGraph, ToNir};

use crate::config::TrainConfig;
use crate::model::SnnClassifier;

impl SnnClassifier {
    /// The classifier as a NIR graph `input → fc1 → lif → fc2 → readout → output` for steps of
    /// `dt_ms` (the hidden layer's own `dt_ms` when `None`); see [`snn_nir`] for the mapping.
    /// Importing it with `snn_nir::import` at the same step gives the readout membrane of
    /// [`SnnClassifier::forward`].
    ///
    /// # Errors
    /// [`snn_nir::NirError::Unsupported`] for a recurrent or multi-layer classifier (not
    /// exported yet), and the errors of each layer's export.
    pub fn to_nir(&self, dt_ms: Option<f64>) -> snn_nir::Result<NirGraph> {
        if self.rec1.is_some() || !self.deeper.is_empty() {
            return Err(snn_nir::NirError::Unsupported {
                node: "classifier".into(),
                reason: "the export writes one feed-forward hidden layer; recurrent weights and \
                         further hidden layers are not exported yet"
                    .into(),
            });
        }
        let dt_ms = dt_ms.unwrap_or(self.lif.config().dt_ms);
        let [inputs, _] = self.fc1.weight.dims();
        let mut graph = snn_nir::sequential(
            vec![inputs],
            vec![
                ("fc1".into(), self.fc1.to_nir(dt_ms)?),
                ("lif".into(), self.lif.to_nir(dt_ms)?),
                ("fc2".into(), self.fc2.to_nir(dt_ms)?),
                ("readout".into(), self.readout.to_nir(dt_ms)?),
            ],
            dt_ms,
        )?;
        // what a simulator of the file needs besides the nodes: how the model was stepped
        // (forward Euler of the nodes at metadata.dt, current before membrane, as snn_nir::import
        // and the peers' importers run CubaLIF) and how it reads a class
        let text = |s: String| snn_nir::MetaValue::Str(s);
        let metadata = [
            (
                "discretization",
                format!("{:?}", self.lif.config().discretization),
            ),
            (
                "update_order",
                "synaptic current first, then membrane (i = i + dt/tau_syn*(w_in*x - i); \
                 v = v + dt/tau_mem*(v_leak - v + r*i))"
                    .into(),
            ),
            (
                "class_scores",
                format!(
                    "{:?} of the readout membrane (time axis), argmax over classes",
                    self.loss.readout()
                ),
            ),
        ];
        for (key, value) in metadata {
            graph.metadata.insert(key.into(), text(value));
        }
        Ok(graph)
    }
}

/// Loads a trained classifier: `config.json` (the [`TrainConfig`] a run writes) and the model
/// record `model` (`model.bpk`) from a training output folder.
pub fn load_classifier(
    config: &Path,
    model: &Path,
    device: &Device,
) -> std::result::Result<SnnClassifier, CliError> {
    let unreadable =
        |what: &Path, e: String| CliError::Unreadable(format!("{}: {e}", what.display()));
    let train = TrainConfig::load(config).map_err(|e| unreadable(config, e.to_string()))?;
    let fresh = train
        .model
        .init(device)
        .map_err(|e| CliError::Other(format!("{}: {e}", config.display())))?;
    fresh
        .try_load_file(model)
        .map_err(|e| unreadable(model, format!("{e:?}")))
}

/// The `nir export` of the CLI: loads the classifier named by the request (on the CPU) and
/// converts it.
pub fn export_request(request: &ExportRequest) -> std::result::Result<NirGraph, CliError> {
    let (config, model): (PathBuf, PathBuf) = match (&request.checkpoint, &request.model) {
        (Some(dir), _) => (dir.join("config.json"), dir.join("model.bpk")),
        (None, Some(file)) => {
            let dir = file.parent().unwrap_or(Path::new("."));
            (dir.join("config.json"), file.clone())
        }
        (None, None) => return Err(CliError::Usage("no model given".into())),
    };
    // burn 0.22 deprecates the ndarray backend, which we support
    #[allow(deprecated)]
    let device = Device::ndarray();
    let model = load_classifier(&config, &model, &device)?;
    model
        .to_nir(request.dt_ms)
        .map_err(|e| CliError::Other(e.to_string()))
}
