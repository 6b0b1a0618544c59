//! Retrieval metrics exactly as TextReID's `lib/data/metrics/evaluation.py::rank()` and
//! gallery de-duplication as its `get_unique()` (spec §4.1).
//!
//! Pure `std`; rows are processed in parallel with `std::thread::scope`, the thread count
//! coming from `std::thread::available_parallelism()`.
//!
//! # Ordering and ties
//! The reference uses `torch.argsort(sim, dim=1, descending=True)`, which is not stable, so the
//! order of tied similarities is implementation-defined there. Here the gallery order of a query
//! row is fully deterministic: **descending similarity, then ascending gallery index**.
//! `-0.0` and `+0.0` compare equal (so they tie and are ordered by index). NaN similarities are
//! rejected with [`MetricsError::NotANumber`] (torch would rank them first when descending).
//!
//! # Numerics
//! All arithmetic is done in `f64` (the reference uses `float32` for the CMC mean and AP sum), so
//! results can differ from the reference in about the 7th significant digit.

use std::collections::HashSet;
use std::fmt;

/// A dense row-major matrix view: element `(r, c)` is `data[r * cols + c]`.
///
/// Functions taking a view check `data.len() == rows * cols` and return
/// [`MetricsError::ShapeMismatch`] otherwise.
#[derive(Debug, Clone, Copy)]
pub struct MatrixView<'a, T> {
    pub rows: usize,
    pub cols: usize,
    pub data: &'a [T],
}

impl<'a, T> MatrixView<'a, T> {
    /// Builds a view, checking that `data.len() == rows * cols`.
    pub fn new(rows: usize, cols: usize, data: &'a [T]) -> Result<Self, MetricsError> {
        let v = MatrixView { rows, cols, data };
        v.check("matrix")?;
        Ok(v)
    }

    /// Row `r` as a slice (panics if `r >= rows` or the view is malformed).
    #[inline]
    pub fn row(&self, r: usize) -> &'a [T] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// Checks `data.len() == rows * cols`; `what` names the matrix in the error.
    pub(crate) fn check(&self, what: &'static str) -> Result<(), MetricsError> {
        match self.rows.checked_mul(self.cols) {
            Some(n) if n == self.data.len() => Ok(()),
            _ => Err(MetricsError::ShapeMismatch {
                what,
                expected: self.rows.saturating_mul(self.cols),
                got: self.data.len(),
            }),
        }
    }
}

/// CMC and mAP, in percent (as the reference prints them).
#[derive(Debug, Clone, PartialEq)]
pub struct RankMetrics {
    /// `(k, CMC@k in percent)`, in the order of the `topk` argument.
    pub cmc: Vec<(usize, f64)>,
    /// Mean average precision in percent.
    pub map: f64,
}

impl RankMetrics {
    /// CMC@k in percent, if `k` was requested.
    pub fn cmc_at(&self, k: usize) -> Option<f64> {
        self.cmc.iter().find(|&&(kk, _)| kk == k).map(|&(_, v)| v)
    }
}

/// Errors of the metric and re-ranking functions.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricsError {
    /// A length does not match: `what` names the quantity (e.g. `"similarity data"`,
    /// `"query_pid"`, `"gallery_pid"`, `"gram rows"`).
    ShapeMismatch {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    /// The gallery (number of columns) is empty.
    EmptyGallery,
    /// There are no queries (the reference's mean over zero queries would be NaN).
    NoQueries,
    /// The gallery is smaller than the largest requested k (the reference's
    /// `all_cmc[topk - 1]` would fail).
    GalleryTooSmall { gallery: usize, max_k: usize },
    /// A requested k of 0 (CMC@0 is meaningless; the reference would index `all_cmc[-1]`;
    /// a re-ranking with k = 0 would divide 0 by 0 in `jaccard`).
    ZeroK,
    /// Query `query` has no relevant gallery item: the reference's AP would be 0/0 = NaN.
    NoRelevant { query: usize },
    /// A NaN similarity at `(row, col)`.
    NotANumber { row: usize, col: usize },
}

