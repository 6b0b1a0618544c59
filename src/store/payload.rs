//! What a sighting looks like inside Qdrant, shared by both back-ends: the payload keys,
//! the indexed fields, the conversion to and from JSON payloads, and the search filter
//! in Qdrant's JSON filter language (which the embedded engine deserialises directly).
use serde_json::{json, Map, Value};

use super::{SightingId, SightingInfo, StoreError};

/// Payload fields with an index, and the index kind: filters on them run inside the
/// vector search instead of after it.
pub const INDEXED_FIELDS: &[(&str, &str)] = &[
    ("camera_id", "keyword"),
    ("first_seen_ms", "integer"),
    ("last_seen_ms", "integer"),
    ("best_time_ms", "integer"),
];

/// Which sightings a search may return.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SightingFilter {
    /// Only these cameras (`None`: all).
    pub cameras: Option<Vec<String>>,
    /// Seen at or after this time (Unix ms): the track's last sighting is not earlier.
    pub from_ms: Option<i64>,
    /// Seen at or before this time: the track's first sighting is not later.
    pub to_ms: Option<i64>,
    /// Drop hits with a cosine similarity below this.
    pub min_score: Option<f32>,
}

impl SightingFilter {
    /// The filter in Qdrant's JSON syntax; `None` when nothing is filtered.
    pub fn to_qdrant_json(&self) -> Option<Value> {
        let mut must = Vec::new();
        if let Some(cameras) = &self.cameras {
            must.push(json!({"key": "camera_id", "match": {"any": cameras}}));
        }
        if let Some(from) = self.from_ms {
            must.push(json!({"key": "last_seen_ms", "range": {"gte": from}}));
        }
        if let Some(to) = self.to_ms {
            must.push(json!({"key": "first_seen_ms", "range": {"lte": to}}));
        }
        if must.is_empty() {
            None
        } else {
            Some(json!({ "must": must }))
        }
    }
}

/// The payload of a sighting point.
pub fn info_to_payload(info: &SightingInfo) -> Map<String, Value> {
    match serde_json::to_value(info) {
        Ok(Value::Object(map)) => map,
        // SightingInfo is a plain struct of numbers and strings: always an object.
        _ => Map::new(),
    }
}

/// Reads a sighting point's payload back.
pub fn info_from_payload(id: SightingId, payload: Value) -> Result<SightingInfo, StoreError> {
    serde_json::from_value(payload).map_err(|e| StoreError::Payload {
        id: id.to_string(),
        reason: e.to_string(),
    })
}

/// The payload of a media point: both JPEGs, base64, and the time used by retention.
pub fn media_payload(crop: &[u8], frame: &[u8], last_seen_ms: i64) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("crop_jpeg_b64".into(), Value::String(base64_encode(crop)));
    map.insert("frame_jpeg_b64".into(), Value::String(base64_encode(frame)));
    map.insert("last_seen_ms".into(), json!(last_seen_ms));
    map
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let value = |c: u8| -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    };
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * pad as u32;
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_every_length() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let text = base64_encode(&bytes);
            assert_eq!(
                base64_decode(&text).as_deref(),
                Some(&bytes[..]),
                "len {len}"
            );
        }
        assert_eq!(base64_encode(b"Man"), "TWFu");
        assert_eq!(base64_encode(b"Ma"), "TWE=");
        assert_eq!(base64_decode("TW=u"), None);
        assert_eq!(base64_decode("TWF"), None);
    }

    #[test]
    fn filter_json_has_one_condition_per_constraint() {
        assert_eq!(SightingFilter::default().to_qdrant_json(), None);
        let filter = SightingFilter {
            cameras: Some(vec!["a".into()]),
            from_ms: Some(10),
            to_ms: Some(20),
            min_score: Some(0.3),
        };
        let json = filter.to_qdrant_json().unwrap();
        assert_eq!(json["must"].as_array().unwrap().len(), 3);
        assert_eq!(json["must"][0]["match"]["any"][0], "a");
    }
}
