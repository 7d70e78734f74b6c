//! The user guide (`docs/src/`), compiled and run as doctests: one item per page, so that
//! `cargo test --workspace --doc` runs every Rust code block of the guide and the docs cannot
//! rot. A new page needs an item here (the integration test
//! `plot::every_guide_page_is_doctested` checks it).

/// `docs/src/introduction.md`
#[doc = include_str!("../docs/src/introduction.md")]
pub struct IntroductionPage;

/// `docs/src/getting-started.md`
#[doc = include_str!("../docs/src/getting-started.md")]
pub struct GettingStartedPage;

/// `docs/src/concepts.md`
#[doc = include_str!("../docs/src/concepts.md")]
pub struct ConceptsPage;

/// `docs/src/convolutional.md`
#[doc = include_str!("../docs/src/convolutional.md")]
pub struct ConvolutionalPage;

/// `docs/src/examples.md`
#[doc = include_str!("../docs/src/examples.md")]
pub struct ExamplesPage;

/// `docs/src/neurons.md`
#[doc = include_str!("../docs/src/neurons.md")]
pub struct NeuronsPage;

/// `docs/src/neurons/lif.md`
#[doc = include_str!("../docs/src/neurons/lif.md")]
pub struct NeuronsLifPage;

/// `docs/src/neurons/adex.md`
#[doc = include_str!("../docs/src/neurons/adex.md")]
pub struct NeuronsAdexPage;

/// `docs/src/neurons/izhikevich.md`
#[doc = include_str!("../docs/src/neurons/izhikevich.md")]
pub struct NeuronsIzhikevichPage;

/// `docs/src/neurons/recurrent.md`
#[doc = include_str!("../docs/src/neurons/recurrent.md")]
pub struct NeuronsRecurrentPage;

/// `docs/src/neurons/coba-mc.md`
#[doc = include_str!("../docs/src/neurons/coba-mc.md")]
pub struct NeuronsCobaMcPage;

/// `docs/src/neurons/peer-layers.md`
#[doc = include_str!("../docs/src/neurons/peer-layers.md")]
pub struct NeuronsPeerLayersPage;

/// `docs/src/surrogates.md`
#[doc = include_str!("../docs/src/surrogates.md")]
pub struct SurrogatesPage;

/// `docs/src/encoding.md`
#[doc = include_str!("../docs/src/encoding.md")]
pub struct EncodingPage;

/// `docs/src/losses.md`
#[doc = include_str!("../docs/src/losses.md")]
pub struct LossesPage;

/// `docs/src/plasticity.md`
#[doc = include_str!("../docs/src/plasticity.md")]
pub struct PlasticityPage;

/// `docs/src/training.md`
#[doc = include_str!("../docs/src/training.md")]
pub struct TrainingPage;

/// `docs/src/datasets.md`
#[doc = include_str!("../docs/src/datasets.md")]
pub struct DatasetsPage;

/// `docs/src/plotting.md`
#[doc = include_str!("../docs/src/plotting.md")]
pub struct PlottingPage;

/// `docs/src/performance.md`
#[doc = include_str!("../docs/src/performance.md")]
pub struct PerformancePage;

/// `docs/src/nir.md`
#[doc = include_str!("../docs/src/nir.md")]
pub struct NirPage;

/// `docs/src/architecture.md`
#[doc = include_str!("../docs/src/architecture.md")]
pub struct ArchitecturePage;

/// `docs/src/migration.md`
#[doc = include_str!("../docs/src/migration.md")]
pub struct MigrationPage;

/// `docs/src/migration/snntorch.md`
#[doc = include_str!("../docs/src/migration/snntorch.md")]
pub struct MigrationSnntorchPage;

/// `docs/src/migration/norse.md`
#[doc = include_str!("../docs/src/migration/norse.md")]
pub struct MigrationNorsePage;

/// `docs/src/migration/spikingjelly.md`
#[doc = include_str!("../docs/src/migration/spikingjelly.md")]
pub struct MigrationSpikingjellyPage;

/// `docs/src/migration/spyx.md`
#[doc = include_str!("../docs/src/migration/spyx.md")]
pub struct MigrationSpyxPage;

/// `docs/src/migration/mlgenn.md`
#[doc = include_str!("../docs/src/migration/mlgenn.md")]
pub struct MigrationMlgennPage;

/// `docs/src/migration/spikelearn.md`
#[doc = include_str!("../docs/src/migration/spikelearn.md")]
pub struct MigrationSpikelearnPage;

/// `docs/src/migration/upgrading.md`
#[doc = include_str!("../docs/src/migration/upgrading.md")]
pub struct MigrationUpgradingPage;
