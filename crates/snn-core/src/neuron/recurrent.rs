//! Recurrent cells with trainable recurrent weights (Norse's `*RecurrentCell`).
