//! BERT's uncased WordPiece tokenizer (as `BertTokenizer` / the `tokenizers` crate's
//! `BertNormalizer` + `BertPreTokenizer` + `WordPiece` with `[CLS] … [SEP]`), read from a
//! `vocab.txt` (the token on line n, counting from 0, has id n).
//!
//! Steps, in the order the reference applies them:
//! 1. clean-up: NUL, U+FFFD and control/format/private-use characters are dropped,
//!    whitespace becomes a space;
//! 2. CJK ideographs get a space on each side;
//! 3. accents are stripped: canonical decomposition (NFD), then every non-spacing mark
//!    (category Mn) removed;
//! 4. lower-casing, character by character;
//! 5. split on whitespace, and every punctuation character (ASCII punctuation or Unicode
//!    P*) is a token of its own;
//! 6. each word is cut greedily into the longest vocabulary pieces from the left, later
//!    pieces with the `##` prefix; a word of more than 100 characters, or one with a part
//!    that no piece matches, is `[UNK]`.
//!
//! As in the reference, the special tokens written out in the text (`[CLS]`, `[SEP]`,
//! `[UNK]`, `[PAD]`, `[MASK]`, exactly so cased) are not split but stand for themselves.
//!
//! No new crates: the Unicode tables at the bottom were generated from Python's
//! `unicodedata` (Unicode 14.0). Known gaps against the reference: the decomposition table
//! covers the BMP and the CJK compatibility supplement, not the other supplementary planes
//! (a few historic scripts and musical symbols); and a character assigned in a Unicode
//! version newer than the reference's tables (Unicode 10 and later) may be classed
//! differently: U+0C84 (Unicode 12) is punctuation here but an ordinary character there.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum WordPieceError {
    #[error("cannot read WordPiece vocabulary {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("WordPiece vocabulary {path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

/// Longest word, in characters, that is split into pieces; longer ones are `[UNK]`.
pub const MAX_INPUT_CHARS_PER_WORD: usize = 100;

/// An uncased BERT WordPiece tokenizer.
#[derive(Debug, Clone)]
pub struct WordPiece {
    ids: HashMap<String, i64>,
    cls: i64,
    sep: i64,
    unk: i64,
    pad: i64,
    /// Special tokens matched in the raw text: `[CLS]` `[SEP]` `[UNK]` `[PAD]` `[MASK]`.
    specials: Vec<(String, i64)>,
}

impl WordPiece {
    /// Reads `vocab.txt`; it must hold `[CLS]`, `[SEP]`, `[UNK]` and `[PAD]`.
    pub fn load(vocab_txt: &Path) -> Result<Self, WordPieceError> {
        let text = std::fs::read_to_string(vocab_txt).map_err(|source| WordPieceError::Io {
            path: vocab_txt.to_path_buf(),
            source,
        })?;
        Self::from_tokens(text.lines()).map_err(|reason| WordPieceError::Invalid {
            path: vocab_txt.to_path_buf(),
            reason,
        })
    }

    /// A tokenizer from the vocabulary's tokens in id order.
    pub fn from_tokens<'a>(tokens: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut ids = HashMap::new();
        for (id, token) in tokens.into_iter().enumerate() {
            // As the reference's `load_vocab`: a repeated token keeps its last id.
            ids.insert(token.trim_end_matches(['\r', '\n']).to_string(), id as i64);
        }
        let special = |t: &str| {
            ids.get(t)
                .copied()
                .ok_or_else(|| format!("special token {t} is missing"))
        };
        Ok(Self {
            cls: special("[CLS]")?,
            sep: special("[SEP]")?,
            unk: special("[UNK]")?,
            pad: special("[PAD]")?,
            specials: ["[CLS]", "[SEP]", "[UNK]", "[PAD]", "[MASK]"]
                .iter()
                .filter_map(|t| ids.get(*t).map(|&id| (t.to_string(), id)))
                .collect(),
            ids,
        })
    }

    /// Number of tokens in the vocabulary.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The id of a token (`"[CLS]"`, `"##ing"`, ...).
    pub fn token_id(&self, token: &str) -> Option<i64> {
        self.ids.get(token).copied()
    }

    pub fn cls_id(&self) -> i64 {
        self.cls
    }
    pub fn sep_id(&self) -> i64 {
        self.sep
    }
    pub fn unk_id(&self) -> i64 {
        self.unk
    }
    pub fn pad_id(&self) -> i64 {
        self.pad
    }

    /// `[CLS] pieces… [SEP]`, the pieces cut so that the whole is at most `max_len` ids
    /// (at least the two special tokens are always kept).
    pub fn encode(&self, text: &str, max_len: usize) -> Vec<i64> {
        let keep = max_len.saturating_sub(2);
        let mut out = Vec::with_capacity(16);
        out.push(self.cls);
        self.pieces_into(text, &mut out, keep + 1);
        out.truncate(keep + 1);
        out.push(self.sep);
        out
    }

    /// The ids of a text's pieces, without `[CLS]`/`[SEP]` around them and not truncated.
    pub fn tokenize(&self, text: &str) -> Vec<i64> {
        let mut out = Vec::new();
        self.pieces_into(text, &mut out, usize::MAX);
        out
    }

    /// Appends the pieces of `text` to `out`, stopping once `out` holds `limit` ids. As in
    /// the reference, the special tokens written out in the text (`[CLS]`, `[SEP]`,
    /// `[UNK]`, `[PAD]`, `[MASK]`, exactly so cased) stand for themselves.
    fn pieces_into(&self, text: &str, out: &mut Vec<i64>, limit: usize) {
        for (segment, special) in self.split_specials(text) {
            if out.len() >= limit {
                return;
            }
            match special {
                Some(id) => out.push(id),
                None => {
                    for word in pre_tokenize(&normalize(segment)) {
                        if out.len() >= limit {
                            return;
                        }
                        self.word_pieces(&word, out);
                    }
                }
            }
        }
    }

    /// `text` cut around the special tokens it contains (leftmost, longest first).
    fn split_specials<'t>(&self, text: &'t str) -> Vec<(&'t str, Option<i64>)> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut pos = 0;
        while pos < rest.len() {
            let found = rest[pos..]
                .starts_with('[')
                .then(|| {
                    self.specials
                        .iter()
                        .filter(|(t, _)| rest[pos..].starts_with(t.as_str()))
                        .max_by_key(|(t, _)| t.len())
                })
                .flatten();
            match found {
                Some((token, id)) => {
                    if pos > 0 {
                        parts.push((&rest[..pos], None));
                    }
                    parts.push((&rest[pos..pos + token.len()], Some(*id)));
                    rest = &rest[pos + token.len()..];
                    pos = 0;
                }
                None => pos += rest[pos..].chars().next().map_or(1, char::len_utf8),
            }
        }
        if !rest.is_empty() {
            parts.push((rest, None));
        }
        parts
    }

    /// Greedy longest-match-first WordPiece of one pre-token, appended to `out`.
    fn word_pieces(&self, word: &str, out: &mut Vec<i64>) {
        if word.chars().count() > MAX_INPUT_CHARS_PER_WORD {
            out.push(self.unk);
            return;
        }
        let first = out.len();
        let mut start = 0;
        let mut candidate = String::with_capacity(word.len() + 2);
        while start < word.len() {
            // Char boundaries after `start`, longest first.
            let mut found = None;
            let ends = word[start..]
                .char_indices()
                .map(|(i, c)| start + i + c.len_utf8())
                .collect::<Vec<_>>();
            for &end in ends.iter().rev() {
                candidate.clear();
                if start > 0 {
                    candidate.push_str("##");
                }
                candidate.push_str(&word[start..end]);
                if let Some(&id) = self.ids.get(candidate.as_str()) {
                    found = Some((id, end));
                    break;
                }
            }
            match found {
                Some((id, end)) => {
                    out.push(id);
                    start = end;
                }
                None => {
                    out.truncate(first);
                    out.push(self.unk);
                    return;
                }
            }
        }
    }
}

/// Steps 1–4: clean-up, spaces around CJK ideographs, accent stripping, lower-casing.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c == '\0' || c == '\u{FFFD}' || is_control(c) {
            continue;
        }
        if is_whitespace(c) {
            out.push(' ');
            continue;
        }
        if is_chinese_char(c) {
            out.push(' ');
            push_stripped_lower(c, &mut out);
            out.push(' ');
            continue;
        }
        push_stripped_lower(c, &mut out);
    }
    out
}

