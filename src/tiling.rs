//! How the loss drivers cut a problem into engine calls: tile sizes in positions or
//! elements, the "no target" marker, and the class count below which class indices are
//! exact as f32 lanes. Shared by the drivers and both engines.

use crate::Layout;

/// Positions per engine call.
pub(crate) const TILE: usize = 16;
/// Bytes of input a tile of positions may span where a driver reads each tile twice (its
/// statistics, then the gradient or softmax written from them): the second read then
/// comes from L2 (1-2 MiB per core on the machines measured), not from L3 or memory.
pub(crate) const REREAD_TILE_BYTES: usize = 256 * 1024;

/// Positions per tile for a driver that reads each tile twice: [`TILE`], or for long
/// row-major rows as many whole rows as fit in [`REREAD_TILE_BYTES`] (at least one).
/// `bytes` is one class's input, over every array the two passes read. Channel-first
/// layouts keep [`TILE`] (their kernels run across a tile's positions).
pub(crate) fn reread_tile(lay: Layout, bytes: usize) -> usize {
    if lay.inner() != 1 {
        return TILE;
    }
    let row = lay.classes().saturating_mul(bytes).max(1);
    (REREAD_TILE_BYTES / row).clamp(1, TILE)
}

/// Elements per engine call for the element-wise (binary) losses.
pub(crate) const BINARY_BLOCK: usize = 1024;
/// "No target" in a tile's target list.
pub(crate) const NO_TARGET: usize = usize::MAX;
/// Class counts below this have every class index exact as an f32 (vector lanes compare
/// targets that way).
pub(crate) const F32_EXACT_C: usize = 1 << 24;
