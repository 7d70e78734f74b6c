//! A data loader whose shuffle depends only on the seed and the epoch number.
//!
//! burn's `DataLoaderBuilder::shuffle(seed)` draws each epoch's order from one generator that
//! advances epoch after epoch, so a run resumed from a checkpoint at epoch `k` would see the first
//! epoch's order again at epoch `k + 1` and end with other weights than the uninterrupted run.
//! [`EpochLoader`] shuffles epoch `e` with a generator seeded from `(seed, e)`: a resumed run
//! (`starting_epoch(k)`) replays exactly the batches the uninterrupted run saw.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::data::dataset::{Dataset, DatasetError};
use burn::prelude::*;
use snn_core::encode::SpikeRng;

/// Batches of `batch_size` items of a dataset, reshuffled every epoch from `(seed, epoch)`, or
/// in dataset order when `seed` is `None` (validation).
pub struct EpochLoader<I, O> {
    dataset: Arc<dyn Dataset<I>>,
    batcher: Arc<dyn Batcher<I, O>>,
    batch_size: usize,
    seed: Option<u64>,
    device: Device,
    /// The epoch (counting from 0) that the next `iter()` serves.
    next_epoch: Arc<AtomicUsize>,
    /// Called with the epoch (counting from 0) at the start of each epoch's iteration.
    on_epoch: Option<EpochHook>,
}

/// A function called at the start of every epoch (see [`EpochLoader::on_epoch`]).
pub type EpochHook = Arc<dyn Fn(usize) + Send + Sync>;

impl<I, O> EpochLoader<I, O>
where
    I: Send + Sync + Clone + 'static,
    O: Send + 'static,
{
    /// A loader over `dataset`; `seed` shuffles every epoch, `None` keeps the dataset order.
    pub fn new(
        dataset: impl Dataset<I> + 'static,
        batcher: impl Batcher<I, O> + 'static,
        batch_size: usize,
        seed: Option<u64>,
        device: &Device,
    ) -> Self {
        Self {
            dataset: Arc::new(dataset),
            batcher: Arc::new(batcher),
            batch_size: batch_size.max(1),
            seed,
            device: device.clone(),
            next_epoch: Arc::new(AtomicUsize::new(0)),
            on_epoch: None,
        }
    }

    /// Calls `hook(epoch)` (counting from 0) whenever an epoch's iteration starts: the run uses it
    /// to list the files the previous epoch wrote.
    pub fn on_epoch(mut self, hook: impl Fn(usize) + Send + Sync + 'static) -> Self {
        self.on_epoch = Some(Arc::new(hook));
        self
    }

    /// Serves epoch `epochs_done` (counting from 0) first: for a run resumed after
    /// `epochs_done` epochs.
    pub fn starting_epoch(self, epochs_done: usize) -> Self {
        self.next_epoch.store(epochs_done, Ordering::SeqCst);
        self
    }

    /// The order of the items in `epoch`.
    pub fn order(&self, epoch: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.dataset.len()).collect();
        if let Some(seed) = self.seed {
            // one generator per epoch, from a mix of the seed and the epoch number
            let epoch_seed = seed ^ (epoch as u64 + 1).wrapping_mul(0xA076_1D64_78BD_642F);
            SpikeRng::new(epoch_seed).shuffle(&mut order);
        }
        order
    }

    /// Into the `Arc<dyn DataLoader>` that burn's `SupervisedTraining` takes.
    pub fn into_arc(self) -> Arc<dyn DataLoader<O>> {
        Arc::new(self)
    }

    fn with(&self, dataset: Arc<dyn Dataset<I>>, device: &Device) -> Self {
        Self {
            dataset,
            batcher: self.batcher.clone(),
            batch_size: self.batch_size,
            seed: self.seed,
            device: device.clone(),
            next_epoch: Arc::new(AtomicUsize::new(self.next_epoch.load(Ordering::SeqCst))),
            on_epoch: self.on_epoch.clone(),
        }
    }
}

impl<I, O> DataLoader<O> for EpochLoader<I, O>
where
    I: Send + Sync + Clone + 'static,
    O: Send + 'static,
{
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<O> + 'a> {
        let epoch = self.next_epoch.fetch_add(1, Ordering::SeqCst);
        if let Some(hook) = &self.on_epoch {
            hook(epoch);
        }
        Box::new(EpochIterator {
            loader: self,
            order: self.order(epoch),
            position: 0,
        })
    }

    fn num_items(&self) -> usize {
        self.dataset.len()
    }

    fn to_device(&self, device: &Device) -> Arc<dyn DataLoader<O>> {
        Arc::new(self.with(self.dataset.clone(), device))
    }

    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<O>> {
        let part =
            burn::data::dataset::transform::PartialDataset::new(self.dataset.clone(), start, end);
        Arc::new(self.with(Arc::new(part), &self.device))
    }
}

struct EpochIterator<'a, I, O> {
    loader: &'a EpochLoader<I, O>,
    order: Vec<usize>,
    position: usize,
}

impl<I, O> Iterator for EpochIterator<'_, I, O> {
    type Item = Result<O, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.position >= self.order.len() {
            return None;
        }
        let end = (self.position + self.loader.batch_size).min(self.order.len());
        let items: Result<Vec<I>, DatasetError> = self.order[self.position..end]
            .iter()
            .map(|&k| self.loader.dataset.get(k))
            .collect();
        self.position = end;
        Some(items.map(|items| self.loader.batcher.batch(items, &self.loader.device)))
    }
}

impl<I, O> DataLoaderIterator<O> for EpochIterator<'_, I, O> {
    fn progress(&self) -> Progress {
        Progress::new(self.position, self.order.len(), None)
    }
}