/// Step 5: whitespace-separated words with every punctuation character on its own.
pub fn pre_tokenize(normalized: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    for c in normalized.chars() {
        if c.is_whitespace() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
        } else if is_punctuation(c) {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            words.push(c.to_string());
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// NFD without non-spacing marks, then lower case, of one character.
fn push_stripped_lower(c: char, out: &mut String) {
    let push_lower = |c: char, out: &mut String| out.extend(c.to_lowercase());
    if in_ranges(c, NONSPACING_MARKS) {
        return;
    }
    let cp = c as u32;
    // Hangul syllables decompose arithmetically into conjoining jamo (none of them Mn).
    if (0xAC00..=0xD7A3).contains(&cp) {
        let s = cp - 0xAC00;
        let (l, v, t) = (0x1100 + s / 588, 0x1161 + (s % 588) / 28, 0x11A7 + s % 28);
        for j in [l, v].into_iter().chain((t != 0x11A7).then_some(t)) {
            push_lower(char::from_u32(j).unwrap_or(c), out);
        }
        return;
    }
    if (0xF900..=0xFAFF).contains(&cp) || (0x2F800..=0x2FA1F).contains(&cp) {
        push_lower(*cjk_compat().get(&c).unwrap_or(&c), out);
        return;
    }
    match STRIPPED.binary_search_by_key(&cp, |&(k, _)| k) {
        Ok(i) => STRIPPED[i].1.chars().for_each(|d| push_lower(d, out)),
        Err(_) => push_lower(c, out),
    }
}

/// [`CJK_COMPAT`] as a map, built on first use.
fn cjk_compat() -> &'static HashMap<char, char> {
    static MAP: std::sync::OnceLock<HashMap<char, char>> = std::sync::OnceLock::new();
    MAP.get_or_init(|| {
        let chars: Vec<char> = CJK_COMPAT.chars().collect();
        chars.chunks_exact(2).map(|p| (p[0], p[1])).collect()
    })
}

fn in_ranges(c: char, table: &[(u32, u32)]) -> bool {
    let cp = c as u32;
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

fn is_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

fn is_control(c: char) -> bool {
    if matches!(c, '\t' | '\n' | '\r') {
        return false;
    }
    c.is_control() || in_ranges(c, FORMAT_OR_PRIVATE)
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || in_ranges(c, PUNCTUATION)
}

fn is_chinese_char(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF
        | 0x3400..=0x4DBF
        | 0x20000..=0x2A6DF
        | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F
        | 0x2B920..=0x2CEAF
        | 0xF900..=0xFAFF
        | 0x2F800..=0x2FA1F)
}

// ---------------------------------------------------------------------------------------
// Generated by a script from Python 3.11's `unicodedata` (Unicode 14.0): sorted, disjoint.
/// Unicode general categories P* (Pc Pd Ps Pe Pi Pf Po).
#[rustfmt::skip]
const PUNCTUATION: &[(u32, u32)] = &[
    (0x21, 0x23), (0x25, 0x2A), (0x2C, 0x2F), (0x3A, 0x3B), (0x3F, 0x40), (0x5B, 0x5D),
    (0x5F, 0x5F), (0x7B, 0x7B), (0x7D, 0x7D), (0xA1, 0xA1), (0xA7, 0xA7), (0xAB, 0xAB),
    (0xB6, 0xB7), (0xBB, 0xBB), (0xBF, 0xBF), (0x37E, 0x37E), (0x387, 0x387), (0x55A, 0x55F),
    (0x589, 0x58A), (0x5BE, 0x5BE), (0x5C0, 0x5C0), (0x5C3, 0x5C3), (0x5C6, 0x5C6), (0x5F3, 0x5F4),
    (0x609, 0x60A), (0x60C, 0x60D), (0x61B, 0x61B), (0x61D, 0x61F), (0x66A, 0x66D), (0x6D4, 0x6D4),
    (0x700, 0x70D), (0x7F7, 0x7F9), (0x830, 0x83E), (0x85E, 0x85E), (0x964, 0x965), (0x970, 0x970),
    (0x9FD, 0x9FD), (0xA76, 0xA76), (0xAF0, 0xAF0), (0xC77, 0xC77), (0xC84, 0xC84), (0xDF4, 0xDF4),
    (0xE4F, 0xE4F), (0xE5A, 0xE5B), (0xF04, 0xF12), (0xF14, 0xF14), (0xF3A, 0xF3D), (0xF85, 0xF85),
    (0xFD0, 0xFD4), (0xFD9, 0xFDA), (0x104A, 0x104F), (0x10FB, 0x10FB), (0x1360, 0x1368),
    (0x1400, 0x1400), (0x166E, 0x166E), (0x169B, 0x169C), (0x16EB, 0x16ED), (0x1735, 0x1736),
    (0x17D4, 0x17D6), (0x17D8, 0x17DA), (0x1800, 0x180A), (0x1944, 0x1945), (0x1A1E, 0x1A1F),
    (0x1AA0, 0x1AA6), (0x1AA8, 0x1AAD), (0x1B5A, 0x1B60), (0x1B7D, 0x1B7E), (0x1BFC, 0x1BFF),
    (0x1C3B, 0x1C3F), (0x1C7E, 0x1C7F), (0x1CC0, 0x1CC7), (0x1CD3, 0x1CD3), (0x2010, 0x2027),
    (0x2030, 0x2043), (0x2045, 0x2051), (0x2053, 0x205E), (0x207D, 0x207E), (0x208D, 0x208E),
    (0x2308, 0x230B), (0x2329, 0x232A), (0x2768, 0x2775), (0x27C5, 0x27C6), (0x27E6, 0x27EF),
    (0x2983, 0x2998), (0x29D8, 0x29DB), (0x29FC, 0x29FD), (0x2CF9, 0x2CFC), (0x2CFE, 0x2CFF),
    (0x2D70, 0x2D70), (0x2E00, 0x2E2E), (0x2E30, 0x2E4F), (0x2E52, 0x2E5D), (0x3001, 0x3003),
    (0x3008, 0x3011), (0x3014, 0x301F), (0x3030, 0x3030), (0x303D, 0x303D), (0x30A0, 0x30A0),
    (0x30FB, 0x30FB), (0xA4FE, 0xA4FF), (0xA60D, 0xA60F), (0xA673, 0xA673), (0xA67E, 0xA67E),
    (0xA6F2, 0xA6F7), (0xA874, 0xA877), (0xA8CE, 0xA8CF), (0xA8F8, 0xA8FA), (0xA8FC, 0xA8FC),
    (0xA92E, 0xA92F), (0xA95F, 0xA95F), (0xA9C1, 0xA9CD), (0xA9DE, 0xA9DF), (0xAA5C, 0xAA5F),
    (0xAADE, 0xAADF), (0xAAF0, 0xAAF1), (0xABEB, 0xABEB), (0xFD3E, 0xFD3F), (0xFE10, 0xFE19),
    (0xFE30, 0xFE52), (0xFE54, 0xFE61), (0xFE63, 0xFE63), (0xFE68, 0xFE68), (0xFE6A, 0xFE6B),
    (0xFF01, 0xFF03), (0xFF05, 0xFF0A), (0xFF0C, 0xFF0F), (0xFF1A, 0xFF1B), (0xFF1F, 0xFF20),
    (0xFF3B, 0xFF3D), (0xFF3F, 0xFF3F), (0xFF5B, 0xFF5B), (0xFF5D, 0xFF5D), (0xFF5F, 0xFF65),
    (0x10100, 0x10102), (0x1039F, 0x1039F), (0x103D0, 0x103D0), (0x1056F, 0x1056F),
    (0x10857, 0x10857), (0x1091F, 0x1091F), (0x1093F, 0x1093F), (0x10A50, 0x10A58),
    (0x10A7F, 0x10A7F), (0x10AF0, 0x10AF6), (0x10B39, 0x10B3F), (0x10B99, 0x10B9C),
    (0x10EAD, 0x10EAD), (0x10F55, 0x10F59), (0x10F86, 0x10F89), (0x11047, 0x1104D),
    (0x110BB, 0x110BC), (0x110BE, 0x110C1), (0x11140, 0x11143), (0x11174, 0x11175),
    (0x111C5, 0x111C8), (0x111CD, 0x111CD), (0x111DB, 0x111DB), (0x111DD, 0x111DF),
    (0x11238, 0x1123D), (0x112A9, 0x112A9), (0x1144B, 0x1144F), (0x1145A, 0x1145B),
    (0x1145D, 0x1145D), (0x114C6, 0x114C6), (0x115C1, 0x115D7), (0x11641, 0x11643),
    (0x11660, 0x1166C), (0x116B9, 0x116B9), (0x1173C, 0x1173E), (0x1183B, 0x1183B),
    (0x11944, 0x11946), (0x119E2, 0x119E2), (0x11A3F, 0x11A46), (0x11A9A, 0x11A9C),
    (0x11A9E, 0x11AA2), (0x11C41, 0x11C45), (0x11C70, 0x11C71), (0x11EF7, 0x11EF8),
    (0x11FFF, 0x11FFF), (0x12470, 0x12474), (0x12FF1, 0x12FF2), (0x16A6E, 0x16A6F),
    (0x16AF5, 0x16AF5), (0x16B37, 0x16B3B), (0x16B44, 0x16B44), (0x16E97, 0x16E9A),
    (0x16FE2, 0x16FE2), (0x1BC9F, 0x1BC9F), (0x1DA87, 0x1DA8B), (0x1E95E, 0x1E95F),
];

/// Unicode general category Mn.
#[rustfmt::skip]
const NONSPACING_MARKS: &[(u32, u32)] = &[
    (0x300, 0x36F), (0x483, 0x487), (0x591, 0x5BD), (0x5BF, 0x5BF), (0x5C1, 0x5C2), (0x5C4, 0x5C5),
    (0x5C7, 0x5C7), (0x610, 0x61A), (0x64B, 0x65F), (0x670, 0x670), (0x6D6, 0x6DC), (0x6DF, 0x6E4),
    (0x6E7, 0x6E8), (0x6EA, 0x6ED), (0x711, 0x711), (0x730, 0x74A), (0x7A6, 0x7B0), (0x7EB, 0x7F3),
    (0x7FD, 0x7FD), (0x816, 0x819), (0x81B, 0x823), (0x825, 0x827), (0x829, 0x82D), (0x859, 0x85B),
    (0x898, 0x89F), (0x8CA, 0x8E1), (0x8E3, 0x902), (0x93A, 0x93A), (0x93C, 0x93C), (0x941, 0x948),
    (0x94D, 0x94D), (0x951, 0x957), (0x962, 0x963), (0x981, 0x981), (0x9BC, 0x9BC), (0x9C1, 0x9C4),
    (0x9CD, 0x9CD), (0x9E2, 0x9E3), (0x9FE, 0x9FE), (0xA01, 0xA02), (0xA3C, 0xA3C), (0xA41, 0xA42),
    (0xA47, 0xA48), (0xA4B, 0xA4D), (0xA51, 0xA51), (0xA70, 0xA71), (0xA75, 0xA75), (0xA81, 0xA82),
    (0xABC, 0xABC), (0xAC1, 0xAC5), (0xAC7, 0xAC8), (0xACD, 0xACD), (0xAE2, 0xAE3), (0xAFA, 0xAFF),
    (0xB01, 0xB01), (0xB3C, 0xB3C), (0xB3F, 0xB3F), (0xB41, 0xB44), (0xB4D, 0xB4D), (0xB55, 0xB56),
    (0xB62, 0xB63), (0xB82, 0xB82), (0xBC0, 0xBC0), (0xBCD, 0xBCD), (0xC00, 0xC00), (0xC04, 0xC04),
    (0xC3C, 0xC3C), (0xC3E, 0xC40), (0xC46, 0xC48), (0xC4A, 0xC4D), (0xC55, 0xC56), (0xC62, 0xC63),
    (0xC81, 0xC81), (0xCBC, 0xCBC), (0xCBF, 0xCBF), (0xCC6, 0xCC6), (0xCCC, 0xCCD), (0xCE2, 0xCE3),
    (0xD00, 0xD01), (0xD3B, 0xD3C), (0xD41, 0xD44), (0xD4D, 0xD4D), (0xD62, 0xD63), (0xD81, 0xD81),
    (0xDCA, 0xDCA), (0xDD2, 0xDD4), (0xDD6, 0xDD6), (0xE31, 0xE31), (0xE34, 0xE3A), (0xE47, 0xE4E),
    (0xEB1, 0xEB1), (0xEB4, 0xEBC), (0xEC8, 0xECD), (0xF18, 0xF19), (0xF35, 0xF35), (0xF37, 0xF37),
    (0xF39, 0xF39), (0xF71, 0xF7E), (0xF80, 0xF84), (0xF86, 0xF87), (0xF8D, 0xF97), (0xF99, 0xFBC),
    (0xFC6, 0xFC6), (0x102D, 0x1030), (0x1032, 0x1037), (0x1039, 0x103A), (0x103D, 0x103E),
    (0x1058, 0x1059), (0x105E, 0x1060), (0x1071, 0x1074), (0x1082, 0x1082), (0x1085, 0x1086),
    (0x108D, 0x108D), (0x109D, 0x109D), (0x135D, 0x135F), (0x1712, 0x1714), (0x1732, 0x1733),
    (0x1752, 0x1753), (0x1772, 0x1773), (0x17B4, 0x17B5), (0x17B7, 0x17BD), (0x17C6, 0x17C6),
    (0x17C9, 0x17D3), (0x17DD, 0x17DD), (0x180B, 0x180D), (0x180F, 0x180F), (0x1885, 0x1886),
    (0x18A9, 0x18A9), (0x1920, 0x1922), (0x1927, 0x1928), (0x1932, 0x1932), (0x1939, 0x193B),
    (0x1A17, 0x1A18), (0x1A1B, 0x1A1B), (0x1A56, 0x1A56), (0x1A58, 0x1A5E), (0x1A60, 0x1A60),
    (0x1A62, 0x1A62), (0x1A65, 0x1A6C), (0x1A73, 0x1A7C), (0x1A7F, 0x1A7F), (0x1AB0, 0x1ABD),
    (0x1ABF, 0x1ACE), (0x1B00, 0x1B03), (0x1B34, 0x1B34), (0x1B36, 0x1B3A), (0x1B3C, 0x1B3C),
    (0x1B42, 0x1B42), (0x1B6B, 0x1B73), (0x1B80, 0x1B81), (0x1BA2, 0x1BA5), (0x1BA8, 0x1BA9),
    (0x1BAB, 0x1BAD), (0x1BE6, 0x1BE6), (0x1BE8, 0x1BE9), (0x1BED, 0x1BED), (0x1BEF, 0x1BF1),
    (0x1C2C, 0x1C33), (0x1C36, 0x1C37), (0x1CD0, 0x1CD2), (0x1CD4, 0x1CE0), (0x1CE2, 0x1CE8),
    (0x1CED, 0x1CED), (0x1CF4, 0x1CF4), (0x1CF8, 0x1CF9), (0x1DC0, 0x1DFF), (0x20D0, 0x20DC),
    (0x20E1, 0x20E1), (0x20E5, 0x20F0), (0x2CEF, 0x2CF1), (0x2D7F, 0x2D7F), (0x2DE0, 0x2DFF),
    (0x302A, 0x302D), (0x3099, 0x309A), (0xA66F, 0xA66F), (0xA674, 0xA67D), (0xA69E, 0xA69F),
    (0xA6F0, 0xA6F1), (0xA802, 0xA802), (0xA806, 0xA806), (0xA80B, 0xA80B), (0xA825, 0xA826),
    (0xA82C, 0xA82C), (0xA8C4, 0xA8C5), (0xA8E0, 0xA8F1), (0xA8FF, 0xA8FF), (0xA926, 0xA92D),
    (0xA947, 0xA951), (0xA980, 0xA982), (0xA9B3, 0xA9B3), (0xA9B6, 0xA9B9), (0xA9BC, 0xA9BD),
    (0xA9E5, 0xA9E5), (0xAA29, 0xAA2E), (0xAA31, 0xAA32), (0xAA35, 0xAA36), (0xAA43, 0xAA43),
    (0xAA4C, 0xAA4C), (0xAA7C, 0xAA7C), (0xAAB0, 0xAAB0), (0xAAB2, 0xAAB4), (0xAAB7, 0xAAB8),
    (0xAABE, 0xAABF), (0xAAC1, 0xAAC1), (0xAAEC, 0xAAED), (0xAAF6, 0xAAF6), (0xABE5, 0xABE5),
    (0xABE8, 0xABE8), (0xABED, 0xABED), (0xFB1E, 0xFB1E), (0xFE00, 0xFE0F), (0xFE20, 0xFE2F),
    (0x101FD, 0x101FD), (0x102E0, 0x102E0), (0x10376, 0x1037A), (0x10A01, 0x10A03),
    (0x10A05, 0x10A06), (0x10A0C, 0x10A0F), (0x10A38, 0x10A3A), (0x10A3F, 0x10A3F),
    (0x10AE5, 0x10AE6), (0x10D24, 0x10D27), (0x10EAB, 0x10EAC), (0x10F46, 0x10F50),
    (0x10F82, 0x10F85), (0x11001, 0x11001), (0x11038, 0x11046), (0x11070, 0x11070),
    (0x11073, 0x11074), (0x1107F, 0x11081), (0x110B3, 0x110B6), (0x110B9, 0x110BA),
    (0x110C2, 0x110C2), (0x11100, 0x11102), (0x11127, 0x1112B), (0x1112D, 0x11134),
    (0x11173, 0x11173), (0x11180, 0x11181), (0x111B6, 0x111BE), (0x111C9, 0x111CC),
    (0x111CF, 0x111CF), (0x1122F, 0x11231), (0x11234, 0x11234), (0x11236, 0x11237),
    (0x1123E, 0x1123E), (0x112DF, 0x112DF), (0x112E3, 0x112EA), (0x11300, 0x11301),
    (0x1133B, 0x1133C), (0x11340, 0x11340), (0x11366, 0x1136C), (0x11370, 0x11374),
    (0x11438, 0x1143F), (0x11442, 0x11444), (0x11446, 0x11446), (0x1145E, 0x1145E),
    (0x114B3, 0x114B8), (0x114BA, 0x114BA), (0x114BF, 0x114C0), (0x114C2, 0x114C3),
    (0x115B2, 0x115B5), (0x115BC, 0x115BD), (0x115BF, 0x115C0), (0x115DC, 0x115DD),
    (0x11633, 0x1163A), (0x1163D, 0x1163D), (0x1163F, 0x11640), (0x116AB, 0x116AB),
    (0x116AD, 0x116AD), (0x116B0, 0x116B5), (0x116B7, 0x116B7), (0x1171D, 0x1171F),
    (0x11722, 0x11725), (0x11727, 0x1172B), (0x1182F, 0x11837), (0x11839, 0x1183A),
    (0x1193B, 0x1193C), (0x1193E, 0x1193E), (0x11943, 0x11943), (0x119D4, 0x119D7),
    (0x119DA, 0x119DB), (0x119E0, 0x119E0), (0x11A01, 0x11A0A), (0x11A33, 0x11A38),
    (0x11A3B, 0x11A3E), (0x11A47, 0x11A47), (0x11A51, 0x11A56), (0x11A59, 0x11A5B),
    (0x11A8A, 0x11A96), (0x11A98, 0x11A99), (0x11C30, 0x11C36), (0x11C38, 0x11C3D),
    (0x11C3F, 0x11C3F), (0x11C92, 0x11CA7), (0x11CAA, 0x11CB0), (0x11CB2, 0x11CB3),
    (0x11CB5, 0x11CB6), (0x11D31, 0x11D36), (0x11D3A, 0x11D3A), (0x11D3C, 0x11D3D),
    (0x11D3F, 0x11D45), (0x11D47, 0x11D47), (0x11D90, 0x11D91), (0x11D95, 0x11D95),
    (0x11D97, 0x11D97), (0x11EF3, 0x11EF4), (0x16AF0, 0x16AF4), (0x16B30, 0x16B36),
    (0x16F4F, 0x16F4F), (0x16F8F, 0x16F92), (0x16FE4, 0x16FE4), (0x1BC9D, 0x1BC9E),
    (0x1CF00, 0x1CF2D), (0x1CF30, 0x1CF46), (0x1D167, 0x1D169), (0x1D17B, 0x1D182),
    (0x1D185, 0x1D18B), (0x1D1AA, 0x1D1AD), (0x1D242, 0x1D244), (0x1DA00, 0x1DA36),
    (0x1DA3B, 0x1DA6C), (0x1DA75, 0x1DA75), (0x1DA84, 0x1DA84), (0x1DA9B, 0x1DA9F),
    (0x1DAA1, 0x1DAAF), (0x1E000, 0x1E006), (0x1E008, 0x1E018), (0x1E01B, 0x1E021),
    (0x1E023, 0x1E024), (0x1E026, 0x1E02A), (0x1E130, 0x1E136), (0x1E2AE, 0x1E2AE),
    (0x1E2EC, 0x1E2EF), (0x1E8D0, 0x1E8D6), (0x1E944, 0x1E94A), (0xE0100, 0xE01EF),
];

/// Unicode general categories Cf and Co (removed by clean-up).
#[rustfmt::skip]
const FORMAT_OR_PRIVATE: &[(u32, u32)] = &[
    (0xAD, 0xAD), (0x600, 0x605), (0x61C, 0x61C), (0x6DD, 0x6DD), (0x70F, 0x70F), (0x890, 0x891),
    (0x8E2, 0x8E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064),
    (0x2066, 0x206F), (0xE000, 0xF8FF), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001), (0xE0020, 0xE007F), (0xF0000, 0xFFFFD), (0x100000, 0x10FFFD),
];

