//! Dataset readers and generators: SHD/SSC HDF5, N-MNIST events, event binning, randman.
