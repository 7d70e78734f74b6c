//! The 8x8 handwritten digits (UCI, via scikit-learn), shipped inside this crate
//! (`datasets/digits/digits.csv.gz`, compiled in: [`DigitsDataset::shipped`]).

use std::io::Read;
use std::path::{Path, PathBuf};

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::{Dataset, DatasetError};
use burn::prelude::*;
use flate2::read::GzDecoder;
use snn_core::encode::SpikeRng;

use crate::error::{Result, TrainError};

/// Number of pixels of an image (8x8).
pub const PIXELS: usize = 64;
/// Number of classes.
pub const CLASSES: usize = 10;

/// One image: 64 pixel intensities scaled from 0..16 to 0..1, row-major, and its label.
#[derive(Clone, Debug, PartialEq)]
pub struct DigitItem {
    /// Pixels in `[0, 1]`.
    pub pixels: [f32; PIXELS],
    /// Class 0..9.
    pub label: u8,
}

/// The shipped `digits.csv.gz`, compiled into the crate so that an installed binary needs no
/// file beside it.
const SHIPPED: &[u8] = include_bytes!("../../datasets/digits/digits.csv.gz");

/// The most bytes [`DigitsDataset::load`] decompresses by default: 64 MiB, about 400 times the
/// shipped file's 150 KB of text (a CSV of 8x8 images holds at most ~200 bytes a row, so this is
/// some 300,000 images). A crafted gzip that inflates beyond it is refused, not read into memory.
pub const MAX_DECOMPRESSED_BYTES: u64 = 64 << 20;

/// The digits dataset, or a split of it.
#[derive(Clone, Debug)]
pub struct DigitsDataset {
    items: Vec<DigitItem>,
    /// Where the items were read from (`None`: built from items, or the shipped data).
    source: Option<PathBuf>,
}

impl DigitsDataset {
    /// The 1797 digits shipped inside the crate.
    pub fn shipped() -> Self {
        // the shipped bytes are checked by a test, so this cannot fail in a released crate
        Self::parse_gzip(
            SHIPPED,
            Path::new("<shipped digits>"),
            MAX_DECOMPRESSED_BYTES,
        )
        .unwrap_or_else(|e| panic!("the shipped digits are corrupt: {e}"))
    }