/// Code point → its NFD decomposition without Mn marks, where that differs from the code
/// point (BMP, less Hangul syllables, done arithmetically, and CJK compatibility ideographs).
#[rustfmt::skip]
const STRIPPED: &[(u32, &str)] = &[
    (0xC0, "A"), (0xC1, "A"), (0xC2, "A"), (0xC3, "A"), (0xC4, "A"), (0xC5, "A"), (0xC7, "C"),
    (0xC8, "E"), (0xC9, "E"), (0xCA, "E"), (0xCB, "E"), (0xCC, "I"), (0xCD, "I"), (0xCE, "I"),
    (0xCF, "I"), (0xD1, "N"), (0xD2, "O"), (0xD3, "O"), (0xD4, "O"), (0xD5, "O"), (0xD6, "O"),
    (0xD9, "U"), (0xDA, "U"), (0xDB, "U"), (0xDC, "U"), (0xDD, "Y"), (0xE0, "a"), (0xE1, "a"),
    (0xE2, "a"), (0xE3, "a"), (0xE4, "a"), (0xE5, "a"), (0xE7, "c"), (0xE8, "e"), (0xE9, "e"),
    (0xEA, "e"), (0xEB, "e"), (0xEC, "i"), (0xED, "i"), (0xEE, "i"), (0xEF, "i"), (0xF1, "n"),
    (0xF2, "o"), (0xF3, "o"), (0xF4, "o"), (0xF5, "o"), (0xF6, "o"), (0xF9, "u"), (0xFA, "u"),
    (0xFB, "u"), (0xFC, "u"), (0xFD, "y"), (0xFF, "y"), (0x100, "A"), (0x101, "a"), (0x102, "A"),
    (0x103, "a"), (0x104, "A"), (0x105, "a"), (0x106, "C"), (0x107, "c"), (0x108, "C"),
    (0x109, "c"), (0x10A, "C"), (0x10B, "c"), (0x10C, "C"), (0x10D, "c"), (0x10E, "D"),
    (0x10F, "d"), (0x112, "E"), (0x113, "e"), (0x114, "E"), (0x115, "e"), (0x116, "E"),
    (0x117, "e"), (0x118, "E"), (0x119, "e"), (0x11A, "E"), (0x11B, "e"), (0x11C, "G"),
    (0x11D, "g"), (0x11E, "G"), (0x11F, "g"), (0x120, "G"), (0x121, "g"), (0x122, "G"),
    (0x123, "g"), (0x124, "H"), (0x125, "h"), (0x128, "I"), (0x129, "i"), (0x12A, "I"),
    (0x12B, "i"), (0x12C, "I"), (0x12D, "i"), (0x12E, "I"), (0x12F, "i"), (0x130, "I"),
    (0x134, "J"), (0x135, "j"), (0x136, "K"), (0x137, "k"), (0x139, "L"), (0x13A, "l"),
    (0x13B, "L"), (0x13C, "l"), (0x13D, "L"), (0x13E, "l"), (0x143, "N"), (0x144, "n"),
    (0x145, "N"), (0x146, "n"), (0x147, "N"), (0x148, "n"), (0x14C, "O"), (0x14D, "o"),
    (0x14E, "O"), (0x14F, "o"), (0x150, "O"), (0x151, "o"), (0x154, "R"), (0x155, "r"),
    (0x156, "R"), (0x157, "r"), (0x158, "R"), (0x159, "r"), (0x15A, "S"), (0x15B, "s"),
    (0x15C, "S"), (0x15D, "s"), (0x15E, "S"), (0x15F, "s"), (0x160, "S"), (0x161, "s"),
    (0x162, "T"), (0x163, "t"), (0x164, "T"), (0x165, "t"), (0x168, "U"), (0x169, "u"),
    (0x16A, "U"), (0x16B, "u"), (0x16C, "U"), (0x16D, "u"), (0x16E, "U"), (0x16F, "u"),
    (0x170, "U"), (0x171, "u"), (0x172, "U"), (0x173, "u"), (0x174, "W"), (0x175, "w"),
    (0x176, "Y"), (0x177, "y"), (0x178, "Y"), (0x179, "Z"), (0x17A, "z"), (0x17B, "Z"),
    (0x17C, "z"), (0x17D, "Z"), (0x17E, "z"), (0x1A0, "O"), (0x1A1, "o"), (0x1AF, "U"),
    (0x1B0, "u"), (0x1CD, "A"), (0x1CE, "a"), (0x1CF, "I"), (0x1D0, "i"), (0x1D1, "O"),
    (0x1D2, "o"), (0x1D3, "U"), (0x1D4, "u"), (0x1D5, "U"), (0x1D6, "u"), (0x1D7, "U"),
    (0x1D8, "u"), (0x1D9, "U"), (0x1DA, "u"), (0x1DB, "U"), (0x1DC, "u"), (0x1DE, "A"),
    (0x1DF, "a"), (0x1E0, "A"), (0x1E1, "a"), (0x1E2, "Æ"), (0x1E3, "æ"), (0x1E6, "G"),
    (0x1E7, "g"), (0x1E8, "K"), (0x1E9, "k"), (0x1EA, "O"), (0x1EB, "o"), (0x1EC, "O"),
    (0x1ED, "o"), (0x1EE, "Ʒ"), (0x1EF, "ʒ"), (0x1F0, "j"), (0x1F4, "G"), (0x1F5, "g"),
    (0x1F8, "N"), (0x1F9, "n"), (0x1FA, "A"), (0x1FB, "a"), (0x1FC, "Æ"), (0x1FD, "æ"),
    (0x1FE, "Ø"), (0x1FF, "ø"), (0x200, "A"), (0x201, "a"), (0x202, "A"), (0x203, "a"),
    (0x204, "E"), (0x205, "e"), (0x206, "E"), (0x207, "e"), (0x208, "I"), (0x209, "i"),
    (0x20A, "I"), (0x20B, "i"), (0x20C, "O"), (0x20D, "o"), (0x20E, "O"), (0x20F, "o"),
    (0x210, "R"), (0x211, "r"), (0x212, "R"), (0x213, "r"), (0x214, "U"), (0x215, "u"),
    (0x216, "U"), (0x217, "u"), (0x218, "S"), (0x219, "s"), (0x21A, "T"), (0x21B, "t"),
    (0x21E, "H"), (0x21F, "h"), (0x226, "A"), (0x227, "a"), (0x228, "E"), (0x229, "e"),
    (0x22A, "O"), (0x22B, "o"), (0x22C, "O"), (0x22D, "o"), (0x22E, "O"), (0x22F, "o"),
    (0x230, "O"), (0x231, "o"), (0x232, "Y"), (0x233, "y"), (0x374, "ʹ"), (0x37E, "\u{3b}"),
    (0x385, "¨"), (0x386, "Α"), (0x387, "\u{b7}"), (0x388, "Ε"), (0x389, "Η"), (0x38A, "Ι"),
    (0x38C, "Ο"), (0x38E, "Υ"), (0x38F, "Ω"), (0x390, "ι"), (0x3AA, "Ι"), (0x3AB, "Υ"),
    (0x3AC, "α"), (0x3AD, "ε"), (0x3AE, "η"), (0x3AF, "ι"), (0x3B0, "υ"), (0x3CA, "ι"),
    (0x3CB, "υ"), (0x3CC, "ο"), (0x3CD, "υ"), (0x3CE, "ω"), (0x3D3, "ϒ"), (0x3D4, "ϒ"),
    (0x400, "Е"), (0x401, "Е"), (0x403, "Г"), (0x407, "І"), (0x40C, "К"), (0x40D, "И"),
    (0x40E, "У"), (0x419, "И"), (0x439, "и"), (0x450, "е"), (0x451, "е"), (0x453, "г"),
    (0x457, "і"), (0x45C, "к"), (0x45D, "и"), (0x45E, "у"), (0x476, "Ѵ"), (0x477, "ѵ"),
    (0x4C1, "Ж"), (0x4C2, "ж"), (0x4D0, "А"), (0x4D1, "а"), (0x4D2, "А"), (0x4D3, "а"),
    (0x4D6, "Е"), (0x4D7, "е"), (0x4DA, "Ә"), (0x4DB, "ә"), (0x4DC, "Ж"), (0x4DD, "ж"),
    (0x4DE, "З"), (0x4DF, "з"), (0x4E2, "И"), (0x4E3, "и"), (0x4E4, "И"), (0x4E5, "и"),
    (0x4E6, "О"), (0x4E7, "о"), (0x4EA, "Ө"), (0x4EB, "ө"), (0x4EC, "Э"), (0x4ED, "э"),
    (0x4EE, "У"), (0x4EF, "у"), (0x4F0, "У"), (0x4F1, "у"), (0x4F2, "У"), (0x4F3, "у"),
    (0x4F4, "Ч"), (0x4F5, "ч"), (0x4F8, "Ы"), (0x4F9, "ы"), (0x622, "ا"), (0x623, "ا"),
    (0x624, "و"), (0x625, "ا"), (0x626, "ي"), (0x6C0, "ە"), (0x6C2, "ہ"), (0x6D3, "ے"),
    (0x929, "न"), (0x931, "र"), (0x934, "ळ"), (0x958, "क"), (0x959, "ख"), (0x95A, "ग"),
    (0x95B, "ज"), (0x95C, "ड"), (0x95D, "ढ"), (0x95E, "फ"), (0x95F, "य"),
    (0x9CB, "\u{9c7}\u{9be}"), (0x9CC, "\u{9c7}\u{9d7}"), (0x9DC, "ড"), (0x9DD, "ঢ"), (0x9DF, "য"),
    (0xA33, "ਲ"), (0xA36, "ਸ"), (0xA59, "ਖ"), (0xA5A, "ਗ"), (0xA5B, "ਜ"), (0xA5E, "ਫ"),
    (0xB48, "\u{b47}"), (0xB4B, "\u{b47}\u{b3e}"), (0xB4C, "\u{b47}\u{b57}"), (0xB5C, "ଡ"),
    (0xB5D, "ଢ"), (0xB94, "ஒ\u{bd7}"), (0xBCA, "\u{bc6}\u{bbe}"), (0xBCB, "\u{bc7}\u{bbe}"),
    (0xBCC, "\u{bc6}\u{bd7}"), (0xCC0, "\u{cd5}"), (0xCC7, "\u{cd5}"), (0xCC8, "\u{cd6}"),
    (0xCCA, "\u{cc2}"), (0xCCB, "\u{cc2}\u{cd5}"), (0xD4A, "\u{d46}\u{d3e}"),
    (0xD4B, "\u{d47}\u{d3e}"), (0xD4C, "\u{d46}\u{d57}"), (0xDDA, "\u{dd9}"),
    (0xDDC, "\u{dd9}\u{dcf}"), (0xDDD, "\u{dd9}\u{dcf}"), (0xDDE, "\u{dd9}\u{ddf}"), (0xF43, "ག"),
    (0xF4D, "ཌ"), (0xF52, "ད"), (0xF57, "བ"), (0xF5C, "ཛ"), (0xF69, "ཀ"), (0x1026, "ဥ"),
    (0x1B06, "ᬅ\u{1b35}"), (0x1B08, "ᬇ\u{1b35}"), (0x1B0A, "ᬉ\u{1b35}"), (0x1B0C, "ᬋ\u{1b35}"),
    (0x1B0E, "ᬍ\u{1b35}"), (0x1B12, "ᬑ\u{1b35}"), (0x1B3B, "\u{1b35}"), (0x1B3D, "\u{1b35}"),
    (0x1B40, "\u{1b3e}\u{1b35}"), (0x1B41, "\u{1b3f}\u{1b35}"), (0x1B43, "\u{1b35}"),
    (0x1E00, "A"), (0x1E01, "a"), (0x1E02, "B"), (0x1E03, "b"), (0x1E04, "B"), (0x1E05, "b"),
    (0x1E06, "B"), (0x1E07, "b"), (0x1E08, "C"), (0x1E09, "c"), (0x1E0A, "D"), (0x1E0B, "d"),
    (0x1E0C, "D"), (0x1E0D, "d"), (0x1E0E, "D"), (0x1E0F, "d"), (0x1E10, "D"), (0x1E11, "d"),
    (0x1E12, "D"), (0x1E13, "d"), (0x1E14, "E"), (0x1E15, "e"), (0x1E16, "E"), (0x1E17, "e"),
    (0x1E18, "E"), (0x1E19, "e"), (0x1E1A, "E"), (0x1E1B, "e"), (0x1E1C, "E"), (0x1E1D, "e"),
    (0x1E1E, "F"), (0x1E1F, "f"), (0x1E20, "G"), (0x1E21, "g"), (0x1E22, "H"), (0x1E23, "h"),
    (0x1E24, "H"), (0x1E25, "h"), (0x1E26, "H"), (0x1E27, "h"), (0x1E28, "H"), (0x1E29, "h"),
    (0x1E2A, "H"), (0x1E2B, "h"), (0x1E2C, "I"), (0x1E2D, "i"), (0x1E2E, "I"), (0x1E2F, "i"),
    (0x1E30, "K"), (0x1E31, "k"), (0x1E32, "K"), (0x1E33, "k"), (0x1E34, "K"), (0x1E35, "k"),
    (0x1E36, "L"), (0x1E37, "l"), (0x1E38, "L"), (0x1E39, "l"), (0x1E3A, "L"), (0x1E3B, "l"),
    (0x1E3C, "L"), (0x1E3D, "l"), (0x1E3E, "M"), (0x1E3F, "m"), (0x1E40, "M"), (0x1E41, "m"),
    (0x1E42, "M"), (0x1E43, "m"), (0x1E44, "N"), (0x1E45, "n"), (0x1E46, "N"), (0x1E47, "n"),
    (0x1E48, "N"), (0x1E49, "n"), (0x1E4A, "N"), (0x1E4B, "n"), (0x1E4C, "O"), (0x1E4D, "o"),
    (0x1E4E, "O"), (0x1E4F, "o"), (0x1E50, "O"), (0x1E51, "o"), (0x1E52, "O"), (0x1E53, "o"),
    (0x1E54, "P"), (0x1E55, "p"), (0x1E56, "P"), (0x1E57, "p"), (0x1E58, "R"), (0x1E59, "r"),
    (0x1E5A, "R"), (0x1E5B, "r"), (0x1E5C, "R"), (0x1E5D, "r"), (0x1E5E, "R"), (0x1E5F, "r"),
    (0x1E60, "S"), (0x1E61, "s"), (0x1E62, "S"), (0x1E63, "s"), (0x1E64, "S"), (0x1E65, "s"),
    (0x1E66, "S"), (0x1E67, "s"), (0x1E68, "S"), (0x1E69, "s"), (0x1E6A, "T"), (0x1E6B, "t"),
    (0x1E6C, "T"), (0x1E6D, "t"), (0x1E6E, "T"), (0x1E6F, "t"), (0x1E70, "T"), (0x1E71, "t"),
    (0x1E72, "U"), (0x1E73, "u"), (0x1E74, "U"), (0x1E75, "u"), (0x1E76, "U"), (0x1E77, "u"),
    (0x1E78, "U"), (0x1E79, "u"), (0x1E7A, "U"), (0x1E7B, "u"), (0x1E7C, "V"), (0x1E7D, "v"),
    (0x1E7E, "V"), (0x1E7F, "v"), (0x1E80, "W"), (0x1E81, "w"), (0x1E82, "W"), (0x1E83, "w"),
    (0x1E84, "W"), (0x1E85, "w"), (0x1E86, "W"), (0x1E87, "w"), (0x1E88, "W"), (0x1E89, "w"),
    (0x1E8A, "X"), (0x1E8B, "x"), (0x1E8C, "X"), (0x1E8D, "x"), (0x1E8E, "Y"), (0x1E8F, "y"),
    (0x1E90, "Z"), (0x1E91, "z"), (0x1E92, "Z"), (0x1E93, "z"), (0x1E94, "Z"), (0x1E95, "z"),
    (0x1E96, "h"), (0x1E97, "t"), (0x1E98, "w"), (0x1E99, "y"), (0x1E9B, "ſ"), (0x1EA0, "A"),
    (0x1EA1, "a"), (0x1EA2, "A"), (0x1EA3, "a"), (0x1EA4, "A"), (0x1EA5, "a"), (0x1EA6, "A"),
    (0x1EA7, "a"), (0x1EA8, "A"), (0x1EA9, "a"), (0x1EAA, "A"), (0x1EAB, "a"), (0x1EAC, "A"),
    (0x1EAD, "a"), (0x1EAE, "A"), (0x1EAF, "a"), (0x1EB0, "A"), (0x1EB1, "a"), (0x1EB2, "A"),
    (0x1EB3, "a"), (0x1EB4, "A"), (0x1EB5, "a"), (0x1EB6, "A"), (0x1EB7, "a"), (0x1EB8, "E"),
    (0x1EB9, "e"), (0x1EBA, "E"), (0x1EBB, "e"), (0x1EBC, "E"), (0x1EBD, "e"), (0x1EBE, "E"),
    (0x1EBF, "e"), (0x1EC0, "E"), (0x1EC1, "e"), (0x1EC2, "E"), (0x1EC3, "e"), (0x1EC4, "E"),
    (0x1EC5, "e"), (0x1EC6, "E"), (0x1EC7, "e"), (0x1EC8, "I"), (0x1EC9, "i"), (0x1ECA, "I"),
    (0x1ECB, "i"), (0x1ECC, "O"), (0x1ECD, "o"), (0x1ECE, "O"), (0x1ECF, "o"), (0x1ED0, "O"),
    (0x1ED1, "o"), (0x1ED2, "O"), (0x1ED3, "o"), (0x1ED4, "O"), (0x1ED5, "o"), (0x1ED6, "O"),
    (0x1ED7, "o"), (0x1ED8, "O"), (0x1ED9, "o"), (0x1EDA, "O"), (0x1EDB, "o"), (0x1EDC, "O"),
    (0x1EDD, "o"), (0x1EDE, "O"), (0x1EDF, "o"), (0x1EE0, "O"), (0x1EE1, "o"), (0x1EE2, "O"),
    (0x1EE3, "o"), (0x1EE4, "U"), (0x1EE5, "u"), (0x1EE6, "U"), (0x1EE7, "u"), (0x1EE8, "U"),
    (0x1EE9, "u"), (0x1EEA, "U"), (0x1EEB, "u"), (0x1EEC, "U"), (0x1EED, "u"), (0x1EEE, "U"),
    (0x1EEF, "u"), (0x1EF0, "U"), (0x1EF1, "u"), (0x1EF2, "Y"), (0x1EF3, "y"), (0x1EF4, "Y"),
    (0x1EF5, "y"), (0x1EF6, "Y"), (0x1EF7, "y"), (0x1EF8, "Y"), (0x1EF9, "y"), (0x1F00, "α"),
    (0x1F01, "α"), (0x1F02, "α"), (0x1F03, "α"), (0x1F04, "α"), (0x1F05, "α"), (0x1F06, "α"),
    (0x1F07, "α"), (0x1F08, "Α"), (0x1F09, "Α"), (0x1F0A, "Α"), (0x1F0B, "Α"), (0x1F0C, "Α"),
    (0x1F0D, "Α"), (0x1F0E, "Α"), (0x1F0F, "Α"), (0x1F10, "ε"), (0x1F11, "ε"), (0x1F12, "ε"),
    (0x1F13, "ε"), (0x1F14, "ε"), (0x1F15, "ε"), (0x1F18, "Ε"), (0x1F19, "Ε"), (0x1F1A, "Ε"),
    (0x1F1B, "Ε"), (0x1F1C, "Ε"), (0x1F1D, "Ε"), (0x1F20, "η"), (0x1F21, "η"), (0x1F22, "η"),
    (0x1F23, "η"), (0x1F24, "η"), (0x1F25, "η"), (0x1F26, "η"), (0x1F27, "η"), (0x1F28, "Η"),
    (0x1F29, "Η"), (0x1F2A, "Η"), (0x1F2B, "Η"), (0x1F2C, "Η"), (0x1F2D, "Η"), (0x1F2E, "Η"),
    (0x1F2F, "Η"), (0x1F30, "ι"), (0x1F31, "ι"), (0x1F32, "ι"), (0x1F33, "ι"), (0x1F34, "ι"),
    (0x1F35, "ι"), (0x1F36, "ι"), (0x1F37, "ι"), (0x1F38, "Ι"), (0x1F39, "Ι"), (0x1F3A, "Ι"),
    (0x1F3B, "Ι"), (0x1F3C, "Ι"), (0x1F3D, "Ι"), (0x1F3E, "Ι"), (0x1F3F, "Ι"), (0x1F40, "ο"),
    (0x1F41, "ο"), (0x1F42, "ο"), (0x1F43, "ο"), (0x1F44, "ο"), (0x1F45, "ο"), (0x1F48, "Ο"),
    (0x1F49, "Ο"), (0x1F4A, "Ο"), (0x1F4B, "Ο"), (0x1F4C, "Ο"), (0x1F4D, "Ο"), (0x1F50, "υ"),
    (0x1F51, "υ"), (0x1F52, "υ"), (0x1F53, "υ"), (0x1F54, "υ"), (0x1F55, "υ"), (0x1F56, "υ"),
    (0x1F57, "υ"), (0x1F59, "Υ"), (0x1F5B, "Υ"), (0x1F5D, "Υ"), (0x1F5F, "Υ"), (0x1F60, "ω"),
    (0x1F61, "ω"), (0x1F62, "ω"), (0x1F63, "ω"), (0x1F64, "ω"), (0x1F65, "ω"), (0x1F66, "ω"),
    (0x1F67, "ω"), (0x1F68, "Ω"), (0x1F69, "Ω"), (0x1F6A, "Ω"), (0x1F6B, "Ω"), (0x1F6C, "Ω"),
    (0x1F6D, "Ω"), (0x1F6E, "Ω"), (0x1F6F, "Ω"), (0x1F70, "α"), (0x1F71, "α"), (0x1F72, "ε"),
    (0x1F73, "ε"), (0x1F74, "η"), (0x1F75, "η"), (0x1F76, "ι"), (0x1F77, "ι"), (0x1F78, "ο"),
    (0x1F79, "ο"), (0x1F7A, "υ"), (0x1F7B, "υ"), (0x1F7C, "ω"), (0x1F7D, "ω"), (0x1F80, "α"),
    (0x1F81, "α"), (0x1F82, "α"), (0x1F83, "α"), (0x1F84, "α"), (0x1F85, "α"), (0x1F86, "α"),
    (0x1F87, "α"), (0x1F88, "Α"), (0x1F89, "Α"), (0x1F8A, "Α"), (0x1F8B, "Α"), (0x1F8C, "Α"),
    (0x1F8D, "Α"), (0x1F8E, "Α"), (0x1F8F, "Α"), (0x1F90, "η"), (0x1F91, "η"), (0x1F92, "η"),
    (0x1F93, "η"), (0x1F94, "η"), (0x1F95, "η"), (0x1F96, "η"), (0x1F97, "η"), (0x1F98, "Η"),
    (0x1F99, "Η"), (0x1F9A, "Η"), (0x1F9B, "Η"), (0x1F9C, "Η"), (0x1F9D, "Η"), (0x1F9E, "Η"),
    (0x1F9F, "Η"), (0x1FA0, "ω"), (0x1FA1, "ω"), (0x1FA2, "ω"), (0x1FA3, "ω"), (0x1FA4, "ω"),
    (0x1FA5, "ω"), (0x1FA6, "ω"), (0x1FA7, "ω"), (0x1FA8, "Ω"), (0x1FA9, "Ω"), (0x1FAA, "Ω"),
    (0x1FAB, "Ω"), (0x1FAC, "Ω"), (0x1FAD, "Ω"), (0x1FAE, "Ω"), (0x1FAF, "Ω"), (0x1FB0, "α"),
    (0x1FB1, "α"), (0x1FB2, "α"), (0x1FB3, "α"), (0x1FB4, "α"), (0x1FB6, "α"), (0x1FB7, "α"),
    (0x1FB8, "Α"), (0x1FB9, "Α"), (0x1FBA, "Α"), (0x1FBB, "Α"), (0x1FBC, "Α"), (0x1FBE, "ι"),
    (0x1FC1, "¨"), (0x1FC2, "η"), (0x1FC3, "η"), (0x1FC4, "η"), (0x1FC6, "η"), (0x1FC7, "η"),
    (0x1FC8, "Ε"), (0x1FC9, "Ε"), (0x1FCA, "Η"), (0x1FCB, "Η"), (0x1FCC, "Η"), (0x1FCD, "᾿"),
    (0x1FCE, "᾿"), (0x1FCF, "᾿"), (0x1FD0, "ι"), (0x1FD1, "ι"), (0x1FD2, "ι"), (0x1FD3, "ι"),
    (0x1FD6, "ι"), (0x1FD7, "ι"), (0x1FD8, "Ι"), (0x1FD9, "Ι"), (0x1FDA, "Ι"), (0x1FDB, "Ι"),
    (0x1FDD, "῾"), (0x1FDE, "῾"), (0x1FDF, "῾"), (0x1FE0, "υ"), (0x1FE1, "υ"), (0x1FE2, "υ"),
    (0x1FE3, "υ"), (0x1FE4, "ρ"), (0x1FE5, "ρ"), (0x1FE6, "υ"), (0x1FE7, "υ"), (0x1FE8, "Υ"),
    (0x1FE9, "Υ"), (0x1FEA, "Υ"), (0x1FEB, "Υ"), (0x1FEC, "Ρ"), (0x1FED, "¨"), (0x1FEE, "¨"),
    (0x1FEF, "`"), (0x1FF2, "ω"), (0x1FF3, "ω"), (0x1FF4, "ω"), (0x1FF6, "ω"), (0x1FF7, "ω"),
    (0x1FF8, "Ο"), (0x1FF9, "Ο"), (0x1FFA, "Ω"), (0x1FFB, "Ω"), (0x1FFC, "Ω"), (0x1FFD, "´"),
    (0x2000, "\u{2002}"), (0x2001, "\u{2003}"), (0x2126, "Ω"), (0x212A, "K"), (0x212B, "A"),
    (0x219A, "←"), (0x219B, "→"), (0x21AE, "↔"), (0x21CD, "⇐"), (0x21CE, "⇔"), (0x21CF, "⇒"),
    (0x2204, "∃"), (0x2209, "∈"), (0x220C, "∋"), (0x2224, "∣"), (0x2226, "∥"), (0x2241, "∼"),
    (0x2244, "≃"), (0x2247, "≅"), (0x2249, "≈"), (0x2260, "="), (0x2262, "≡"), (0x226D, "≍"),
    (0x226E, "<"), (0x226F, ">"), (0x2270, "≤"), (0x2271, "≥"), (0x2274, "≲"), (0x2275, "≳"),
    (0x2278, "≶"), (0x2279, "≷"), (0x2280, "≺"), (0x2281, "≻"), (0x2284, "⊂"), (0x2285, "⊃"),
    (0x2288, "⊆"), (0x2289, "⊇"), (0x22AC, "⊢"), (0x22AD, "⊨"), (0x22AE, "⊩"), (0x22AF, "⊫"),
    (0x22E0, "≼"), (0x22E1, "≽"), (0x22E2, "⊑"), (0x22E3, "⊒"), (0x22EA, "⊲"), (0x22EB, "⊳"),
    (0x22EC, "⊴"), (0x22ED, "⊵"), (0x2329, "\u{3008}"), (0x232A, "\u{3009}"), (0x2ADC, "⫝"),
    (0x304C, "か"), (0x304E, "き"), (0x3050, "く"), (0x3052, "け"), (0x3054, "こ"), (0x3056, "さ"),
    (0x3058, "し"), (0x305A, "す"), (0x305C, "せ"), (0x305E, "そ"), (0x3060, "た"), (0x3062, "ち"),
    (0x3065, "つ"), (0x3067, "て"), (0x3069, "と"), (0x3070, "は"), (0x3071, "は"), (0x3073, "ひ"),
    (0x3074, "ひ"), (0x3076, "ふ"), (0x3077, "ふ"), (0x3079, "へ"), (0x307A, "へ"), (0x307C, "ほ"),
    (0x307D, "ほ"), (0x3094, "う"), (0x309E, "ゝ"), (0x30AC, "カ"), (0x30AE, "キ"), (0x30B0, "ク"),
    (0x30B2, "ケ"), (0x30B4, "コ"), (0x30B6, "サ"), (0x30B8, "シ"), (0x30BA, "ス"), (0x30BC, "セ"),
    (0x30BE, "ソ"), (0x30C0, "タ"), (0x30C2, "チ"), (0x30C5, "ツ"), (0x30C7, "テ"), (0x30C9, "ト"),
    (0x30D0, "ハ"), (0x30D1, "ハ"), (0x30D3, "ヒ"), (0x30D4, "ヒ"), (0x30D6, "フ"), (0x30D7, "フ"),
    (0x30D9, "ヘ"), (0x30DA, "ヘ"), (0x30DC, "ホ"), (0x30DD, "ホ"), (0x30F4, "ウ"), (0x30F7, "ワ"),
    (0x30F8, "ヰ"), (0x30F9, "ヱ"), (0x30FA, "ヲ"), (0x30FE, "ヽ"), (0xFB1D, "י"), (0xFB1F, "ײ"),
    (0xFB2A, "ש"), (0xFB2B, "ש"), (0xFB2C, "ש"), (0xFB2D, "ש"), (0xFB2E, "א"), (0xFB2F, "א"),
    (0xFB30, "א"), (0xFB31, "ב"), (0xFB32, "ג"), (0xFB33, "ד"), (0xFB34, "ה"), (0xFB35, "ו"),
    (0xFB36, "ז"), (0xFB38, "ט"), (0xFB39, "י"), (0xFB3A, "ך"), (0xFB3B, "כ"), (0xFB3C, "ל"),
    (0xFB3E, "מ"), (0xFB40, "נ"), (0xFB41, "ס"), (0xFB43, "ף"), (0xFB44, "פ"), (0xFB46, "צ"),
    (0xFB47, "ק"), (0xFB48, "ר"), (0xFB49, "ש"), (0xFB4A, "ת"), (0xFB4B, "ו"), (0xFB4C, "ב"),
    (0xFB4D, "כ"), (0xFB4E, "פ"),
];