impl fmt::Display for MetricsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricsError::ShapeMismatch {
                what,
                expected,
                got,
            } => write!(
                f,
                "shape mismatch for {what}: expected {expected}, got {got}"
            ),
            MetricsError::EmptyGallery => write!(f, "the gallery is empty"),
            MetricsError::NoQueries => write!(f, "there are no queries"),
            MetricsError::GalleryTooSmall { gallery, max_k } => write!(
                f,
                "the gallery has {gallery} items, fewer than the largest k ({max_k})"
            ),
            MetricsError::ZeroK => write!(f, "k must be at least 1"),
            MetricsError::NoRelevant { query } => write!(
                f,
                "query {query} has no relevant gallery item (its AP would be NaN)"
            ),
            MetricsError::NotANumber { row, col } => {
                write!(f, "similarity at ({row}, {col}) is NaN")
            }
        }
    }
}

impl std::error::Error for MetricsError {}

/// Number of worker threads to use for `rows` rows of about `work_per_row` elementary steps.
pub(crate) fn thread_count(rows: usize, work_per_row: usize) -> usize {
    const MIN_WORK_PER_THREAD: usize = 1 << 16;
    let avail = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let total = rows.saturating_mul(work_per_row.max(1));
    let by_work = (total / MIN_WORK_PER_THREAD).max(1);
    avail.min(by_work).min(rows.max(1))
}

/// `(0..rows).map(f).collect()`, computed in contiguous row chunks on several threads.
pub(crate) fn par_map_rows<R, F>(rows: usize, work_per_row: usize, f: F) -> Vec<R>
where
    R: Send,
    F: Fn(usize) -> R + Sync,
{
    let nt = thread_count(rows, work_per_row);
    if nt <= 1 {
        return (0..rows).map(f).collect();
    }
    let chunk = rows.div_ceil(nt);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..nt)
            .map(|t| {
                let lo = (t * chunk).min(rows);
                let hi = ((t + 1) * chunk).min(rows);
                s.spawn(move || (lo..hi).map(f).collect::<Vec<R>>())
            })
            .collect();
        let mut out = Vec::with_capacity(rows);
        for h in handles {
            out.extend(h.join().expect("worker thread panicked"));
        }
        out
    })
}

/// Fills `out` (row-major, `cols` wide) row by row with `f(row_index, row_slice)`, in parallel.
/// `init` creates per-thread scratch state passed to `f`.
pub(crate) fn par_fill_rows<T, S, I, F>(
    out: &mut [T],
    cols: usize,
    work_per_row: usize,
    init: I,
    f: F,
) where
    T: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, usize, &mut [T]) + Sync,
{
    if cols == 0 {
        return;
    }
    let rows = out.len() / cols;
    let nt = thread_count(rows, work_per_row);
    if nt <= 1 {
        let mut st = init();
        for (r, row) in out.chunks_mut(cols).enumerate() {
            f(&mut st, r, row);
        }
        return;
    }
    let chunk_rows = rows.div_ceil(nt);
    let (f, init) = (&f, &init);
    std::thread::scope(|s| {
        for (t, block) in out.chunks_mut(chunk_rows * cols).enumerate() {
            s.spawn(move || {
                let mut st = init();
                for (i, row) in block.chunks_mut(cols).enumerate() {
                    f(&mut st, t * chunk_rows + i, row);
                }
            });
        }
    });
}

/// `true` if gallery item `(va, ia)` ranks strictly before `(vb, ib)`:
/// higher similarity first, ties broken by lower index.
#[inline]
fn ahead(va: f64, ia: usize, vb: f64, ib: usize) -> bool {
    va > vb || (va == vb && ia < ib)
}

