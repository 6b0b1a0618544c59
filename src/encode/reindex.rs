//! `lookout reindex`: every sighting of a collection re-embedded from its kept crop with
//! another model, into that model's collection. The video is not needed, the pictures
//! are not copied (they stay in the media collection under the same id), and the daemons
//! keep searching the old collection until the alias is switched.
use crate::model::TextReid;
use crate::store::{MediaKind, SightingRecord, Store, StoreError};

use super::{decode_image, CropEncoder, EncodeError};

#[derive(Debug, thiserror::Error)]
pub enum ReindexError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

#[derive(Debug, Default, Clone, Copy)]
pub struct ReindexReport {
    pub reembedded: usize,
    /// Sightings whose crop is missing or unreadable (reported, left out).
    pub skipped: usize,
}

/// Re-embeds `source` into `store`'s own collection; `progress` gets the running count.
pub async fn reindex(
    store: &Store,
    model: TextReid,
    source: &str,
    batch_size: usize,
    mut progress: impl FnMut(usize),
) -> Result<ReindexReport, ReindexError> {
    let encoder = CropEncoder::new(model, batch_size);
    let mut report = ReindexReport::default();
    let mut offset = None;
    loop {
        let (page, next) = store
            .scroll(source.to_string(), offset, batch_size.max(1))
            .await?;
        let mut crops = Vec::new();
        let mut kept = Vec::new();
        for sighting in page {
            let crop = store.media(sighting.id, MediaKind::Crop).await?;
            let frame = store.media(sighting.id, MediaKind::Frame).await?;
            match (crop, frame) {
                (Some(crop), Some(frame)) => match decode_image(&sighting.id.to_string(), &crop) {
                    Ok(image) => {
                        crops.push((sighting.id.to_string(), image));
                        kept.push((sighting, crop, frame));
                    }
                    Err(e) => {
                        tracing::warn!("reindex: {e}; sighting left out");
                        report.skipped += 1;
                    }
                },
                _ => {
                    tracing::warn!(
                        "reindex: sighting {} has no stored pictures; left out",
                        sighting.id
                    );
                    report.skipped += 1;
                }
            }
        }
        let vectors = encoder.embed(&crops)?;
        let records: Vec<SightingRecord> = kept
            .into_iter()
            .zip(vectors)
            .map(|((sighting, crop_jpeg, frame_jpeg), vector)| {
                let mut info = sighting.info;
                info.model_version = encoder.model_version().to_string();
                SightingRecord {
                    id: sighting.id,
                    vector,
                    info,
                    crop_jpeg,
                    frame_jpeg,
                }
            })
            .collect();
        report.reembedded += records.len();
        store.upsert(records).await?;
        progress(report.reembedded);
        match next {
            Some(next) => offset = Some(next),
            None => break,
        }
    }
    Ok(report)
}
