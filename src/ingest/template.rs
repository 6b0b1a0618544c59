//! Pipeline templates: the gst-launch text of each camera kind, kept in `pipelines/*.pipeline`
//! and filled in with a camera's values.
//!
//! The text lives outside the Rust code so that an operator can read, tune or replace a
//! pipeline without rebuilding; the copies compiled in with `include_str!` make the binary
//! work from any directory. A template is gst-launch syntax with `{name}` placeholders and
//! `#` comment lines. Every value is checked before it is put in: text values (URLs, paths)
//! are inserted inside double quotes and may not contain quotes, backslashes, `!` or control
//! characters, so a value can never end its property and start a new element.
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The templates every Lookout binary carries, by name (the file stem in `pipelines/`).
const BUILTIN_TEMPLATES: [(&str, &str); 7] = [
    ("file", include_str!("../../pipelines/file.pipeline")),
    ("rtsp", include_str!("../../pipelines/rtsp.pipeline")),
    (
        "rtsp_nvdec",
        include_str!("../../pipelines/rtsp_nvdec.pipeline"),
    ),
    (
        "http_mjpeg",
        include_str!("../../pipelines/http_mjpeg.pipeline"),
    ),
    ("hls", include_str!("../../pipelines/hls.pipeline")),
    ("v4l2", include_str!("../../pipelines/v4l2.pipeline")),
    ("test", include_str!("../../pipelines/test.pipeline")),
];

/// Why a template could not be loaded or filled in.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read pipeline template {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no pipeline template named {0:?}")]
    UnknownTemplate(String),
    #[error("pipeline template {template:?} uses placeholder {{{placeholder}}} but no value was given for it")]
    MissingValue {
        template: String,
        placeholder: String,
    },
    #[error("value {value:?} for {{{placeholder}}} is not allowed: {reason}")]
    UnsafeValue {
        placeholder: String,
        value: String,
        reason: &'static str,
    },
}

/// A value to put into a placeholder. The kind decides how it is checked and written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PipelineValue {
    /// Free text such as a URL, URI or device path; written inside double quotes.
    Text(String),
    /// A bare word such as an enum nick (`smpte`, `tcp`) or an element name:
    /// ASCII letters, digits, `-`, `_`, `+` and `.` only.
    Word(String),
    /// A non-negative integer.
    Number(u64),
}

impl PipelineValue {
    /// The text to insert for `placeholder`, or why the value is refused.
    fn render(&self, placeholder: &str) -> Result<String, TemplateError> {
        let refuse = |value: &str, reason| TemplateError::UnsafeValue {
            placeholder: placeholder.to_owned(),
            value: value.to_owned(),
            reason,
        };
        match self {
            PipelineValue::Number(n) => Ok(n.to_string()),
            PipelineValue::Word(word) => {
                if word.is_empty() {
                    return Err(refuse(word, "it is empty"));
                }
                let allowed = |c: char| c.is_ascii_alphanumeric() || "-_+.".contains(c);
                if !word.chars().all(allowed) {
                    return Err(refuse(
                        word,
                        "only letters, digits, '-', '_', '+' and '.' are allowed here",
                    ));
                }
                Ok(word.clone())
            }
            PipelineValue::Text(text) => {
                if text.is_empty() {
                    return Err(refuse(text, "it is empty"));
                }
                if text.contains(['"', '\'', '\\']) {
                    return Err(refuse(text, "quotes and backslashes are not allowed"));
                }
                if text.contains('!') {
                    return Err(refuse(
                        text,
                        "'!' is not allowed (it links elements in a pipeline)",
                    ));
                }
                if text.chars().any(char::is_control) {
                    return Err(refuse(text, "control characters are not allowed"));
                }
                Ok(format!("\"{text}\""))
            }
        }
    }
}

impl fmt::Display for PipelineValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PipelineValue::Text(s) | PipelineValue::Word(s) => f.write_str(s),
            PipelineValue::Number(n) => write!(f, "{n}"),
        }
    }
}

/// One template: its name and gst-launch text (comments removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineTemplate {
    name: String,
    text: String,
}

