//! Optimal one-to-one assignment with a cost limit (Kuhn-Munkres / Hungarian method).
//!
//! Written here rather than taken from a crate: the `pathfinding` crate's `kuhn_munkres` wants
//! integer-like weights and no cost limit, and the O(n^2 m) shortest-augmenting-path form with
//! potentials is 40 lines. The matrices are tiny (people on one camera: tens at most).

/// Pairs `(row, col)` of the assignment of least total cost among pairs with `cost <= max_cost`.
///
/// `cost` is row-major, `rows * cols` long. Pairs above the limit (or NaN) are never returned.
/// This solves the same problem as ByteTrack's `lap.lapjv(cost, extend_cost=True,
/// cost_limit=max_cost)`: each matched pair costs `cost - max_cost` (never positive) and an
/// unmatched row or column costs nothing, so the result is the set of allowed pairs that
/// minimises the sum of `cost - max_cost`: it prefers more matches, then cheaper ones. The
/// result is sorted by row.
pub(crate) fn assign(cost: &[f64], rows: usize, cols: usize, max_cost: f64) -> Vec<(usize, usize)> {
    if rows == 0 || cols == 0 || cost.len() != rows * cols {
        return Vec::new();
    }
    let allowed = |r: usize, c: usize| {
        let v = cost[r * cols + c];
        v <= max_cost
    };
    // Shifted costs: allowed pairs are <= 0, disallowed pairs 0 (as good as leaving unmatched).
    let shifted = |r: usize, c: usize| {
        if allowed(r, c) {
            cost[r * cols + c] - max_cost
        } else {
            0.0
        }
    };
    let mut pairs = if rows <= cols {
        hungarian(rows, cols, shifted)
    } else {
        hungarian(cols, rows, |r, c| shifted(c, r))
            .into_iter()
            .map(|(c, r)| (r, c))
            .collect()
    };
    pairs.retain(|&(r, c)| allowed(r, c));
    pairs.sort_unstable();
    pairs
}

/// Minimum-cost assignment of every one of `n` rows to a distinct one of `m >= n` columns.
/// `a(r, c)` must be finite. Returns `(row, col)` pairs.
fn hungarian(n: usize, m: usize, a: impl Fn(usize, usize) -> f64) -> Vec<(usize, usize)> {
    // 1-based arrays; index 0 is the virtual start column / unassigned marker.
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; m + 1];
    let mut p = vec![0usize; m + 1]; // p[j]: row assigned to column j (0: none)
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0usize;
        let mut minv = vec![f64::INFINITY; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0usize;
            for j in 1..=m {
                if used[j] {
                    continue;
                }
                let cur = a(i0 - 1, j - 1) - u[i0] - v[j];
                if cur < minv[j] {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if minv[j] < delta {
                    delta = minv[j];
                    j1 = j;
                }
            }
            if j1 == 0 {
                // Only reachable with non-finite costs, which callers never pass; stop safely.
                break;
            }
            for j in 0..=m {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        // Augment along the alternating path back to the virtual column 0.
        while j0 != 0 {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        }
    }
    (1..=m)
        .filter(|&j| p[j] != 0)
        .map(|j| (p[j] - 1, j - 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force over every partial matching: the least sum of `cost - max_cost`.
    fn brute(cost: &[f64], rows: usize, cols: usize, max_cost: f64) -> f64 {
        fn rec(
            r: usize,
            used: &mut Vec<bool>,
            cost: &[f64],
            rows: usize,
            cols: usize,
            max: f64,
        ) -> f64 {
            if r == rows {
                return 0.0;
            }
            let mut best = rec(r + 1, used, cost, rows, cols, max); // row r unmatched
            for c in 0..cols {
                let v = cost[r * cols + c];
                if !used[c] && v <= max {
                    used[c] = true;
                    best = best.min(v - max + rec(r + 1, used, cost, rows, cols, max));
                    used[c] = false;
                }
            }
            best
        }
        rec(0, &mut vec![false; cols], cost, rows, cols, max_cost)
    }

    fn total(pairs: &[(usize, usize)], cost: &[f64], cols: usize, max_cost: f64) -> f64 {
        pairs
            .iter()
            .map(|&(r, c)| cost[r * cols + c] - max_cost)
            .sum()
    }

    #[test]
    fn beats_greedy() {
        // Greedy takes (0,0)=0.1 first and is left with (1,1)=0.9 (over the limit): one match.
        // The optimum matches both rows crosswise.
        let cost = [0.1, 0.2, 0.15, 0.9];
        assert_eq!(assign(&cost, 2, 2, 0.8), vec![(0, 1), (1, 0)]);
    }

    #[test]
    fn respects_limit_and_shapes() {
        assert!(assign(&[], 0, 3, 0.8).is_empty());
        assert!(assign(&[0.9, 0.95], 1, 2, 0.8).is_empty());
        assert_eq!(assign(&[0.9, 0.3], 1, 2, 0.8), vec![(0, 1)]);
        assert_eq!(assign(&[0.9, 0.3], 2, 1, 0.8), vec![(1, 0)]);
        assert_eq!(assign(&[f64::NAN, 0.3], 1, 2, 0.8), vec![(0, 1)]);
    }

    #[test]
    fn matches_brute_force_on_random_matrices() {
        let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..400 {
            let rows = 1 + (next() * 5.0) as usize;
            let cols = 1 + (next() * 5.0) as usize;
            let cost: Vec<f64> = (0..rows * cols).map(|_| next()).collect();
            let max_cost = 0.3 + next() * 0.7;
            let pairs = assign(&cost, rows, cols, max_cost);
            let mut rs: Vec<_> = pairs.iter().map(|p| p.0).collect();
            let mut cs: Vec<_> = pairs.iter().map(|p| p.1).collect();
            rs.dedup();
            cs.sort_unstable();
            cs.dedup();
            assert_eq!(rs.len(), pairs.len());
            assert_eq!(cs.len(), pairs.len());
            assert!(pairs.iter().all(|&(r, c)| cost[r * cols + c] <= max_cost));
            let got = total(&pairs, &cost, cols, max_cost);
            let want = brute(&cost, rows, cols, max_cost);
            assert!(
                (got - want).abs() < 1e-9,
                "{rows}x{cols}: got {got}, want {want}"
            );
        }
    }
}
