//! TextReID's post-processing "k-reciprocal" re-ranking, as implemented in
//! `lib/data/metrics/evaluation.py::k_reciprocal` (spec §3).
//!
//! It is a Jaccard overlap of top-k neighbour sets, scaled by `alpha` and **added** to the
//! cross-modal similarity:
//! `J[i, j] = |set(topk(qg[i])) ∩ set(topk(gg[j]))| / |... ∪ ...|`, result `alpha * J` (f64).
//! There is no reciprocity check, no query expansion and no λ mix.
//!
//! # Ordering and ties
//! Neighbour lists are ordered by descending similarity, ties broken by **ascending index**
//! (torch's `argsort` is unstable, so its tie order is implementation-defined). In
//! [`topk_rows`] a NaN ranks after every number; the matrix-level functions
//! ([`GalleryNeighbours::from_gram`], [`k_reciprocal`], [`rerank_matrix`]) reject NaN with
//! [`MetricsError::NotANumber`] instead.
//!
//! # k larger than the gallery
//! The reference slices `argsort(...)[:, :k]`, so with `k > ng` each list holds all `ng` items
//! and the Python sets are smaller than k; here every list has `min(k, ng)` entries, which gives
//! the same sets (then `J = 1` everywhere).
//!
//! # Online use
//! [`GalleryNeighbours`] holds the gallery's own top-k lists (from its Gram matrix `G·Gᵀ`) and
//! the inverted index *neighbour → gallery rows whose list contains it*. One query is then
//! re-ranked by [`rerank_terms`] in O(k · fanout) (fanout ≈ k on average) instead of O(ng · k).

use super::metrics::{par_fill_rows, par_map_rows, MatrixView, MetricsError};
use std::cmp::Ordering;

/// Parameters of the re-ranking (`neighbor_num`, `alpha` in the reference).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RerankParams {
    /// Neighbour-list length (reference default 5).
    pub k: usize,
    /// Weight of the Jaccard term (reference default 0.05).
    pub alpha: f64,
}

impl Default for RerankParams {
    fn default() -> Self {
        RerankParams { k: 5, alpha: 0.05 }
    }
}

#[inline]
fn is_nan<T: PartialOrd>(x: &T) -> bool {
    x.partial_cmp(x).is_none()
}

/// `true` if `(va, ia)` ranks strictly before `(vb, ib)`: larger value first, NaN last,
/// ties (and NaN vs NaN) by smaller index. A strict total order when indices are distinct.
#[inline]
fn better<T: PartialOrd>(va: &T, ia: usize, vb: &T, ib: usize) -> bool {
    match va.partial_cmp(vb) {
        Some(Ordering::Greater) => true,
        Some(Ordering::Less) => false,
        Some(Ordering::Equal) => ia < ib,
        None => match (is_nan(va), is_nan(vb)) {
            (false, true) => true,
            (true, false) => false,
            _ => ia < ib,
        },
    }
}

/// Lists longer than this use `select_nth_unstable` instead of an insertion buffer.
const SMALL_K: usize = 48;

