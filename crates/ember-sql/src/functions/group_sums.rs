//! A sum and a count per group: the state of the grouped accumulators of
//! Spark's `avg` of decimals and (under ANSI) `sum` of integers.

use datafusion::arrow::array::{Array, BooleanArray};
use datafusion::logical_expr::EmitTo;

#[derive(Debug, Default)]
pub(super) struct SumsAndCounts<T> {
    pub sums: Vec<T>,
    pub counts: Vec<i64>,
}

impl<T: Copy + Default> SumsAndCounts<T> {
    /// Room for `n` groups.
    pub fn grow(&mut self, n: usize) {
        if self.sums.len() < n {
            self.sums.resize(n, T::default());
            self.counts.resize(n, 0);
        }
    }

    /// The sums and counts of the groups `emit_to` hands out.
    pub fn take(&mut self, emit_to: EmitTo) -> (Vec<T>, Vec<i64>) {
        (emit_to.take_needed(&mut self.sums), emit_to.take_needed(&mut self.counts))
    }

    pub fn size(&self) -> usize {
        self.sums.capacity() * std::mem::size_of::<T>() + self.counts.capacity() * 8
    }
}

/// Whether row `i` passes an aggregate's FILTER (all rows without one).
pub(super) fn selected(filter: Option<&BooleanArray>, i: usize) -> bool {
    filter.is_none_or(|f| f.is_valid(i) && f.value(i))
}