    /// Reads a `digits.csv.gz`: one image a line, 64 integer pixels (0..16) then the label
    /// (0..9). Decompresses at most [`MAX_DECOMPRESSED_BYTES`] (see [`DigitsDataset::load_with_cap`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::load_with_cap(path, MAX_DECOMPRESSED_BYTES)
    }

    /// [`DigitsDataset::load`] with another cap on the decompressed size, in bytes: a file that
    /// inflates beyond it is a [`TrainError::Limit`], found before more than `cap + 1` bytes are
    /// held.
    pub fn load_with_cap(path: impl AsRef<Path>, cap: u64) -> Result<Self> {
        let path = path.as_ref();
        // streamed: only the decompressed text is held, and it is capped
        let file = std::fs::File::open(path).map_err(|source| TrainError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut data = Self::parse_gzip(file, path, cap)?;
        data.source = Some(path.to_path_buf());
        Ok(data)
    }

    fn parse_gzip(gzip: impl Read, path: &Path, cap: u64) -> Result<Self> {
        let io = |source| TrainError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut text = Vec::new();
        // one byte past the cap tells a file at the cap from one beyond it
        GzDecoder::new(gzip)
            .take(cap.saturating_add(1))
            .read_to_end(&mut text)
            .map_err(io)?;
        if text.len() as u64 > cap {
            return Err(TrainError::Limit {
                path: path.to_path_buf(),
                what: "decompressed digits".into(),
                found: text.len() as u64,
                cap,
            });
        }
        let text = String::from_utf8(text).map_err(|e| TrainError::Format {
            path: path.to_path_buf(),
            line: 0,
            message: format!("not UTF-8 text: {e}"),
        })?;
        let items = text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(k, line)| {
                parse_line(line).map_err(|message| TrainError::Format {
                    path: path.to_path_buf(),
                    line: k + 1,
                    message,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            items,
            source: None,
        })
    }

    /// Builds a dataset from items.
    pub fn from_items(items: Vec<DigitItem>) -> Self {
        Self {
            items,
            source: None,
        }
    }

    /// The file the items were read from (`None` for the shipped data and for items).
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// The items.
    pub fn items(&self) -> &[DigitItem] {
        &self.items
    }

    /// A stratified split: `test_fraction` of each class goes to the second dataset, chosen by a
    /// shuffle seeded with `seed` (the same seed gives the same split on every machine).
    pub fn split(&self, test_fraction: f64, seed: u64) -> (Self, Self) {
        let mut train = Vec::new();
        let mut test = Vec::new();
        let mut rng = SpikeRng::new(seed);
        for class in 0..CLASSES as u8 {
            let mut members: Vec<&DigitItem> =
                self.items.iter().filter(|i| i.label == class).collect();
            rng.shuffle(&mut members);
            let n_test = (members.len() as f64 * test_fraction).round() as usize;
            test.extend(members[..n_test].iter().map(|&i| i.clone()));
            train.extend(members[n_test..].iter().map(|&i| i.clone()));
        }
        rng.shuffle(&mut train);
        (Self::from_items(train), Self::from_items(test))
    }
}

fn parse_line(line: &str) -> core::result::Result<DigitItem, String> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    if fields.len() != PIXELS + 1 {
        return Err(format!(
            "expected {} fields, found {}",
            PIXELS + 1,
            fields.len()
        ));
    }
    let mut pixels = [0f32; PIXELS];
    for (p, field) in pixels.iter_mut().zip(&fields) {
        let value: f32 = field
            .parse()
            .map_err(|_| format!("pixel `{field}` is not a number"))?;
        if !(0.0..=16.0).contains(&value) {
            return Err(format!("pixel {value} outside 0..16"));
        }
        *p = value / 16.0;
    }
    let label: u8 = fields[PIXELS]
        .parse()
        .map_err(|_| format!("label `{}` is not an integer", fields[PIXELS]))?;
    if usize::from(label) >= CLASSES {
        return Err(format!("label {label} outside 0..9"));
    }
    Ok(DigitItem { pixels, label })
}

impl Dataset<DigitItem> for DigitsDataset {
    fn get(&self, index: usize) -> core::result::Result<DigitItem, DatasetError> {
        self.items.get(index).cloned().ok_or_else(|| {
            DatasetError::new(std::io::Error::other(format!(
                "index {index} out of {}",
                self.items.len()
            )))
        })
    }

    fn len(&self) -> usize {
        self.items.len()
    }
}

/// A batch of encoded images: `inputs` `[batch, time, 64]`.
pub type DigitBatch = super::SpikeBatch;

/// How an image's pixel intensities (0 to 1) become an input sequence.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Encoding {
    /// Each intensity injected as a constant current at every step ("direct" coding).
    Current,
    /// Bernoulli spikes with the intensity as probability per step (snnTorch `spikegen.rate`,
    /// gain 1). The draws come from a host generator seeded by the batch's pixels, so a batch
    /// is encoded the same way on every backend and in every run.
    Rate,
    /// One spike per pixel, brighter pixels earlier (snnTorch `spikegen.latency` with
    /// `tau = 5` steps, `threshold = 0.01`, `normalize` to the window, `clip`: pixels below the
    /// threshold stay silent).
    Latency,
}

impl Encoding {
    /// The names the command line accepts.
    pub const NAMES: &str = "current, rate, latency";

    /// The encoding called `name` (`current`, `rate`, `latency`).
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "current" => Ok(Self::Current),
            "rate" => Ok(Self::Rate),
            "latency" => Ok(Self::Latency),
            other => Err(TrainError::Setting {
                field: "encoding",
                message: format!("unknown encoding `{other}` ({})", Self::NAMES),
            }),
        }
    }
}

/// Turns images into [`DigitBatch`]es of `time_steps` steps with an [`Encoding`].
#[derive(Clone, Debug)]
pub struct DigitBatcher {
    /// Number of time steps per sample.
    pub time_steps: usize,
    /// How pixels become inputs.
    pub encoding: Encoding,
}