impl PipelineTemplate {
    /// A template from the text of a `.pipeline` file: `#` lines are comments, the other
    /// lines are joined with spaces.
    pub fn parse(name: &str, source: &str) -> Self {
        let text = source
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect::<Vec<_>>()
            .join(" ");
        PipelineTemplate {
            name: name.to_owned(),
            text,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The gst-launch text with its placeholders still in it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The names of the placeholders the template uses, in order of first use.
    pub fn placeholders(&self) -> Vec<&str> {
        let mut names = Vec::new();
        for piece in split_placeholders(&self.text) {
            if let Piece::Placeholder(name) = piece {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    }

    /// The pipeline description with every placeholder replaced by its checked value.
    /// Values the template does not use are ignored, so that an operator's template may
    /// leave out a setting (say `latency`) without breaking the camera.
    pub fn render(&self, values: &[(&str, PipelineValue)]) -> Result<String, TemplateError> {
        let mut out = String::with_capacity(self.text.len() + 64);
        for piece in split_placeholders(&self.text) {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Placeholder(name) => {
                    let value = values
                        .iter()
                        .find(|(key, _)| *key == name)
                        .map(|(_, value)| value)
                        .ok_or_else(|| TemplateError::MissingValue {
                            template: self.name.clone(),
                            placeholder: name.to_owned(),
                        })?;
                    out.push_str(&value.render(name)?);
                }
            }
        }
        Ok(out)
    }
}

enum Piece<'a> {
    Literal(&'a str),
    Placeholder(&'a str),
}

/// Splits template text into literal text and `{name}` placeholders. Only `{` directly
/// followed by lower-case letters or `_` and a `}` is a placeholder, so that caps lists
/// such as `format={ RGB, BGR }` stay literal.
fn split_placeholders(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut literal_start = 0;
    let mut search_from = 0;
    while let Some(offset) = text[search_from..].find('{') {
        let open = search_from + offset;
        let after = &text[open + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(after.len());
        if name_len > 0 && after[name_len..].starts_with('}') {
            if open > literal_start {
                pieces.push(Piece::Literal(&text[literal_start..open]));
            }
            pieces.push(Piece::Placeholder(&after[..name_len]));
            literal_start = open + 1 + name_len + 1;
            search_from = literal_start;
        } else {
            search_from = open + 1;
        }
    }
    if literal_start < text.len() {
        pieces.push(Piece::Literal(&text[literal_start..]));
    }
    pieces
}

/// The set of templates a camera set builds its pipelines from.
#[derive(Debug, Clone)]
pub struct PipelineTemplates {
    by_name: BTreeMap<String, PipelineTemplate>,
}

impl Default for PipelineTemplates {
    fn default() -> Self {
        Self::builtin()
    }
}

impl PipelineTemplates {
    /// The templates compiled into the binary.
    pub fn builtin() -> Self {
        let by_name = BUILTIN_TEMPLATES
            .iter()
            .map(|(name, source)| (name.to_string(), PipelineTemplate::parse(name, source)))
            .collect();
        PipelineTemplates { by_name }
    }

    /// The built-in templates, each replaced by `<dir>/<name>.pipeline` where that file
    /// exists; further `.pipeline` files in `dir` are added under their stem.
    pub fn load(dir: &Path) -> Result<Self, TemplateError> {
        let mut templates = Self::builtin();
        let entries = std::fs::read_dir(dir).map_err(|source| TemplateError::Read {
            path: dir.to_owned(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| TemplateError::Read {
                path: dir.to_owned(),
                source,
            })?;
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("pipeline") {
                continue;
            }
            let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let source = std::fs::read_to_string(&path).map_err(|source| TemplateError::Read {
                path: path.clone(),
                source,
            })?;
            templates
                .by_name
                .insert(name.to_owned(), PipelineTemplate::parse(name, &source));
        }
        Ok(templates)
    }

    /// `load(dir)` when `dir` is given, the built-in set otherwise.
    pub fn load_or_builtin(dir: Option<&Path>) -> Result<Self, TemplateError> {
        match dir {
            Some(dir) => Self::load(dir),
            None => Ok(Self::builtin()),
        }
    }

    pub fn get(&self, name: &str) -> Result<&PipelineTemplate, TemplateError> {
        self.by_name
            .get(name)
            .ok_or_else(|| TemplateError::UnknownTemplate(name.to_owned()))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> PipelineValue {
        PipelineValue::Text(s.to_owned())
    }

    #[test]
    fn comments_are_dropped_and_lines_joined() {
        let t = PipelineTemplate::parse("t", "# about\nvideotestsrc !\n  # inner\n  fakesink\n");
        assert_eq!(t.text(), "videotestsrc ! fakesink");
    }

    #[test]
    fn placeholders_are_replaced_and_text_is_quoted() {
        let t = PipelineTemplate::parse("t", "rtspsrc location={url} latency={latency_ms} ! x");
        let out = t
            .render(&[
                ("url", text("rtsp://cam/1?a=b&c")),
                ("latency_ms", PipelineValue::Number(200)),
            ])
            .expect("renders");
        assert_eq!(
            out,
            "rtspsrc location=\"rtsp://cam/1?a=b&c\" latency=200 ! x"
        );
        assert_eq!(t.placeholders(), vec!["url", "latency_ms"]);
    }

    #[test]
    fn caps_lists_and_ranges_stay_literal() {
        let t = PipelineTemplate::parse("t", "video/x-raw,format={ RGB, BGR },width=[1,{w}]");
        let out = t
            .render(&[("w", PipelineValue::Number(640))])
            .expect("renders");
        assert_eq!(out, "video/x-raw,format={ RGB, BGR },width=[1,640]");
    }

    #[test]
    fn injection_attempts_are_refused() {
        let t = PipelineTemplate::parse("t", "souphttpsrc location={url} ! fakesink");
        for bad in [
            "http://x\" ! filesink location=/etc/passwd",
            "http://x ! filesink",
            "http://x' y",
            "http://x\\",
            "http://x\ny",
            "",
        ] {
            let err = t.render(&[("url", text(bad))]).expect_err(bad);
            assert!(
                matches!(err, TemplateError::UnsafeValue { .. }),
                "{bad:?}: {err}"
            );
            assert!(err.to_string().contains("{url}"), "{err}");
        }
        let w = PipelineTemplate::parse("t", "videotestsrc pattern={pattern}");
        let err = w
            .render(&[("pattern", PipelineValue::Word("ball name=x".into()))])
            .expect_err("spaces in a word");
        assert!(err.to_string().contains("ball name=x"), "{err}");
    }

    #[test]
    fn a_missing_value_names_template_and_placeholder() {
        let t = PipelineTemplate::parse("rtsp", "rtspsrc location={url}");
        let err = t.render(&[]).expect_err("no value");
        assert_eq!(
            err.to_string(),
            "pipeline template \"rtsp\" uses placeholder {url} but no value was given for it"
        );
    }

    #[test]
    fn every_builtin_template_ends_in_the_rgb_appsink_tail() {
        let templates = PipelineTemplates::builtin();
        for name in [
            "file",
            "rtsp",
            "rtsp_nvdec",
            "http_mjpeg",
            "hls",
            "v4l2",
            "test",
        ] {
            let t = templates.get(name).expect(name);
            assert!(
                t.text()
                    .ends_with("appsink name=sink max-buffers=2 drop=true sync=false"),
                "{name}: {}",
                t.text()
            );
            assert!(t.text().contains("format=RGB"), "{name}");
            // MJPEG parts carry no duration, which videorate cannot take (see the
            // template): that camera is thinned by the frame gate alone.
            assert_eq!(
                t.placeholders().contains(&"fps"),
                name != "http_mjpeg",
                "{name}"
            );
            assert!(t.placeholders().contains(&"max_width"), "{name}");
        }
        assert!(matches!(
            templates.get("nope"),
            Err(TemplateError::UnknownTemplate(_))
        ));
    }

    #[test]
    fn a_directory_overrides_builtin_templates() {
        let dir = std::env::temp_dir().join(format!("lookout-tpl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(
            dir.join("test.pipeline"),
            "videotestsrc ! appsink name=sink\n",
        )
        .expect("write");
        std::fs::write(dir.join("notes.txt"), "ignored").expect("write");
        let templates = PipelineTemplates::load(&dir).expect("loads");
        assert_eq!(
            templates.get("test").expect("test").text(),
            "videotestsrc ! appsink name=sink"
        );
        assert!(templates.get("rtsp").is_ok());
        std::fs::remove_dir_all(&dir).ok();
        assert!(matches!(
            PipelineTemplates::load(&dir),
            Err(TemplateError::Read { .. })
        ));
    }
}