/// Per-query result: `Ok((rank of the first relevant item, 1-based; AP as a fraction))`.
/// `rel` is scratch space.
fn rank_one<T: Copy + Into<f64>>(
    q: usize,
    row: &[T],
    q_pid: i64,
    gallery_pid: &[i64],
    rel: &mut Vec<(f64, usize)>,
) -> Result<(usize, f64), MetricsError> {
    rel.clear();
    for (j, (&x, &p)) in row.iter().zip(gallery_pid).enumerate() {
        let v: f64 = x.into();
        if v.is_nan() {
            return Err(MetricsError::NotANumber { row: q, col: j });
        }
        if p == q_pid {
            rel.push((v, j));
        }
    }
    let nrel = rel.len();
    if nrel == 0 {
        return Err(MetricsError::NoRelevant { query: q });
    }
    // Relevant items in ranking order (the comparator is a total order here: no NaN, unique idx).
    rel.sort_unstable_by(|a, b| {
        if ahead(a.0, a.1, b.0, b.1) {
            std::cmp::Ordering::Less
        } else {
            std::cmp::Ordering::Greater
        }
    });
    // ahead_of[j] = number of gallery items ranked strictly before relevant item rel[j].
    // Gallery item g precedes exactly rel[t..], where t = #{j : g is not ahead of rel[j]}
    // (a prefix, as rel is sorted); record +1 at t in a difference array, then prefix-sum.
    let mut diff = vec![0usize; nrel + 1];
    if nrel <= 16 {
        for (g, &x) in row.iter().enumerate() {
            let v: f64 = x.into();
            let t: usize = rel
                .iter()
                .map(|&(rv, ri)| !ahead(v, g, rv, ri) as usize)
                .sum();
            diff[t] += 1;
        }
    } else {
        for (g, &x) in row.iter().enumerate() {
            let v: f64 = x.into();
            let t = rel.partition_point(|&(rv, ri)| !ahead(v, g, rv, ri));
            diff[t] += 1;
        }
    }
    let mut ahead_count = 0usize;
    let mut ap = 0.0f64;
    let mut first_pos = 0usize;
    for (j, d) in diff.iter().take(nrel).enumerate() {
        ahead_count += d;
        let pos = ahead_count + 1; // 1-based position of rel[j] in the full ranking
        if j == 0 {
            first_pos = pos;
        }
        // Precision at this hit: (j + 1) hits among the first `pos` items.
        ap += (j as f64 + 1.0) / pos as f64;
    }
    Ok((first_pos, ap / nrel as f64))
}

/// Exactly the reference `rank()` (with `get_mAP=True`): for each query row, the gallery is sorted by
/// similarity descending (ties: ascending gallery index), `matches = gallery_pid == query_pid`,
/// CMC@k = mean over queries of `any(matches[..k])` × 100,
/// AP = Σ_i (cumsum(matches)_i / i) · matches_i / Σ matches, mAP = mean AP × 100.
///
/// `sim` is `nq × ng` (query × gallery); `query_pid.len() == nq`, `gallery_pid.len() == ng`.
/// `topk` may be in any order and may be empty (then `cmc` is empty; the reference would fail).
///
/// Implementation: instead of a full sort per row (O(ng log ng)), only the relevant items are
/// sorted and each gallery item is located among them by binary search, giving the same
/// positions in O(ng log R) per query (R = number of relevant items).
///
/// Errors: shape mismatches, an empty gallery, no queries, k = 0, a gallery smaller than the
/// largest k, a NaN similarity, or a query with no relevant item (the first such query is reported).
pub fn rank<T: Copy + Into<f64> + Sync>(
    sim: &MatrixView<T>,
    query_pid: &[i64],
    gallery_pid: &[i64],
    topk: &[usize],
) -> Result<RankMetrics, MetricsError> {
    sim.check("similarity data")?;
    if query_pid.len() != sim.rows {
        return Err(MetricsError::ShapeMismatch {
            what: "query_pid",
            expected: sim.rows,
            got: query_pid.len(),
        });
    }
    if gallery_pid.len() != sim.cols {
        return Err(MetricsError::ShapeMismatch {
            what: "gallery_pid",
            expected: sim.cols,
            got: gallery_pid.len(),
        });
    }
    if sim.cols == 0 {
        return Err(MetricsError::EmptyGallery);
    }
    if sim.rows == 0 {
        return Err(MetricsError::NoQueries);
    }
    if topk.contains(&0) {
        return Err(MetricsError::ZeroK);
    }
    let max_k = topk.iter().copied().max().unwrap_or(0);
    if max_k > sim.cols {
        return Err(MetricsError::GalleryTooSmall {
            gallery: sim.cols,
            max_k,
        });
    }

    let ng = sim.cols;
    // Per query: Ok((first relevant position, AP)) or the error for that query.
    let per_query: Vec<Result<(usize, f64), MetricsError>> = par_map_rows(sim.rows, ng * 2, |q| {
        let mut rel = Vec::new();
        rank_one(q, sim.row(q), query_pid[q], gallery_pid, &mut rel)
    });

    let nq = sim.rows as f64;
    let mut first_pos = Vec::with_capacity(sim.rows);
    let mut ap_sum = 0.0f64;
    for r in per_query {
        let (p, ap) = r?;
        first_pos.push(p);
        ap_sum += ap;
    }
    let cmc = topk
        .iter()
        .map(|&k| {
            let hits = first_pos.iter().filter(|&&p| p <= k).count();
            (k, hits as f64 / nq * 100.0)
        })
        .collect();
    Ok(RankMetrics {
        cmc,
        map: ap_sum / nq * 100.0,
    })
}

