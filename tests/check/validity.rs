//! The validity model: which lengths, targets and weights a call must accept (every
//! other input must give the same `Err` from all three paths).

use xent::Layout;

use super::case::Case;

/// Target `t` of a validated call as a class (None when ignored).
pub(super) fn class_of(t: i64, ignore: i64) -> Option<usize> {
    if t == ignore { None } else { usize::try_from(t).ok() }
}

/// The lengths and targets a class-index loss validates, as a boolean.
pub(super) fn class_lengths_ok(case: &Case, lay: Layout, out: Option<usize>, grad: Option<usize>) -> bool {
    let (Ok(pos), Ok(len)) = (lay.positions(), lay.len()) else { return false };
    case.logits.len() == len
        && case.targets.len() == pos
        && case.weight.as_ref().is_none_or(|w| w.len() == lay.classes())
        && out.is_none_or(|o| o == pos)
        && grad.is_none_or(|g| g == len)
        && case
            .targets
            .iter()
            .all(|&t| t == case.ignore_index || usize::try_from(t).is_ok_and(|c| c < lay.classes()))
}

/// A broadcast weight's validity for `n` elements (crate: `check_broadcast`).
pub(super) fn broadcast_ok(w: Option<&[f32]>, n: usize) -> bool {
    match w {
        Some(w) if n > 0 => !w.is_empty() && n.is_multiple_of(w.len()),
        _ => true,
    }
}
