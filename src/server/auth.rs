//! API keys and roles. A viewer may search and look at sightings, optionally only those
//! of some cameras; an admin may also manage cameras, retention and reindexing. Keys
//! are read from the configuration or from environment variables it names; requests
//! carry them as `Authorization: Bearer <key>`, `X-Api-Key: <key>`, or, for image
//! URLs that an `<img>` tag loads, `?key=<key>`.
use std::collections::HashSet;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Admin,
}

/// One `[[server.api_keys]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    /// Who holds the key; written to the audit log instead of the key.
    pub name: String,
    /// The key itself (prefer `key_env`).
    #[serde(default)]
    pub key: Option<String>,
    /// Environment variable holding the key.
    #[serde(default)]
    pub key_env: Option<String>,
    pub role: Role,
    /// Cameras this key may see (`None`: all). Ignored for admins.
    #[serde(default)]
    pub cameras: Option<Vec<String>>,
}

/// Who made a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub name: String,
    pub role: Role,
    pub cameras: Option<HashSet<String>>,
}

impl Principal {
    pub fn may_see(&self, camera_id: &str) -> bool {
        self.role == Role::Admin || self.cameras.as_ref().is_none_or(|c| c.contains(camera_id))
    }

    /// The cameras a search of this principal may cover, given those it asked for:
    /// `Ok(None)` = all; an asked-for camera outside the key's cameras is an error.
    pub fn search_cameras(
        &self,
        asked: Option<Vec<String>>,
    ) -> Result<Option<Vec<String>>, String> {
        let allowed = match (&self.cameras, self.role) {
            (Some(allowed), Role::Viewer) => allowed,
            _ => return Ok(asked),
        };
        match asked {
            None => {
                let mut all: Vec<String> = allowed.iter().cloned().collect();
                all.sort();
                Ok(Some(all))
            }
            Some(asked) => {
                if let Some(denied) = asked.iter().find(|c| !allowed.contains(*c)) {
                    return Err(format!("this key may not search camera {denied:?}"));
                }
                Ok(Some(asked))
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    #[error("api key {name:?}: {reason}")]
    Invalid { name: String, reason: String },
}

struct KeyEntry {
    key: String,
    principal: Principal,
}

pub struct KeyRing {
    entries: Vec<KeyEntry>,
}

impl KeyRing {
    pub fn build(configs: &[ApiKeyConfig]) -> Result<Self, AuthConfigError> {
        let mut entries = Vec::new();
        let mut seen = HashSet::new();
        for config in configs {
            let invalid = |reason: String| AuthConfigError::Invalid {
                name: config.name.clone(),
                reason,
            };
            let key = match (&config.key, &config.key_env) {
                (Some(key), None) => key.clone(),
                (None, Some(var)) => std::env::var(var)
                    .map_err(|_| invalid(format!("key_env = {var:?} is not set")))?,
                _ => return Err(invalid("give exactly one of key and key_env".into())),
            };
            if key.len() < 8 {
                return Err(invalid("a key needs at least 8 characters".into()));
            }
            if !seen.insert(key.clone()) {
                return Err(invalid("the same key is configured twice".into()));
            }
            entries.push(KeyEntry {
                key,
                principal: Principal {
                    name: config.name.clone(),
                    role: config.role,
                    cameras: config.cameras.as_ref().map(|c| c.iter().cloned().collect()),
                },
            });
        }
        Ok(KeyRing { entries })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The principal holding `key`. Compares every entry in constant time per byte so
    /// that response times do not reveal how much of a guess was right.
    pub fn authenticate(&self, key: &str) -> Option<Principal> {
        let mut found = None;
        for entry in &self.entries {
            if constant_time_eq(entry.key.as_bytes(), key.as_bytes()) {
                found = Some(entry.principal.clone());
            }
        }
        found
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> KeyRing {
        KeyRing::build(&[
            ApiKeyConfig {
                name: "ops".into(),
                key: Some("admin-key-123".into()),
                key_env: None,
                role: Role::Admin,
                cameras: None,
            },
            ApiKeyConfig {
                name: "gate-desk".into(),
                key: Some("viewer-key-456".into()),
                key_env: None,
                role: Role::Viewer,
                cameras: Some(vec!["gate-1".into()]),
            },
        ])
        .unwrap()
    }

    #[test]
    fn keys_map_to_principals() {
        let ring = ring();
        assert_eq!(
            ring.authenticate("admin-key-123").unwrap().role,
            Role::Admin
        );
        assert_eq!(
            ring.authenticate("viewer-key-456").unwrap().name,
            "gate-desk"
        );
        assert!(ring.authenticate("viewer-key-45").is_none());
        assert!(ring.authenticate("").is_none());
    }

    #[test]
    fn camera_limits_narrow_searches() {
        let viewer = ring().authenticate("viewer-key-456").unwrap();
        assert!(viewer.may_see("gate-1"));
        assert!(!viewer.may_see("lobby"));
        assert_eq!(
            viewer.search_cameras(None).unwrap(),
            Some(vec!["gate-1".to_string()])
        );
        assert!(viewer.search_cameras(Some(vec!["lobby".into()])).is_err());
        let admin = ring().authenticate("admin-key-123").unwrap();
        assert_eq!(admin.search_cameras(None).unwrap(), None);
    }

    #[test]
    fn bad_key_configs_are_rejected() {
        let short = ApiKeyConfig {
            name: "x".into(),
            key: Some("short".into()),
            key_env: None,
            role: Role::Viewer,
            cameras: None,
        };
        assert!(KeyRing::build(std::slice::from_ref(&short)).is_err());
        let both = ApiKeyConfig {
            key_env: Some("X".into()),
            key: Some("long-enough-key".into()),
            ..short
        };
        assert!(KeyRing::build(&[both]).is_err());
    }
}
