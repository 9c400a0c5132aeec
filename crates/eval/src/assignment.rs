//! Linear assignment (Kuhn-Munkres / Hungarian, shortest augmenting paths, O(n²m)).

/// Pairs `(row, col)` of a minimum-cost matching between `rows` rows and `cols` columns, where
/// `cost(r, c)` is `None` for pairs that may not be matched.
///
/// This reproduces what py-motmetrics' `linear_sum_assignment` does with a cost matrix holding
/// NaN for forbidden pairs: forbidden pairs get a cost so large (`2·min(rows, cols)·c + 1`,
/// `c` = 1 + the largest absolute allowed cost) that a complete assignment uses as few of them
/// as possible; they are then dropped. The result is therefore a matching with the largest
/// possible number of allowed pairs and, among those, the smallest total cost. Pairs come out
/// sorted by row.
pub(crate) fn min_cost_matching(
    rows: usize,
    cols: usize,
    cost: impl Fn(usize, usize) -> Option<f64>,
) -> Vec<(usize, usize)> {
    if rows == 0 || cols == 0 {
        return Vec::new();
    }
    let mut matrix = Vec::with_capacity(rows * cols);
    let mut largest: Option<f64> = None;
    for r in 0..rows {
        for c in 0..cols {
            let value = cost(r, c).filter(|v| v.is_finite());
            if let Some(v) = value {
                largest = Some(largest.map_or(v.abs(), |l| l.max(v.abs())));
            }
            matrix.push(value);
        }
    }
    let Some(largest) = largest else {
        return Vec::new();
    };
    let forbidden = 2.0 * rows.min(cols) as f64 * (largest + 1.0) + 1.0;
    let transpose = rows > cols;
    let (n, m) = if transpose {
        (cols, rows)
    } else {
        (rows, cols)
    };
    let dense: Vec<f64> = (0..n * m)
        .map(|k| {
            let (i, j) = (k / m, k % m);
            let (r, c) = if transpose { (j, i) } else { (i, j) };
            matrix[r * cols + c].unwrap_or(forbidden)
        })
        .collect();
    let mut pairs: Vec<(usize, usize)> = hungarian(&dense, n, m)
        .into_iter()
        .enumerate()
        .map(|(i, j)| if transpose { (j, i) } else { (i, j) })
        .filter(|&(r, c)| matrix[r * cols + c].is_some())
        .collect();
    pairs.sort_unstable();
    pairs
}

/// Minimum-cost assignment of every row of the `n × m` row-major matrix `cost` (`n <= m`) to a
/// distinct column; returns each row's column.
fn hungarian(cost: &[f64], n: usize, m: usize) -> Vec<usize> {
    debug_assert!(n <= m && cost.len() == n * m);
    // 1-based potentials and matching as in the classic formulation; index 0 is the virtual start.
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; m + 1];
    let mut row_of_col = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    let mut min_v = vec![f64::INFINITY; m + 1];
    let mut used = vec![false; m + 1];
    for i in 1..=n {
        row_of_col[0] = i;
        let mut j0 = 0usize;
        min_v.fill(f64::INFINITY);
        used.fill(false);
        loop {
            used[j0] = true;
            let i0 = row_of_col[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0usize;
            for j in 1..=m {
                if used[j] {
                    continue;
                }
                let reduced = cost[(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
                if reduced < min_v[j] {
                    min_v[j] = reduced;
                    way[j] = j0;
                }
                if min_v[j] < delta {
                    delta = min_v[j];
                    j1 = j;
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[row_of_col[j]] += delta;
                    v[j] -= delta;
                } else {
                    min_v[j] -= delta;
                }
            }
            j0 = j1;
            if j0 == 0 || row_of_col[j0] == 0 {
                break;
            }
        }
        // Augment along the alternating path back to the virtual column 0.
        while j0 != 0 {
            let j1 = way[j0];
            row_of_col[j0] = row_of_col[j1];
            j0 = j1;
        }
    }
    let mut col_of_row = vec![0usize; n];
    for j in 1..=m {
        if row_of_col[j] != 0 {
            col_of_row[row_of_col[j] - 1] = j - 1;
        }
    }
    col_of_row
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (no `rand` dependency).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    /// Best (most pairs, then least cost) matching by exhaustive search.
    fn brute(rows: usize, cols: usize, m: &[Option<f64>]) -> (usize, f64) {
        fn go(
            r: usize,
            rows: usize,
            cols: usize,
            m: &[Option<f64>],
            used: &mut Vec<bool>,
            acc: (usize, f64),
            best: &mut (usize, f64),
        ) {
            if r == rows {
                if acc.0 > best.0 || (acc.0 == best.0 && acc.1 < best.1) {
                    *best = acc;
                }
                return;
            }
            go(r + 1, rows, cols, m, used, acc, best);
            for c in 0..cols {
                if let (false, Some(v)) = (used[c], m[r * cols + c]) {
                    used[c] = true;
                    go(r + 1, rows, cols, m, used, (acc.0 + 1, acc.1 + v), best);
                    used[c] = false;
                }
            }
        }
        let mut best = (0, 0.0);
        go(
            0,
            rows,
            cols,
            m,
            &mut vec![false; cols],
            (0, 0.0),
            &mut best,
        );
        best
    }

    #[test]
    fn matches_exhaustive_search() {
        let mut rng = Lcg(7);
        for _ in 0..400 {
            let rows = (rng.next() % 6) as usize;
            let cols = (rng.next() % 6) as usize;
            let m: Vec<Option<f64>> = (0..rows * cols)
                .map(|_| {
                    if rng.next().is_multiple_of(3) {
                        None
                    } else {
                        Some((rng.next() % 1000) as f64 / 1000.0)
                    }
                })
                .collect();
            let pairs = min_cost_matching(rows, cols, |r, c| m[r * cols + c]);
            let mut seen_r = vec![false; rows];
            let mut seen_c = vec![false; cols];
            let mut total = 0.0;
            for &(r, c) in &pairs {
                assert!(!seen_r[r] && !seen_c[c], "not a matching: {pairs:?}");
                seen_r[r] = true;
                seen_c[c] = true;
                total += m[r * cols + c].expect("allowed pair");
            }
            let (count, cost) = brute(rows, cols, &m);
            assert_eq!(pairs.len(), count, "{rows}x{cols} {m:?}");
            assert!((total - cost).abs() < 1e-9, "{total} vs {cost} for {m:?}");
        }
    }

    #[test]
    fn prefers_more_pairs_over_lower_cost() {
        // Matching (0,0) alone costs 0.1; (0,1)+(1,0) costs 0.9 but has two pairs.
        let m = [[Some(0.1), Some(0.4)], [Some(0.5), None]];
        assert_eq!(
            min_cost_matching(2, 2, |r, c| m[r][c]),
            vec![(0, 1), (1, 0)]
        );
        assert!(min_cost_matching(2, 2, |_, _| None).is_empty());
        assert!(min_cost_matching(0, 3, |_, _| Some(1.0)).is_empty());
    }
}