/// CJK compatibility ideographs and their canonical (unified) ideographs, in pairs.
#[rustfmt::skip]
const CJK_COMPAT: &str = "\
豈豈更更車車賈賈滑滑串串句句龜龜龜龜契契金金喇喇奈奈懶懶癩癩羅羅蘿蘿螺螺裸裸邏邏\
樂樂洛洛烙烙珞珞落落酪酪駱駱亂亂卵卵欄欄爛爛蘭蘭鸞鸞嵐嵐濫濫藍藍襤襤拉拉臘臘蠟蠟\
廊廊朗朗浪浪狼狼郎郎來來冷冷勞勞擄擄櫓櫓爐爐盧盧老老蘆蘆虜虜路路露露魯魯鷺鷺碌碌\
祿祿綠綠菉菉錄錄鹿鹿論論壟壟弄弄籠籠聾聾牢牢磊磊賂賂雷雷壘壘屢屢樓樓淚淚漏漏累累\
縷縷陋陋勒勒肋肋凜凜凌凌稜稜綾綾菱菱陵陵讀讀拏拏樂樂諾諾丹丹寧寧怒怒率率異異北北\
磻磻便便復復不不泌泌數數索索參參塞塞省省葉葉說說殺殺辰辰沈沈拾拾若若掠掠略略亮亮\
兩兩凉凉梁梁糧糧良良諒諒量量勵勵呂呂女女廬廬旅旅濾濾礪礪閭閭驪驪麗麗黎黎力力曆曆\
歷歷轢轢年年憐憐戀戀撚撚漣漣煉煉璉璉秊秊練練聯聯輦輦蓮蓮連連鍊鍊列列劣劣咽咽烈烈\
裂裂說說廉廉念念捻捻殮殮簾簾獵獵令令囹囹寧寧嶺嶺怜怜玲玲瑩瑩羚羚聆聆鈴鈴零零靈靈\
領領例例禮禮醴醴隸隸惡惡了了僚僚寮寮尿尿料料樂樂燎燎療療蓼蓼遼遼龍龍暈暈阮阮劉劉\
杻杻柳柳流流溜溜琉琉留留硫硫紐紐類類六六戮戮陸陸倫倫崙崙淪淪輪輪律律慄慄栗栗率率\
隆隆利利吏吏履履易易李李梨梨泥泥理理痢痢罹罹裏裏裡裡里里離離匿匿溺溺吝吝燐燐璘璘\
藺藺隣隣鱗鱗麟麟林林淋淋臨臨立立笠笠粒粒狀狀炙炙識識什什茶茶刺刺切切度度拓拓糖糖\
宅宅洞洞暴暴輻輻行行降降見見廓廓兀兀嗀嗀塚塚晴晴凞凞猪猪益益礼礼神神祥祥福福靖靖\
精精羽羽蘒蘒諸諸逸逸都都飯飯飼飼館館鶴鶴郞郞隷隷侮侮僧僧免免勉勉勤勤卑卑喝喝嘆嘆\
器器塀塀墨墨層層屮屮悔悔慨慨憎憎懲懲敏敏既既暑暑梅梅海海渚渚漢漢煮煮爫爫琢琢碑碑\
社社祉祉祈祈祐祐祖祖祝祝禍禍禎禎穀穀突突節節練練縉縉繁繁署署者者臭臭艹艹艹艹著著\
褐褐視視謁謁謹謹賓賓贈贈辶辶逸逸難難響響頻頻恵恵𤋮𤋮舘舘並並况况全全侀侀充充冀冀\
勇勇勺勺喝喝啕啕喙喙嗢嗢塚塚墳墳奄奄奔奔婢婢嬨嬨廒廒廙廙彩彩徭徭惘惘慎慎愈愈憎憎\
慠慠懲懲戴戴揄揄搜搜摒摒敖敖晴晴朗朗望望杖杖歹歹殺殺流流滛滛滋滋漢漢瀞瀞煮煮瞧瞧\
爵爵犯犯猪猪瑱瑱甆甆画画瘝瘝瘟瘟益益盛盛直直睊睊着着磌磌窱窱節節类类絛絛練練缾缾\
者者荒荒華華蝹蝹襁襁覆覆視視調調諸諸請請謁謁諾諾諭諭謹謹變變贈贈輸輸遲遲醙醙鉶鉶\
陼陼難難靖靖韛韛響響頋頋頻頻鬒鬒龜龜𢡊𢡊𢡄𢡄𣏕𣏕㮝㮝䀘䀘䀹䀹𥉉𥉉𥳐𥳐𧻓𧻓齃齃龎龎\
丽丽丸丸乁乁𠄢𠄢你你侮侮侻侻倂倂偺偺備備僧僧像像㒞㒞𠘺𠘺免免兔兔兤兤具具𠔜𠔜㒹㒹\
內內再再𠕋𠕋冗冗冤冤仌仌冬冬况况𩇟𩇟凵凵刃刃㓟㓟刻刻剆剆割割剷剷㔕㔕勇勇勉勉勤勤\
勺勺包包匆匆北北卉卉卑卑博博即即卽卽卿卿卿卿卿卿𠨬𠨬灰灰及及叟叟𠭣𠭣叫叫叱叱吆吆\
咞咞吸吸呈呈周周咢咢哶哶唐唐啓啓啣啣善善善善喙喙喫喫喳喳嗂嗂圖圖嘆嘆圗圗噑噑噴噴\
切切壮壮城城埴埴堍堍型型堲堲報報墬墬𡓤𡓤売売壷壷夆夆多多夢夢奢奢𡚨𡚨𡛪𡛪姬姬娛娛\
娧娧姘姘婦婦㛮㛮㛼㛼嬈嬈嬾嬾嬾嬾𡧈𡧈寃寃寘寘寧寧寳寳𡬘𡬘寿寿将将当当尢尢㞁㞁屠屠\
屮屮峀峀岍岍𡷤𡷤嵃嵃𡷦𡷦嵮嵮嵫嵫嵼嵼巡巡巢巢㠯㠯巽巽帨帨帽帽幩幩㡢㡢𢆃𢆃㡼㡼庰庰\
庳庳庶庶廊廊𪎒𪎒廾廾𢌱𢌱𢌱𢌱舁舁弢弢弢弢㣇㣇𣊸𣊸𦇚𦇚形形彫彫㣣㣣徚徚忍忍志志忹忹\
悁悁㤺㤺㤜㤜悔悔𢛔𢛔惇惇慈慈慌慌慎慎慌慌慺慺憎憎憲憲憤憤憯憯懞懞懲懲懶懶成成戛戛\
扝扝抱抱拔拔捐捐𢬌𢬌挽挽拼拼捨捨掃掃揤揤𢯱𢯱搢搢揅揅掩掩㨮㨮摩摩摾摾撝撝摷摷㩬㩬\
敏敏敬敬𣀊𣀊旣旣書書晉晉㬙㬙暑暑㬈㬈㫤㫤冒冒冕冕最最暜暜肭肭䏙䏙朗朗望望朡朡杞杞\
杓杓𣏃𣏃㭉㭉柺柺枅枅桒桒梅梅𣑭𣑭梎梎栟栟椔椔㮝㮝楂楂榣榣槪槪檨檨𣚣𣚣櫛櫛㰘㰘次次\
𣢧𣢧歔歔㱎㱎歲歲殟殟殺殺殻殻𣪍𣪍𡴋𡴋𣫺𣫺汎汎𣲼𣲼沿沿泍泍汧汧洖洖派派海海流流浩浩\
浸浸涅涅𣴞𣴞洴洴港港湮湮㴳㴳滋滋滇滇𣻑𣻑淹淹潮潮𣽞𣽞𣾎𣾎濆濆瀹瀹瀞瀞瀛瀛㶖㶖灊灊\
災災灷灷炭炭𠔥𠔥煅煅𤉣𤉣熜熜𤎫𤎫爨爨爵爵牐牐𤘈𤘈犀犀犕犕𤜵𤜵𤠔𤠔獺獺王王㺬㺬玥玥\
㺸㺸㺸㺸瑇瑇瑜瑜瑱瑱璅璅瓊瓊㼛㼛甤甤𤰶𤰶甾甾𤲒𤲒異異𢆟𢆟瘐瘐𤾡𤾡𤾸𤾸𥁄𥁄㿼㿼䀈䀈\
直直𥃳𥃳𥃲𥃲𥄙𥄙𥄳𥄳眞眞真真真真睊睊䀹䀹瞋瞋䁆䁆䂖䂖𥐝𥐝硎硎碌碌磌磌䃣䃣𥘦𥘦祖祖\
𥚚𥚚𥛅𥛅福福秫秫䄯䄯穀穀穊穊穏穏𥥼𥥼𥪧𥪧𥪧𥪧竮竮䈂䈂𥮫𥮫篆篆築築䈧䈧𥲀𥲀糒糒䊠䊠\
糨糨糣糣紀紀𥾆𥾆絣絣䌁䌁緇緇縂縂繅繅䌴䌴𦈨𦈨𦉇𦉇䍙䍙𦋙𦋙罺罺𦌾𦌾羕羕翺翺者者𦓚𦓚\
𦔣𦔣聠聠𦖨𦖨聰聰𣍟𣍟䏕䏕育育脃脃䐋䐋脾脾媵媵𦞧𦞧𦞵𦞵𣎓𣎓𣎜𣎜舁舁舄舄辞辞䑫䑫芑芑\
芋芋芝芝劳劳花花芳芳芽芽苦苦𦬼𦬼若若茝茝荣荣莭莭茣茣莽莽菧菧著著荓荓菊菊菌菌菜菜\
𦰶𦰶𦵫𦵫𦳕𦳕䔫䔫蓱蓱蓳蓳蔖蔖𧏊𧏊蕤蕤𦼬𦼬䕝䕝䕡䕡𦾱𦾱𧃒𧃒䕫䕫虐虐虜虜虧虧虩虩蚩蚩\
蚈蚈蜎蜎蛢蛢蝹蝹蜨蜨蝫蝫螆螆䗗䗗蟡蟡蠁蠁䗹䗹衠衠衣衣𧙧𧙧裗裗裞裞䘵䘵裺裺㒻㒻𧢮𧢮\
𧥦𧥦䚾䚾䛇䛇誠誠諭諭變變豕豕𧲨𧲨貫貫賁賁贛贛起起𧼯𧼯𠠄𠠄跋跋趼趼跰跰𠣞𠣞軔軔輸輸\
𨗒𨗒𨗭𨗭邔邔郱郱鄑鄑𨜮𨜮鄛鄛鈸鈸鋗鋗鋘鋘鉼鉼鏹鏹鐕鐕𨯺𨯺開開䦕䦕閷閷𨵷𨵷䧦䧦雃雃\
嶲嶲霣霣𩅅𩅅𩈚𩈚䩮䩮䩶䩶韠韠𩐊𩐊䪲䪲𩒖𩒖頋頋頋頋頩頩𩖶𩖶飢飢䬳䬳餩餩馧馧駂駂駾駾\
䯎䯎𩬰𩬰鬒鬒鱀鱀鳽鳽䳎䳎䳭䳭鵧鵧𪃎𪃎䳸䳸𪄅𪄅𪈎𪈎𪊑𪊑麻麻䵖䵖黹黹黾黾鼅鼅鼏鼏鼖鼖\
鼻鼻𪘀𪘀";

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> WordPiece {
        let tokens = [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "man", "in", "red", "jack", "##et", "##s",
            ",", ".", "-", "t", "shirt", "cafe", "##e", "un", "##aff", "##able", "的",
        ];
        WordPiece::from_tokens(tokens).unwrap()
    }

    #[test]
    fn normalizes_like_bert() {
        assert_eq!(normalize("Café\tNAÏVE\u{200B}!"), "cafe naive!");
        assert_eq!(normalize("a\u{0}b\u{FFFD}c"), "abc");
        assert_eq!(normalize("的人"), " 的  人 ");
        assert_eq!(normalize("Ångström ŁÓDŹ"), "angstrom łodz");
        assert_eq!(
            normalize("\u{F900}한"),
            " \u{8C48} \u{1112}\u{1161}\u{11AB}"
        );
        assert_eq!(
            pre_tokenize("t-shirt, a…b"),
            ["t", "-", "shirt", ",", "a", "…", "b"]
        );
    }

    #[test]
    fn greedy_longest_match_with_continuations() {
        let wp = tiny();
        // [CLS] a man in red jacket , t - shirt . [SEP]
        assert_eq!(
            wp.encode("A man in RED jacket, T-shirt.", 64),
            [2, 4, 5, 6, 7, 8, 9, 11, 14, 13, 15, 12, 3]
        );
        assert_eq!(wp.tokenize("unaffable jackets"), [18, 19, 20, 8, 9, 10]);
        // No piece for "z": the whole word is unknown.
        assert_eq!(wp.tokenize("jackz man"), [1, 5]);
        assert_eq!(wp.tokenize(&"a".repeat(101)), [1]);
        assert_eq!(wp.tokenize("Café 的"), [16, 21]);
    }

    #[test]
    fn truncates_to_max_len() {
        let wp = tiny();
        assert_eq!(wp.encode("a man in red jacket", 5), [2, 4, 5, 6, 3]);
        assert_eq!(wp.encode("jacket jacket", 4), [2, 8, 9, 3]);
        assert_eq!(wp.encode("a man", 0), [2, 3]);
        assert_eq!(wp.encode("", 8), [2, 3]);
    }

    #[test]
    fn special_tokens_in_the_text_stand_for_themselves() {
        let wp = tiny();
        assert_eq!(wp.tokenize("a[SEP]man [UNK]jacket"), [4, 3, 5, 1, 8, 9]);
        // Only the exact spelling is special.
        assert_eq!(wp.tokenize("[cls]"), [1, 1, 1]);
        assert_eq!(wp.encode("[CLS]", 8), [2, 2, 3]);
    }
}