impl DigitBatcher {
    /// Encodes `frame` (`[batch, 64]`, intensities in `[0, 1]`) into `[batch, time, 64]`.
    ///
    /// # Panics
    /// Never for the shipped settings: the encoders reject only `time_steps = 0` and bad
    /// latency parameters, which [`crate::TrainConfig`] rules out before training.
    fn encode(&self, frame: Tensor<2>, seed: u64) -> Tensor<3> {
        let [n, _] = frame.dims();
        let encoded = match self.encoding {
            Encoding::Current => {
                return frame.reshape([n, 1, PIXELS]).repeat_dim(1, self.time_steps);
            }
            Encoding::Rate => snn_core::encode::rate_encode(
                frame,
                self.time_steps,
                1.0,
                0.0,
                &mut SpikeRng::new(seed),
            ),
            Encoding::Latency => {
                let config = snn_core::encode::LatencyConfig::new(self.time_steps)
                    .with_tau(5.0)
                    .with_normalize(true)
                    .with_clip(true);
                snn_core::encode::latency_encode(frame, &config)
            }
        };
        encoded.unwrap_or_else(|e| panic!("digit encoding: {e}"))
    }
}

impl Batcher<DigitItem, DigitBatch> for DigitBatcher {
    fn batch(&self, items: Vec<DigitItem>, device: &Device) -> DigitBatch {
        let n = items.len();
        let pixels: Vec<f32> = items.iter().flat_map(|i| i.pixels).collect();
        let labels: Vec<i64> = items.iter().map(|i| i64::from(i.label)).collect();
        // a seed from the batch's content: reproducible, and new draws when batches reshuffle
        let seed = pixels.iter().fold(0xCBF2_9CE4_8422_2325u64, |h, p| {
            (h ^ u64::from(p.to_bits())).wrapping_mul(0x100_0000_01B3)
        });
        let frame = Tensor::<1>::from_floats(pixels.as_slice(), device).reshape([n, PIXELS]);
        DigitBatch {
            inputs: self.encode(frame, seed),
            targets: Tensor::<1, Int>::from_ints(labels.as_slice(), device),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_the_shipped_file_and_splits_by_class() {
        let data = DigitsDataset::shipped();
        assert_eq!(data.len(), 1797);
        assert_eq!(data.items()[0].label, 0);
        assert_eq!(data.items()[0].pixels[2], 5.0 / 16.0);
        let (train, test) = data.split(0.2, 0);
        assert_eq!(train.len() + test.len(), 1797);
        for class in 0..CLASSES as u8 {
            let total = data.items().iter().filter(|i| i.label == class).count();
            let held = test.items().iter().filter(|i| i.label == class).count();
            assert_eq!(held, (total as f64 * 0.2).round() as usize, "class {class}");
        }
        let (_, again) = data.split(0.2, 0);
        assert_eq!(again.items(), test.items(), "the split is reproducible");
    }

    #[test]
    fn a_gzip_that_inflates_beyond_the_cap_is_refused() {
        use std::io::Write as _;
        // 1 MiB of zeros compresses to about 1 KiB: a small file, a large text
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![b'0'; 1 << 20]).unwrap();
        let bytes = gz.finish().unwrap();
        assert!(bytes.len() < 8 << 10);
        let dir = std::env::temp_dir().join(format!("snn-digits-bomb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bomb.csv.gz");
        std::fs::write(&path, &bytes).unwrap();
        let err = DigitsDataset::load_with_cap(&path, 64 << 10).unwrap_err();
        assert!(
            matches!(err, TrainError::Limit { found, cap, .. } if found == cap + 1 && cap == 64 << 10),
            "{err}"
        );
        // within the cap the same file is read (and then refused as a bad line, not a size)
        let err = DigitsDataset::load_with_cap(&path, 2 << 20).unwrap_err();
        assert!(matches!(err, TrainError::Format { .. }), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_shipped_bytes_are_the_file_in_the_crate() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/digits/digits.csv.gz");
        let from_file = DigitsDataset::load(&path).unwrap();
        assert_eq!(from_file.items(), DigitsDataset::shipped().items());
        assert_eq!(from_file.source(), Some(path.as_path()));
    }

    #[test]
    fn malformed_lines_name_the_problem() {
        assert!(
            parse_line("1,2,3")
                .unwrap_err()
                .contains("expected 65 fields")
        );
        let mut line = vec!["0"; 64];
        line.push("12");
        assert!(
            parse_line(&line.join(","))
                .unwrap_err()
                .contains("label 12")
        );
    }
}
