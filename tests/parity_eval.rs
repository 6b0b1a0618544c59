//! Parity of the Rust evaluation and re-ranking with the reference `rank()` and
//! `k_reciprocal()`, on the matrices and metrics stored in the fixture.
mod common;

use lookout::eval::{
    k_reciprocal, rank, rerank_matrix, unique_first_indices, MatrixView, RerankParams,
};
use tch::{Kind, Tensor};

fn to_f32(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(&t.to_kind(Kind::Float).contiguous().flatten(0, -1)).unwrap()
}
fn to_f64(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(&t.to_kind(Kind::Double).contiguous().flatten(0, -1)).unwrap()
}
fn to_i64(t: &Tensor) -> Vec<i64> {
    Vec::<i64>::try_from(&t.to_kind(Kind::Int64).flatten(0, -1)).unwrap()
}
fn dims(t: &Tensor) -> (usize, usize) {
    let s = t.size();
    (s[0] as usize, s[1] as usize)
}

fn meta_metrics(dir: &std::path::Path, task: &str) -> [f64; 4] {
    let text = std::fs::read_to_string(dir.join("inference_meta.json")).unwrap();
    let meta: serde_json::Value = serde_json::from_str(&text).unwrap();
    let m = &meta["metrics_percent"][task];
    ["R1", "R5", "R10", "mAP"].map(|k| m[k].as_f64().unwrap())
}

fn check_metrics(name: &str, got: &lookout::eval::RankMetrics, expected: [f64; 4]) {
    let values = [got.cmc[0].1, got.cmc[1].1, got.cmc[2].1, got.map];
    for (v, e) in values.iter().zip(expected) {
        // The meta stores float32 percentages.
        assert!(
            (v - e).abs() < 1e-4,
            "{name}: got {values:?}, reference {expected:?}"
        );
    }
    eprintln!(
        "{name}: R1 {:.3} R5 {:.3} R10 {:.3} mAP {:.3}",
        values[0], values[1], values[2], values[3]
    );
}

#[test]
fn metrics_from_stored_matrices_match_reference() {
    let Some(dir) = common::reference_or_skip("metrics_from_stored_matrices_match_reference")
    else {
        return;
    };
    let fx = common::read_npz(dir.join("inference.npz"));
    let text_pid = to_i64(&fx["text_pid"]);
    let image_pid = to_i64(&fx["image_pid"]);
    let sim = &fx["similarity"];
    let (nt, ni) = dims(sim);
    let topk = [1, 5, 10];
    let s = to_f32(sim);
    let t2i = rank(
        &MatrixView::new(nt, ni, &s).unwrap(),
        &text_pid,
        &image_pid,
        &topk,
    )
    .unwrap();
    check_metrics("t2i", &t2i, meta_metrics(&dir, "t2i"));
    let st = to_f32(&sim.tr());
    let i2t = rank(
        &MatrixView::new(ni, nt, &st).unwrap(),
        &image_pid,
        &text_pid,
        &topk,
    )
    .unwrap();
    check_metrics("i2t", &i2t, meta_metrics(&dir, "i2t"));
    let re = to_f64(&fx["rerank_t2i"]);
    let re_t2i = rank(
        &MatrixView::new(nt, ni, &re).unwrap(),
        &text_pid,
        &image_pid,
        &topk,
    )
    .unwrap();
    check_metrics("re_t2i", &re_t2i, meta_metrics(&dir, "re_t2i"));
    let re = to_f64(&fx["rerank_i2t"]);
    let re_i2t = rank(
        &MatrixView::new(ni, nt, &re).unwrap(),
        &image_pid,
        &text_pid,
        &topk,
    )
    .unwrap();
    check_metrics("re_i2t", &re_i2t, meta_metrics(&dir, "re_i2t"));
}

#[test]
fn gallery_deduplication_matches_reference() {
    let Some(dir) = common::reference_or_skip("gallery_deduplication_matches_reference") else {
        return;
    };
    let fx = common::read_npz(dir.join("inference.npz"));
    // Caption i belongs to image pair_image_index[i]: the gallery keeps each image's first pair.
    let image_of_pair = to_i64(&fx["pair_image_index"]);
    let keep: Vec<i64> = unique_first_indices(&image_of_pair)
        .into_iter()
        .map(|i| i as i64)
        .collect();
    assert_eq!(keep, to_i64(&fx["gallery_keep_idx"]));
}

#[test]
fn rerank_matrices_match_reference() {
    let Some(dir) = common::reference_or_skip("rerank_matrices_match_reference") else {
        return;
    };
    let fx = common::read_npz(dir.join("inference.npz"));
    let texts = &fx["text_embed_norm"];
    let images = &fx["image_embed_norm"];
    let sim = &fx["similarity"];
    let (nt, ni) = dims(sim);
    let params = RerankParams::default();
    let image_gram = to_f32(&images.matmul(&images.tr()));
    let text_gram = to_f32(&texts.matmul(&texts.tr()));
    let s = to_f32(sim);
    let st = to_f32(&sim.tr());
    let qg = MatrixView::new(nt, ni, &s).unwrap();
    let gg = MatrixView::new(ni, ni, &image_gram).unwrap();
    let rvn = k_reciprocal(&qg, &gg, &params).unwrap();
    let expected = to_f64(&fx["rvn_mat"]);
    let max_diff = rvn
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(max_diff < 1e-12, "rvn_mat differs by {max_diff}");
    let re = rerank_matrix(&qg, &gg, &params).unwrap();
    let expected = to_f64(&fx["rerank_t2i"]);
    assert!(
        re.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-5),
        "rerank_t2i"
    );

    let qg = MatrixView::new(ni, nt, &st).unwrap();
    let gg = MatrixView::new(nt, nt, &text_gram).unwrap();
    let rtn = k_reciprocal(&qg, &gg, &params).unwrap();
    let expected = to_f64(&fx["rtn_mat"]);
    let max_diff = rtn
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(max_diff < 1e-12, "rtn_mat differs by {max_diff}");
    let re = rerank_matrix(&qg, &gg, &params).unwrap();
    let expected = to_f64(&fx["rerank_i2t"]);
    assert!(
        re.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-5),
        "rerank_i2t"
    );
}
