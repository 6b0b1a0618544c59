//! A model on a data split: embed the gallery (one image per image id, the first pair's)
//! and every caption, then text→image and image→text metrics with and without the
//! re-ranking, printed as the reference prints them.
use std::collections::BTreeMap;

use serde::Serialize;
use tch::{Kind, Tensor};

use super::metrics::{rank, unique_first_indices, MatrixView, MetricsError, RankMetrics};
use super::rerank::{rerank_matrix, RerankParams};
use crate::dataset::{DataError, Dataset, ImageCache};
use crate::model::{ModelError, Pooling, TextReid};
use crate::preprocess::InputSpec;

#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    pub r1: f64,
    pub r5: f64,
    pub r10: f64,
    pub map: f64,
}

impl From<&RankMetrics> for Metrics {
    fn from(m: &RankMetrics) -> Self {
        let at = |k: usize| {
            m.cmc
                .iter()
                .find(|(kk, _)| *kk == k)
                .map(|(_, v)| *v)
                .unwrap_or(f64::NAN)
        };
        Self {
            r1: at(1),
            r5: at(5),
            r10: at(10),
            map: m.map,
        }
    }
}

/// t2i, re-t2i, i2t, re-i2t (percent).
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub queries: usize,
    pub gallery: usize,
    pub tasks: BTreeMap<String, Metrics>,
}

impl EvalReport {
    /// The reference's table.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{} captions, {} gallery images\ntask    | R1     | R5     | R10    | mAP\n",
            self.queries, self.gallery
        );
        for name in ["t2i", "re_t2i", "i2t", "re_i2t"] {
            if let Some(m) = self.tasks.get(name) {
                out.push_str(&format!(
                    "{name:<7} | {:6.2} | {:6.2} | {:6.2} | {:6.2}\n",
                    m.r1, m.r5, m.r10, m.map
                ));
            }
        }
        out
    }
}

pub struct EvalOptions {
    pub batch_size: usize,
    pub pooling: Pooling,
    pub rerank: Option<RerankParams>,
    pub image_to_text: bool,
}

fn to_vec(t: &Tensor) -> Result<Vec<f32>, EvaluateError> {
    Ok(Vec::<f32>::try_from(
        &t.to_device(tch::Device::Cpu)
            .to_kind(Kind::Float)
            .contiguous()
            .flatten(0, -1),
    )?)
}

/// Embeds and scores `data` with `model`; `progress(done, total)` is called while embedding.
pub fn evaluate(
    model: &TextReid,
    data: &Dataset,
    options: &EvalOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<EvalReport, EvaluateError> {
    let image_ids: Vec<i64> = data.pairs.iter().map(|p| p.image_id).collect();
    let gallery = unique_first_indices(&image_ids);
    let spec = InputSpec::for_visual(&model.config.visual);
    let mut cache = ImageCache::new(spec);
    let mut image_embeddings = Vec::new();
    let total = gallery.len() + data.pairs.len();
    // Plain normalisation: the augmentation code with every augmentation off.
    let plain = crate::dataset::Augment {
        enabled: false,
        ..Default::default()
    };
    let mut unused_rng = crate::dataset::batch_rng(0, 0, 0);
    for chunk in gallery.chunks(options.batch_size.max(1)) {
        let mut tensors = Vec::with_capacity(chunk.len());
        for &i in chunk {
            let bytes = cache.get(&data.pairs[i].image)?;
            tensors.push(plain.apply(bytes, &spec, &mut unused_rng));
        }
        image_embeddings.push(model.embed_images(&Tensor::stack(&tensors, 0), options.batch_size)?);
        progress(
            image_embeddings.iter().map(|t| t.size()[0] as usize).sum(),
            total,
        );
    }
    let images = Tensor::cat(&image_embeddings, 0);
    let captions: Vec<Vec<i64>> = data.pairs.iter().map(|p| p.caption.clone()).collect();
    let texts = model.embed_captions(&captions, options.pooling, 128)?;
    progress(total, total);
    let query_pid: Vec<i64> = data.pairs.iter().map(|p| p.id).collect();
    let gallery_pid: Vec<i64> = gallery.iter().map(|&i| data.pairs[i].id).collect();
    let (nq, ng) = (query_pid.len(), gallery_pid.len());
    let sim = to_vec(&texts.matmul(&images.tr()))?;
    let topk = [1, 5, 10];
    let mut tasks = BTreeMap::new();
    let t2i = MatrixView::new(nq, ng, &sim)?;
    tasks.insert(
        "t2i".to_string(),
        Metrics::from(&rank(&t2i, &query_pid, &gallery_pid, &topk)?),
    );
    if let Some(params) = &options.rerank {
        let gram = to_vec(&images.matmul(&images.tr()))?;
        let re = rerank_matrix(&t2i, &MatrixView::new(ng, ng, &gram)?, params)?;
        tasks.insert(
            "re_t2i".to_string(),
            Metrics::from(&rank(
                &MatrixView::new(nq, ng, &re)?,
                &query_pid,
                &gallery_pid,
                &topk,
            )?),
        );
    }
    if options.image_to_text {
        let sim_t = to_vec(&images.matmul(&texts.tr()))?;
        let i2t = MatrixView::new(ng, nq, &sim_t)?;
        tasks.insert(
            "i2t".to_string(),
            Metrics::from(&rank(&i2t, &gallery_pid, &query_pid, &topk)?),
        );
        if let Some(params) = &options.rerank {
            let gram = to_vec(&texts.matmul(&texts.tr()))?;
            let re = rerank_matrix(&i2t, &MatrixView::new(nq, nq, &gram)?, params)?;
            tasks.insert(
                "re_i2t".to_string(),
                Metrics::from(&rank(
                    &MatrixView::new(ng, nq, &re)?,
                    &gallery_pid,
                    &query_pid,
                    &topk,
                )?),
            );
        }
    }
    Ok(EvalReport {
        queries: nq,
        gallery: ng,
        tasks,
    })
}