/// Top-`k` indices of one row, best first (descending value, ties: lower index first, NaN last).
/// Returns `min(k, row.len())` indices. O(len) for small k (insertion into a k-buffer, most
/// elements are rejected by one comparison with the current k-th), otherwise an O(len)
/// selection followed by a sort of the k selected.
pub fn topk_row<T: Copy + PartialOrd>(row: &[T], k: usize) -> Vec<usize> {
    let k = k.min(row.len());
    if k == 0 {
        return Vec::new();
    }
    if k <= SMALL_K {
        let mut buf: Vec<(T, usize)> = Vec::with_capacity(k + 1);
        for (j, &v) in row.iter().enumerate() {
            if buf.len() == k {
                let (wv, wi) = buf[k - 1];
                if !better(&v, j, &wv, wi) {
                    continue;
                }
                buf.pop();
            }
            // Insert keeping best-first order; j is larger than every stored index.
            let pos = buf.partition_point(|(bv, bi)| better(bv, *bi, &v, j));
            buf.insert(pos, (v, j));
        }
        buf.into_iter().map(|(_, j)| j).collect()
    } else {
        let cmp = |&a: &usize, &b: &usize| {
            if a == b {
                Ordering::Equal
            } else if better(&row[a], a, &row[b], b) {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        };
        let mut idx: Vec<usize> = (0..row.len()).collect();
        if k < idx.len() {
            idx.select_nth_unstable_by(k - 1, cmp);
            idx.truncate(k);
        }
        idx.sort_unstable_by(cmp);
        idx
    }
}

/// Top-`k` indices of each row of `m`, best first (descending value, ties: lower index first,
/// NaN last), each of length `min(k, m.cols)`. Rows are processed in parallel.
/// Panics if `m.data.len() != m.rows * m.cols`.
pub fn topk_rows<T: Copy + PartialOrd + Sync>(m: &MatrixView<T>, k: usize) -> Vec<Vec<usize>> {
    assert_eq!(m.data.len(), m.rows * m.cols, "malformed MatrixView");
    par_map_rows(m.rows, m.cols, |r| topk_row(m.row(r), k))
}

/// First NaN of a matrix in row-major order, scanned in parallel.
fn find_nan(m: &MatrixView<f32>) -> Option<(usize, usize)> {
    par_map_rows(m.rows, m.cols, |r| m.row(r).iter().position(|x| x.is_nan()))
        .into_iter()
        .enumerate()
        .find_map(|(r, c)| c.map(|c| (r, c)))
}

/// The gallery's precomputed neighbour lists and their inverted index.
///
/// * `neighbours(j)`: the top-`min(k, ng)` gallery indices of row `j` of the Gram matrix
///   (normally starting with `j` itself), best first.
/// * `containing(n)`: the gallery rows `j` (ascending) whose list contains `n`.
#[derive(Debug, Clone)]
pub struct GalleryNeighbours {
    k: usize,
    list_len: usize,
    nn: Vec<usize>,
    inv_offsets: Vec<usize>,
    inv_rows: Vec<usize>,
}

impl GalleryNeighbours {
    /// Builds the lists from the gallery Gram matrix `gg` (`ng × ng`, e.g. `G·Gᵀ` of the
    /// L2-normalised gallery embeddings). Errors: malformed or non-square `gg`, empty gallery,
    /// `k == 0`, NaN in `gg`.
    pub fn from_gram(gg: &MatrixView<f32>, k: usize) -> Result<Self, MetricsError> {
        gg.check("gram data")?;
        if gg.rows != gg.cols {
            return Err(MetricsError::ShapeMismatch {
                what: "gram columns (must be square)",
                expected: gg.rows,
                got: gg.cols,
            });
        }
        if gg.rows == 0 {
            return Err(MetricsError::EmptyGallery);
        }
        if k == 0 {
            return Err(MetricsError::ZeroK);
        }
        if let Some((row, col)) = find_nan(gg) {
            return Err(MetricsError::NotANumber { row, col });
        }
        let lists = topk_rows(gg, k);
        Ok(Self::from_lists(k, gg.rows, lists))
    }

    /// From explicit lists (each of the same length `min(k, ng)`, distinct indices `< ng`).
    fn from_lists(k: usize, ng: usize, lists: Vec<Vec<usize>>) -> Self {
        let list_len = k.min(ng);
        let mut nn = Vec::with_capacity(ng * list_len);
        let mut counts = vec![0usize; ng + 1];
        for l in &lists {
            debug_assert_eq!(l.len(), list_len);
            nn.extend_from_slice(l);
            for &n in l {
                counts[n + 1] += 1;
            }
        }
        for i in 0..ng {
            counts[i + 1] += counts[i];
        }
        let inv_offsets = counts;
        let mut fill = inv_offsets.clone();
        let mut inv_rows = vec![0usize; nn.len()];
        // Rows visited in ascending order, so each inverted list is ascending.
        for (j, l) in lists.iter().enumerate() {
            for &n in l {
                inv_rows[fill[n]] = j;
                fill[n] += 1;
            }
        }
        GalleryNeighbours {
            k,
            list_len,
            nn,
            inv_offsets,
            inv_rows,
        }
    }

    /// Number of gallery items.
    pub fn len(&self) -> usize {
        self.inv_offsets.len() - 1
    }

    /// `true` if the gallery is empty (never, for a value built by `from_gram`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The requested k.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Length of every neighbour list, `min(k, len())`.
    pub fn list_len(&self) -> usize {
        self.list_len
    }

    /// Neighbour list of gallery item `j`, best first.
    pub fn neighbours(&self, j: usize) -> &[usize] {
        &self.nn[j * self.list_len..(j + 1) * self.list_len]
    }

    /// Gallery rows (ascending) whose neighbour list contains `n`.
    pub fn containing(&self, n: usize) -> &[usize] {
        &self.inv_rows[self.inv_offsets[n]..self.inv_offsets[n + 1]]
    }

    /// Online re-ranking of one query: its top-`self.k()` gallery items from `query_row`
    /// (its cross-modal similarities to the whole gallery), then [`rerank_terms`].
    pub fn query_terms<T: Copy + PartialOrd>(
        &self,
        query_row: &[T],
        alpha: f64,
    ) -> Result<Vec<(usize, f64)>, MetricsError> {
        if query_row.len() != self.len() {
            return Err(MetricsError::ShapeMismatch {
                what: "query row",
                expected: self.len(),
                got: query_row.len(),
            });
        }
        Ok(rerank_terms(&topk_row(query_row, self.k), self, alpha))
    }
}

/// Calls `emit(j, alpha * J)` for every gallery item with `J > 0`, in ascending `j`.
/// `a` must be sorted and deduplicated; `hits` is scratch space.
fn for_each_term(
    a: &[usize],
    nn: &GalleryNeighbours,
    alpha: f64,
    hits: &mut Vec<usize>,
    mut emit: impl FnMut(usize, f64),
) {
    let na = a.len();
    let ng = nn.len();
    hits.clear();
    for &x in a {
        if x < ng {
            hits.extend_from_slice(nn.containing(x));
        }
    }
    hits.sort_unstable();
    let nb = nn.list_len;
    let mut i = 0;
    while i < hits.len() {
        let j = hits[i];
        let mut c = 1;
        while i + c < hits.len() && hits[i + c] == j {
            c += 1;
        }
        i += c;
        // Same arithmetic as the reference: float(|A∩B|) / float(|A∪B|), then alpha * J.
        let union = na + nb - c;
        emit(j, alpha * (c as f64 / union as f64));
    }
}

/// The Jaccard term for one query: `(gallery index, alpha * J)` for every gallery item with
/// `J > 0`, sorted by gallery index (sparse; all other items get 0).
///
/// `query_topk` is the query's neighbour list (e.g. from [`topk_row`] on its cross-modal
/// similarity row, with the same k as the gallery lists). It is treated as a Python `set`:
/// duplicates are ignored; indices `>= nn.len()` count in `|A|` but match nothing.
pub fn rerank_terms(query_topk: &[usize], nn: &GalleryNeighbours, alpha: f64) -> Vec<(usize, f64)> {
    let mut a = query_topk.to_vec();
    a.sort_unstable();
    a.dedup();
    let mut hits = Vec::new();
    let mut out = Vec::new();
    for_each_term(&a, nn, alpha, &mut hits, |j, v| out.push((j, v)));
    out
}

fn check_pair(
    qg: &MatrixView<f32>,
    gg: &MatrixView<f32>,
    params: &RerankParams,
) -> Result<(), MetricsError> {
    qg.check("query-gallery similarity data")?;
    gg.check("gram data")?;
    if gg.rows != gg.cols {
        return Err(MetricsError::ShapeMismatch {
            what: "gram columns (must be square)",
            expected: gg.rows,
            got: gg.cols,
        });
    }
    if qg.cols != gg.rows {
        return Err(MetricsError::ShapeMismatch {
            what: "gram rows (must equal similarity columns)",
            expected: qg.cols,
            got: gg.rows,
        });
    }
    if qg.cols == 0 {
        return Err(MetricsError::EmptyGallery);
    }
    if params.k == 0 {
        return Err(MetricsError::ZeroK);
    }
    if let Some((row, col)) = find_nan(qg) {
        return Err(MetricsError::NotANumber { row, col });
    }
    Ok(())
}

/// Dense fill of `out` (nq × ng) with the Jaccard term, optionally adding `qg` itself.
fn fill_dense(
    qg: &MatrixView<f32>,
    nn: &GalleryNeighbours,
    params: &RerankParams,
    add_sim: bool,
) -> Vec<f64> {
    let ng = qg.cols;
    let mut out = vec![0.0f64; qg.rows * ng];
    par_fill_rows(&mut out, ng, ng * 2, Vec::<usize>::new, |hits, q, row| {
        let qrow = qg.row(q);
        if add_sim {
            for (o, &s) in row.iter_mut().zip(qrow) {
                *o = s as f64;
            }
        }
        let mut a = topk_row(qrow, params.k);
        a.sort_unstable();
        for_each_term(&a, nn, params.alpha, hits, |j, v| row[j] += v);
    });
    out
}

/// The dense reference `k_reciprocal(Q, G)` given the cross-modal similarity `qg` (nq × ng)
/// and the gallery Gram matrix `gg` (ng × ng): `alpha * J` as f64, row-major nq × ng.
/// Uses the inverted index (O(ng + k·fanout) per query row); rows in parallel.
pub fn k_reciprocal(
    qg: &MatrixView<f32>,
    gg: &MatrixView<f32>,
    params: &RerankParams,
) -> Result<Vec<f64>, MetricsError> {
    check_pair(qg, gg, params)?;
    let nn = GalleryNeighbours::from_gram(gg, params.k)?;
    Ok(fill_dense(qg, &nn, params, false))
}

/// The reference's re-ranked matrix: `qg (f32 → f64) + k_reciprocal(qg, gg)`, row-major nq × ng.
/// (In the reference, `rvn_mat + similarity` promotes the f32 similarity to f64 exactly and adds.)
pub fn rerank_matrix(
    qg: &MatrixView<f32>,
    gg: &MatrixView<f32>,
    params: &RerankParams,
) -> Result<Vec<f64>, MetricsError> {
    check_pair(qg, gg, params)?;
    let nn = GalleryNeighbours::from_gram(gg, params.k)?;
    Ok(fill_dense(qg, &nn, params, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn view<T>(rows: usize, cols: usize, data: &[T]) -> MatrixView<'_, T> {
        MatrixView { rows, cols, data }
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
        fn f32(&mut self, levels: u64) -> f32 {
            (self.below(levels) as f32 / levels as f32) * 2.0 - 1.0
        }
    }

    /// Full stable sort, descending, ties by index; first k.
    fn naive_topk(row: &[f32], k: usize) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..row.len()).collect();
        idx.sort_by(|&a, &b| row[b].partial_cmp(&row[a]).unwrap().then(a.cmp(&b)));
        idx.truncate(k);
        idx
    }

    /// Literal transcription of the reference (`jaccard_mat` over Python sets).
    fn naive_k_reciprocal(
        qg: &[f32],
        gg: &[f32],
        nq: usize,
        ng: usize,
        k: usize,
        alpha: f64,
    ) -> Vec<f64> {
        let qnn: Vec<BTreeSet<usize>> = (0..nq)
            .map(|i| {
                naive_topk(&qg[i * ng..(i + 1) * ng], k)
                    .into_iter()
                    .collect()
            })
            .collect();
        let gnn: Vec<BTreeSet<usize>> = (0..ng)
            .map(|j| {
                naive_topk(&gg[j * ng..(j + 1) * ng], k)
                    .into_iter()
                    .collect()
            })
            .collect();
        let mut out = vec![0.0; nq * ng];
        for i in 0..nq {
            for j in 0..ng {
                let inter = qnn[i].intersection(&gnn[j]).count() as f64;
                let uni = qnn[i].union(&gnn[j]).count() as f64;
                out[i * ng + j] = alpha * (inter / uni);
            }
        }
        out
    }

    #[test]
    fn default_params() {
        assert_eq!(RerankParams::default(), RerankParams { k: 5, alpha: 0.05 });
    }

    #[test]
    fn topk_basic_ties_nan() {
        let row = [0.5f32, 0.9, 0.5, 0.1, 0.9];
        assert_eq!(topk_row(&row, 3), vec![1, 4, 0]);
        assert_eq!(topk_row(&row, 10), vec![1, 4, 0, 2, 3]);
        assert_eq!(topk_row(&row, 0), Vec::<usize>::new());
        let row = [f32::NAN, 0.2, f32::NAN, -1.0];
        assert_eq!(topk_row(&row, 4), vec![1, 3, 0, 2]);
        let m = [3i32, 1, 2, 1, 2, 3];
        assert_eq!(topk_rows(&view(2, 3, &m), 2), vec![vec![0, 2], vec![2, 1]]);
    }

    #[test]
    fn topk_random_small_and_large_k() {
        let mut rng = Lcg(7);
        for trial in 0..200 {
            let n = 1 + rng.below(400) as usize;
            let k = if trial % 3 == 0 {
                1 + rng.below(200) as usize
            } else {
                1 + rng.below(8) as usize
            };
            let levels = if trial % 2 == 0 { 5 } else { 1 << 20 };
            let row: Vec<f32> = (0..n).map(|_| rng.f32(levels)).collect();
            assert_eq!(
                topk_row(&row, k),
                naive_topk(&row, k),
                "trial {trial} n {n} k {k}"
            );
        }
    }

    #[test]
    fn hand_case_jaccard() {
        // Gallery of 4 with k = 2. Gram rows (self first):
        //   g0: [1, .9, .1, .0] -> {0,1}
        //   g1: [.9, 1, .2, .0] -> {1,0}
        //   g2: [.1, .2, 1, .8] -> {2,3}
        //   g3: [.0, .0, .8, 1] -> {3,2}
        let gg = [
            1.0f32, 0.9, 0.1, 0.0, 0.9, 1.0, 0.2, 0.0, 0.1, 0.2, 1.0, 0.8, 0.0, 0.0, 0.8, 1.0,
        ];
        // q0 top2 = {1,2}: J with {0,1} = 1/3, {2,3} = 1/3.
        // q1 top2 = {0,1}: J = 1 for g0,g1, 0 for g2,g3.
        let qg = [0.0f32, 0.7, 0.6, 0.1, 0.9, 0.8, 0.0, 0.0];
        let p = RerankParams { k: 2, alpha: 0.5 };
        let j = k_reciprocal(&view(2, 4, &qg), &view(4, 4, &gg), &p).unwrap();
        let t = 0.5 * (1.0 / 3.0);
        assert_eq!(j, vec![t, t, t, t, 0.5, 0.5, 0.0, 0.0]);
        let r = rerank_matrix(&view(2, 4, &qg), &view(4, 4, &gg), &p).unwrap();
        for i in 0..8 {
            assert_eq!(r[i], qg[i] as f64 + j[i]);
        }
        let nn = GalleryNeighbours::from_gram(&view(4, 4, &gg), 2).unwrap();
        assert_eq!(nn.len(), 4);
        assert_eq!(nn.list_len(), 2);
        assert_eq!(nn.neighbours(1), &[1, 0]);
        assert_eq!(nn.containing(0), &[0, 1]);
        assert_eq!(nn.containing(3), &[2, 3]);
        assert_eq!(
            rerank_terms(&[1, 2], &nn, 0.5),
            vec![(0, t), (1, t), (2, t), (3, t)]
        );
        assert_eq!(rerank_terms(&[0, 1], &nn, 0.5), vec![(0, 0.5), (1, 0.5)]);
        // Python-set semantics: duplicates ignored; out-of-range index counts in |A| only:
        // A = {0, 99}, B0 = {0,1}: |A∩B| = 1, |A∪B| = 3.
        assert_eq!(
            rerank_terms(&[0, 0, 99], &nn, 1.0),
            vec![(0, 1.0 / 3.0), (1, 1.0 / 3.0)]
        );
        assert_eq!(rerank_terms(&[], &nn, 1.0), vec![]);
        assert_eq!(
            nn.query_terms(&qg[..4], 0.5).unwrap(),
            rerank_terms(&[1, 2], &nn, 0.5)
        );
        assert!(nn.query_terms(&qg[..3], 0.5).is_err());
    }

    #[test]
    fn k_larger_than_gallery() {
        // ng = 3, k = 5: every set is the whole gallery -> J = 1 everywhere.
        let gg = [1.0f32, 0.2, 0.3, 0.2, 1.0, 0.4, 0.3, 0.4, 1.0];
        let qg = [0.1f32, 0.2, 0.3, 0.3, 0.2, 0.1];
        let j = k_reciprocal(&view(2, 3, &qg), &view(3, 3, &gg), &RerankParams::default()).unwrap();
        assert_eq!(j, vec![0.05; 6]);
        let nn = GalleryNeighbours::from_gram(&view(3, 3, &gg), 5).unwrap();
        assert_eq!(nn.k(), 5);
        assert_eq!(nn.list_len(), 3);
    }

    #[test]
    fn errors() {
        let gg = [1.0f32, 0.5, 0.5, 1.0];
        let qg = [0.1f32, 0.2];
        let p = RerankParams::default();
        assert!(matches!(
            k_reciprocal(&view(1, 2, &qg[..1]), &view(2, 2, &gg), &p),
            Err(MetricsError::ShapeMismatch { .. })
        ));
        assert!(matches!(
            k_reciprocal(&view(1, 2, &qg), &view(1, 4, &gg), &p),
            Err(MetricsError::ShapeMismatch { .. })
        ));
        assert!(matches!(
            k_reciprocal(&view(2, 1, &qg), &view(2, 2, &gg), &p),
            Err(MetricsError::ShapeMismatch { .. })
        ));
        let e: [f32; 0] = [];
        assert_eq!(
            k_reciprocal(&view(1, 0, &e), &view(0, 0, &e), &p),
            Err(MetricsError::EmptyGallery)
        );
        assert_eq!(
            GalleryNeighbours::from_gram(&view(0, 0, &e), 5).unwrap_err(),
            MetricsError::EmptyGallery
        );
        assert_eq!(
            k_reciprocal(
                &view(1, 2, &qg),
                &view(2, 2, &gg),
                &RerankParams { k: 0, alpha: 0.05 }
            ),
            Err(MetricsError::ZeroK)
        );
        let nan = [0.1f32, f32::NAN];
        assert_eq!(
            rerank_matrix(&view(1, 2, &nan), &view(2, 2, &gg), &p),
            Err(MetricsError::NotANumber { row: 0, col: 1 })
        );
        let gnan = [1.0f32, 0.5, f32::NAN, 1.0];
        assert_eq!(
            GalleryNeighbours::from_gram(&view(2, 2, &gnan), 1).unwrap_err(),
            MetricsError::NotANumber { row: 1, col: 0 }
        );
        // Zero queries is fine: an empty result.
        assert_eq!(
            k_reciprocal(&view(0, 2, &e), &view(2, 2, &gg), &p).unwrap(),
            Vec::<f64>::new()
        );
    }

    #[test]
    fn random_sparse_and_dense_match_naive() {
        let mut rng = Lcg(99);
        for trial in 0..60 {
            let ng = 1 + rng.below(120) as usize;
            let nq = 1 + rng.below(150) as usize;
            let k = 1 + rng.below(9) as usize;
            let alpha = 0.05 * (1 + rng.below(4)) as f64;
            let levels = if trial % 2 == 0 { 6 } else { 1 << 20 };
            let qg: Vec<f32> = (0..nq * ng).map(|_| rng.f32(levels)).collect();
            let mut gg: Vec<f32> = (0..ng * ng).map(|_| rng.f32(levels)).collect();
            for i in 0..ng {
                for j in 0..i {
                    gg[i * ng + j] = gg[j * ng + i];
                }
                gg[i * ng + i] = 1.0;
            }
            let p = RerankParams { k, alpha };
            let want = naive_k_reciprocal(&qg, &gg, nq, ng, k, alpha);
            let dense = k_reciprocal(&view(nq, ng, &qg), &view(ng, ng, &gg), &p).unwrap();
            assert_eq!(dense, want, "trial {trial}");
            let nn = GalleryNeighbours::from_gram(&view(ng, ng, &gg), k).unwrap();
            for q in 0..nq {
                let row = &qg[q * ng..(q + 1) * ng];
                let sparse = rerank_terms(&topk_row(row, k), &nn, alpha);
                let mut d = vec![0.0; ng];
                for &(j, v) in &sparse {
                    assert!(v > 0.0);
                    d[j] = v;
                }
                assert_eq!(&d[..], &dense[q * ng..(q + 1) * ng], "trial {trial} q {q}");
            }
            let rr = rerank_matrix(&view(nq, ng, &qg), &view(ng, ng, &gg), &p).unwrap();
            for i in 0..nq * ng {
                assert_eq!(rr[i], qg[i] as f64 + want[i]);
            }
        }
    }
}