/// Gallery de-duplication as the reference `get_unique(image_ids)`.
///
/// The reference is **not** `torch.unique`-based: it fills a Python dict
/// `{image_id: first index}` while enumerating and returns `list(keep_idx.values())`, i.e. the
/// index of the **first** occurrence of each image id, in order of first appearance (Python ≥ 3.7
/// dicts keep insertion order). The result is therefore strictly increasing. (A `torch.unique`
/// version would instead return ids sorted by value; that is not what the reference does.)
pub fn unique_first_indices(image_ids: &[i64]) -> Vec<usize> {
    let mut seen = HashSet::with_capacity(image_ids.len());
    image_ids
        .iter()
        .enumerate()
        .filter(|&(_, id)| seen.insert(*id))
        .map(|(i, _)| i)
        .collect()
}

/// Transpose of a row-major matrix (e.g. the t2i similarity into the i2t one), row-major
/// `cols × rows`. Panics if the view is malformed.
pub fn transpose<T: Copy + Default>(m: &MatrixView<T>) -> Vec<T> {
    assert_eq!(m.data.len(), m.rows * m.cols, "malformed MatrixView");
    let (r, c) = (m.rows, m.cols);
    let mut out = vec![T::default(); r * c];
    const B: usize = 32;
    for i0 in (0..r).step_by(B) {
        for j0 in (0..c).step_by(B) {
            for i in i0..(i0 + B).min(r) {
                for j in j0..(j0 + B).min(c) {
                    out[j * r + i] = m.data[i * c + j];
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<T>(rows: usize, cols: usize, data: &[T]) -> MatrixView<'_, T> {
        MatrixView { rows, cols, data }
    }

    /// Literal transcription of the reference `rank()` with a full sort (ties: lower index first).
    fn naive_rank(
        sim: &[f64],
        nq: usize,
        ng: usize,
        qp: &[i64],
        gp: &[i64],
        topk: &[usize],
    ) -> RankMetrics {
        let max_rank = *topk.iter().max().unwrap();
        let mut cmc = vec![0.0f64; max_rank];
        let mut map = 0.0;
        for q in 0..nq {
            let row = &sim[q * ng..(q + 1) * ng];
            let mut idx: Vec<usize> = (0..ng).collect();
            idx.sort_by(|&a, &b| row[b].partial_cmp(&row[a]).unwrap().then(a.cmp(&b)));
            let matches: Vec<bool> = idx.iter().map(|&g| gp[g] == qp[q]).collect();
            let mut cs = 0usize;
            let mut ap = 0.0;
            for (i, &m) in matches.iter().enumerate() {
                if m {
                    cs += 1;
                    ap += cs as f64 / (i as f64 + 1.0);
                }
                if i < max_rank && cs > 0 {
                    cmc[i] += 1.0;
                }
            }
            map += ap / cs as f64;
        }
        RankMetrics {
            cmc: topk
                .iter()
                .map(|&k| (k, cmc[k - 1] / nq as f64 * 100.0))
                .collect(),
            map: map / nq as f64 * 100.0,
        }
    }

    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn hand_case() {
        // 2 queries, 4 gallery items.
        // q0 (pid 1): sims [0.1, 0.9, 0.5, 0.3], gallery pids [1, 2, 1, 3]
        //   order: g1(0.9,pid2) g2(0.5,pid1) g3(0.3) g0(0.1,pid1) -> matches 0 1 0 1
        //   AP = (1/2 + 2/4) / 2 = 0.5; first hit at 2.
        // q1 (pid 3): sims [0.2, 0.2, 0.2, 0.8] -> g3 first (pid 3): AP = 1; first hit at 1.
        let sim = [0.1f32, 0.9, 0.5, 0.3, 0.2, 0.2, 0.2, 0.8];
        let m = rank(&view(2, 4, &sim), &[1, 3], &[1, 2, 1, 3], &[1, 2, 4]).unwrap();
        assert_eq!(m.cmc, vec![(1, 50.0), (2, 100.0), (4, 100.0)]);
        assert!((m.map - 75.0).abs() < 1e-12);
        assert_eq!(m.cmc_at(2), Some(100.0));
        assert_eq!(m.cmc_at(3), None);
    }

    #[test]
    fn ties_lower_index_first() {
        // All equal: order is 0,1,2. Relevant = g2 -> position 3 -> AP 1/3, R1 = R2 = 0, R3 = 100.
        let sim = [0.5f64, 0.5, 0.5];
        let m = rank(&view(1, 3, &sim), &[7], &[1, 2, 7], &[1, 2, 3]).unwrap();
        assert_eq!(m.cmc, vec![(1, 0.0), (2, 0.0), (3, 100.0)]);
        assert!((m.map - 100.0 / 3.0).abs() < 1e-12);
        // Relevant = g0 under a tie -> position 1.
        let m = rank(&view(1, 3, &sim), &[1], &[1, 2, 7], &[1]).unwrap();
        assert_eq!(m.cmc, vec![(1, 100.0)]);
        assert!((m.map - 100.0).abs() < 1e-12);
        // -0.0 and +0.0 tie: relevant g1 (=-0.0) comes after g0 (=+0.0).
        let sim = [0.0f64, -0.0];
        let m = rank(&view(1, 2, &sim), &[5], &[4, 5], &[1]).unwrap();
        assert_eq!(m.cmc, vec![(1, 0.0)]);
        assert!((m.map - 50.0).abs() < 1e-12);
    }

    #[test]
    fn multiple_relevant_with_ties() {
        // sims [0.3, 0.7, 0.7, 0.7, 0.1], pids [9, 9, 1, 9, 9], query pid 9.
        // order: g1 g2 g3 g0 g4 -> matches 1 0 1 1 1
        // AP = (1/1 + 2/3 + 3/4 + 4/5) / 4
        let sim = [0.3f32, 0.7, 0.7, 0.7, 0.1];
        let m = rank(&view(1, 5, &sim), &[9], &[9, 9, 1, 9, 9], &[1, 5]).unwrap();
        let ap = (1.0 + 2.0 / 3.0 + 0.75 + 0.8) / 4.0 * 100.0;
        assert!((m.map - ap).abs() < 1e-12);
        assert_eq!(m.cmc, vec![(1, 100.0), (5, 100.0)]);
    }

    #[test]
    fn errors() {
        let sim = [0.1f32, 0.2, 0.3, 0.4];
        assert!(matches!(
            rank(&view(2, 2, &sim[..3]), &[0, 0], &[0, 0], &[1]),
            Err(MetricsError::ShapeMismatch {
                what: "similarity data",
                expected: 4,
                got: 3
            })
        ));
        assert!(matches!(
            rank(&view(2, 2, &sim), &[0], &[0, 0], &[1]),
            Err(MetricsError::ShapeMismatch {
                what: "query_pid",
                ..
            })
        ));
        assert!(matches!(
            rank(&view(2, 2, &sim), &[0, 0], &[0, 0, 0], &[1]),
            Err(MetricsError::ShapeMismatch {
                what: "gallery_pid",
                ..
            })
        ));
        let empty: [f32; 0] = [];
        assert_eq!(
            rank(&view(2, 0, &empty), &[0, 0], &[], &[1]),
            Err(MetricsError::EmptyGallery)
        );
        assert_eq!(
            rank(&view(0, 2, &empty), &[], &[0, 0], &[1]),
            Err(MetricsError::NoQueries)
        );
        assert_eq!(
            rank(&view(2, 2, &sim), &[0, 0], &[0, 0], &[1, 5]),
            Err(MetricsError::GalleryTooSmall {
                gallery: 2,
                max_k: 5
            })
        );
        assert_eq!(
            rank(&view(2, 2, &sim), &[0, 0], &[0, 0], &[0]),
            Err(MetricsError::ZeroK)
        );
        assert_eq!(
            rank(&view(2, 2, &sim), &[0, 3], &[0, 1], &[1]),
            Err(MetricsError::NoRelevant { query: 1 })
        );
        let nan = [0.1f32, f32::NAN, 0.3, 0.4];
        assert_eq!(
            rank(&view(2, 2, &nan), &[0, 0], &[0, 0], &[1]),
            Err(MetricsError::NotANumber { row: 0, col: 1 })
        );
        assert!(MatrixView::new(2, 2, &sim[..3]).is_err());
        assert!(MatrixView::new(2, 2, &sim).is_ok());
        // Display works and names the query.
        let s = MetricsError::NoRelevant { query: 4 }.to_string();
        assert!(s.contains("query 4"), "{s}");
    }

    #[test]
    fn empty_topk_gives_map_only() {
        let sim = [0.1f32, 0.9];
        let m = rank(&view(1, 2, &sim), &[1], &[1, 2], &[]).unwrap();
        assert!(m.cmc.is_empty());
        assert!((m.map - 50.0).abs() < 1e-12);
    }

    #[test]
    fn random_against_naive_full_sort() {
        let mut rng = Lcg(12345);
        for trial in 0..40 {
            let nq = 1 + rng.below(300) as usize;
            let ng = 10 + rng.below(200) as usize;
            let npid = 1 + rng.below(30) as i64;
            // Coarse values so that ties are frequent.
            let levels = if trial % 2 == 0 { 7 } else { 100000 };
            let sim: Vec<f64> = (0..nq * ng)
                .map(|_| rng.below(levels) as f64 / levels as f64)
                .collect();
            let gp: Vec<i64> = (0..ng).map(|_| rng.below(npid as u64) as i64).collect();
            let qp: Vec<i64> = (0..nq).map(|_| gp[rng.below(ng as u64) as usize]).collect();
            let topk = [1, 5, 10];
            let got = rank(&view(nq, ng, &sim), &qp, &gp, &topk).unwrap();
            let want = naive_rank(&sim, nq, ng, &qp, &gp, &topk);
            for (a, b) in got.cmc.iter().zip(&want.cmc) {
                assert_eq!(a.0, b.0);
                assert!((a.1 - b.1).abs() < 1e-9, "trial {trial}: {a:?} vs {b:?}");
            }
            assert!(
                (got.map - want.map).abs() < 1e-9,
                "trial {trial}: {} vs {}",
                got.map,
                want.map
            );
        }
    }

    #[test]
    fn unique_first() {
        assert_eq!(unique_first_indices(&[]), Vec::<usize>::new());
        assert_eq!(unique_first_indices(&[0, 0, 1, 1, 2, 2]), vec![0, 2, 4]);
        // Order of first appearance, not sorted by id.
        assert_eq!(unique_first_indices(&[5, 3, 5, 9, 3, 1]), vec![0, 1, 3, 5]);
    }

    #[test]
    fn transpose_works() {
        let a: Vec<i32> = (0..35).collect();
        let t = transpose(&view(5, 7, &a));
        for i in 0..5 {
            for j in 0..7 {
                assert_eq!(t[j * 5 + i], a[i * 7 + j]);
            }
        }
    }

    #[test]
    fn parallel_helpers_keep_order() {
        let v = par_map_rows(100_000, 1000, |i| i * 2);
        assert!(v.iter().enumerate().all(|(i, &x)| x == 2 * i));
        let mut out = vec![0usize; 3000 * 7];
        par_fill_rows(
            &mut out,
            7,
            100_000,
            || (),
            |_, r, row| row.iter_mut().for_each(|x| *x = r),
        );
        assert!(out
            .chunks(7)
            .enumerate()
            .all(|(r, row)| row.iter().all(|&x| x == r)));
    }
}
