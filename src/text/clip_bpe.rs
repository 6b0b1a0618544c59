//! CLIP's byte-level BPE tokenizer (OpenAI `clip/simple_tokenizer.py`), used to feed
//! single words to a CLIP text tower when building the word dictionary.
//!
//! Reads the standard merges file `bpe_simple_vocab_16e6.txt.gz` (it ships inside the
//! `openai-clip` / `open_clip_torch` wheels), gzip-compressed or already unpacked (plain
//! text, recognised by the absence of the gzip magic bytes). The vocabulary is built as
//! OpenAI builds it: the 256 byte symbols, the same with `</w>`, the first
//! 48 894 merges, then `<|startoftext|>` (49406) and `<|endoftext|>` (49407).
//!
//! Text cleaning differs from the reference in one respect: `ftfy.fix_text` (mojibake
//! repair, NFC normalisation, ...) is not available, so it is skipped; text that is
//! already clean NFC (every English vocabulary word) is unaffected. The rest is done by
//! hand, following the reference: HTML entities are unescaped twice as Python's
//! `html.unescape` does (same numeric-reference rules, same longest-prefix rule for
//! names, but only the 106 HTML4 entities plus some common typographic ones, not the
//! full HTML5 table of 2 231), whitespace runs (`\s`) collapse to one space and the ends
//! are stripped, the text is lower-cased (Rust's `to_lowercase`, which can differ from
//! Python's `str.lower` only for characters added in recent Unicode versions), and it is
//! split with CLIP's pattern `<|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|
//! \p{L}+|\p{N}|[^\s\p{L}\p{N}]+`, alternatives tried in order. `\p{L}`, `\p{N}` and
//! `\s` come from tables generated from the `regex` module itself
//! (tests/fixtures/gen_clip_bpe_tables.py).
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// `<|startoftext|>`.
pub const SOT_ID: i64 = 49406;
/// `<|endoftext|>`.
pub const EOT_ID: i64 = 49407;
/// CLIP's context length.
pub const CONTEXT_LENGTH: usize = 77;
/// Merges the reference keeps: lines `1..=49152-256-2` of the file.
const MERGES: usize = 49152 - 256 - 2;

#[derive(Debug, thiserror::Error)]
pub enum ClipBpeError {
    #[error("cannot read BPE merges file {path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("BPE merges file {path}: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error(
        "`{text}` is {len} tokens with <|startoftext|> and <|endoftext|>; the context holds {max}"
    )]
    TooLong {
        text: String,
        len: usize,
        max: usize,
    },
}

/// The tokenizer: BPE ranks and the symbol → id table.
pub struct ClipBpe {
    encoder: HashMap<String, i64>,
    ranks: HashMap<(String, String), usize>,
    byte_encoder: [char; 256],
    cache: std::sync::Mutex<HashMap<String, Vec<i64>>>,
}

/// OpenAI's `bytes_to_unicode`: printable Latin-1 bytes map to themselves, the others to
/// U+0100 onwards in byte order.
fn bytes_to_unicode() -> ([char; 256], Vec<u8>) {
    let mut order: Vec<u8> = Vec::with_capacity(256);
    order.extend(b'!'..=b'~');
    order.extend(0xA1u8..=0xAC);
    order.extend(0xAEu8..=0xFF);
    let mut table = ['\0'; 256];
    for &b in &order {
        table[b as usize] = b as char;
    }
    let mut n = 0u32;
    for b in 0..=255u8 {
        if !order.contains(&b) {
            order.push(b);
            table[b as usize] = char::from_u32(256 + n).expect("valid code point");
            n += 1;
        }
    }
    (table, order)
}

impl ClipBpe {
    /// Reads `bpe_simple_vocab_16e6.txt.gz` (or its unpacked text).
    pub fn load(path: &Path) -> Result<Self, ClipBpeError> {
        let io = |reason: String| ClipBpeError::Io {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| io(e.to_string()))?;
        let text = if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut out = String::new();
            flate2::read::GzDecoder::new(bytes.as_slice())
                .read_to_string(&mut out)
                .map_err(|e| io(format!("gunzip: {e}")))?;
            out
        } else {
            String::from_utf8(bytes).map_err(|e| io(format!("not UTF-8: {e}")))?
        };
        Self::from_merges_text(&text).map_err(|reason| ClipBpeError::Format {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Builds the tokenizer from the merges file's text (first line a header).
    pub fn from_merges_text(text: &str) -> Result<Self, String> {
        let lines: Vec<&str> = text.split('\n').collect();
        if lines.len() < MERGES + 1 {
            return Err(format!(
                "{} lines; CLIP's merges file has at least {}",
                lines.len(),
                MERGES + 1
            ));
        }
        let (byte_encoder, order) = bytes_to_unicode();
        let mut vocab: Vec<String> = order
            .iter()
            .map(|&b| byte_encoder[b as usize].to_string())
            .collect();
        let with_end: Vec<String> = vocab.iter().map(|s| format!("{s}</w>")).collect();
        vocab.extend(with_end);
        let mut ranks = HashMap::with_capacity(MERGES);
        for (rank, line) in lines[1..=MERGES].iter().enumerate() {
            let mut parts = line.split_whitespace();
            let (Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(format!("line {} is not a merge: `{line}`", rank + 2));
            };
            vocab.push(format!("{a}{b}"));
            ranks.insert((a.to_string(), b.to_string()), rank);
        }
        vocab.push("<|startoftext|>".into());
        vocab.push("<|endoftext|>".into());
        let encoder: HashMap<String, i64> = vocab
            .into_iter()
            .enumerate()
            .map(|(i, s)| (s, i as i64))
            .collect();
        if encoder.get("<|startoftext|>") != Some(&SOT_ID)
            || encoder.get("<|endoftext|>") != Some(&EOT_ID)
        {
            return Err("the special tokens do not get ids 49406/49407".into());
        }
        Ok(Self {
            encoder,
            ranks,
            byte_encoder,
            cache: std::sync::Mutex::new(HashMap::new()),
        })
    }

    pub fn vocab_size(&self) -> usize {
        self.encoder.len()
    }

    /// The BPE ids of `text` (no start/end tokens), as `SimpleTokenizer.encode`.
    pub fn encode(&self, text: &str) -> Vec<i64> {
        let cleaned = whitespace_clean(&basic_clean(text)).to_lowercase();
        let mut ids = Vec::new();
        for piece in split_pattern(&cleaned) {
            if piece == "<|startoftext|>" {
                ids.push(SOT_ID);
                continue;
            }
            if piece == "<|endoftext|>" {
                ids.push(EOT_ID);
                continue;
            }
            if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(piece).cloned()) {
                ids.extend(hit);
                continue;
            }
            let symbols: String = piece
                .bytes()
                .map(|b| self.byte_encoder[b as usize])
                .collect();
            let piece_ids: Vec<i64> = self
                .bpe(&symbols)
                .iter()
                .map(|s| {
                    *self
                        .encoder
                        .get(s)
                        .expect("byte-level BPE symbols are all in the vocabulary")
                })
                .collect();
            if let Ok(mut c) = self.cache.lock() {
                c.insert(piece.to_string(), piece_ids.clone());
            }
            ids.extend(piece_ids);
        }
        ids
    }

    /// `[SOT] encode(text) [EOT]`, unpadded; an error when longer than `context`.
    pub fn tokenize(&self, text: &str, context: usize) -> Result<Vec<i64>, ClipBpeError> {
        let mut ids = Vec::with_capacity(8);
        ids.push(SOT_ID);
        ids.extend(self.encode(text));
        ids.push(EOT_ID);
        if ids.len() > context {
            return Err(ClipBpeError::TooLong {
                text: text.to_string(),
                len: ids.len(),
                max: context,
            });
        }
        Ok(ids)
    }

    /// As `clip.tokenize(text)`: `tokenize` padded with zeros to `context`.
    pub fn tokenize_padded(&self, text: &str, context: usize) -> Result<Vec<i64>, ClipBpeError> {
        let mut ids = self.tokenize(text, context)?;
        ids.resize(context, 0);
        Ok(ids)
    }

    /// The merge loop of `SimpleTokenizer.bpe` on one byte-encoded piece.
    fn bpe(&self, token: &str) -> Vec<String> {
        let chars: Vec<char> = token.chars().collect();
        let mut word: Vec<String> = chars.iter().map(|c| c.to_string()).collect();
        if let Some(last) = word.last_mut() {
            last.push_str("</w>");
        }
        if word.len() < 2 {
            return word;
        }
        loop {
            let best = word
                .windows(2)
                .filter_map(|p| {
                    self.ranks
                        .get(&(p[0].clone(), p[1].clone()))
                        .map(|&r| (r, p))
                })
                .min_by_key(|&(r, _)| r)
                .map(|(_, p)| (p[0].clone(), p[1].clone()));
            let Some((first, second)) = best else { break };
            let mut merged = Vec::with_capacity(word.len());
            let mut i = 0;
            while i < word.len() {
                if i + 1 < word.len() && word[i] == first && word[i + 1] == second {
                    merged.push(format!("{first}{second}"));
                    i += 2;
                } else {
                    merged.push(word[i].clone());
                    i += 1;
                }
            }
            word = merged;
            if word.len() == 1 {
                break;
            }
        }
        word
    }
}

/// `basic_clean` without ftfy: HTML-unescape twice, strip.
fn basic_clean(text: &str) -> String {
    html_unescape(&html_unescape(text))
        .trim_matches(is_py_space)
        .to_string()
}

fn in_table(table: &[(u32, u32)], c: char) -> bool {
    let c = c as u32;
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// `\s` of the reference's `regex` patterns.
fn is_space(c: char) -> bool {
    in_table(SPACES, c)
}

/// Python's `str.isspace` (what `str.strip()` removes): `\s` plus U+001C..U+001F.
fn is_py_space(c: char) -> bool {
    is_space(c) || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `\p{L}`.
fn is_letter(c: char) -> bool {
    in_table(LETTERS, c)
}

/// `\p{N}`.
fn is_number(c: char) -> bool {
    in_table(NUMBERS, c)
}

/// `re.sub(r'\s+', ' ', text).strip()`.
fn whitespace_clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_space = false;
    for c in text.chars() {
        if is_space(c) {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            in_space = false;
            out.push(c);
        }
    }
    out.trim_matches(is_py_space).to_string()
}

fn entity(name: &str) -> Option<char> {
    ENTITIES
        .binary_search_by(|&(k, _)| k.cmp(name))
        .ok()
        .and_then(|i| char::from_u32(ENTITIES[i].1))
}

/// A numeric character reference as Python's `html._replace_charref` decodes it.
fn numeric_reference(digits: &str, radix: u32) -> Option<char> {
    // Too many digits for u32 is "greater than 0x10FFFF" as much as a big value is.
    let num = u32::from_str_radix(digits, radix).unwrap_or(u32::MAX);
    if let Ok(i) = INVALID_CHARREFS.binary_search_by_key(&num, |&(k, _)| k) {
        return char::from_u32(INVALID_CHARREFS[i].1);
    }
    if (0xD800..=0xDFFF).contains(&num) || num > 0x10FFFF {
        return Some('\u{FFFD}');
    }
    if INVALID_CODEPOINTS
        .iter()
        .any(|&(lo, hi)| (lo..=hi).contains(&num))
    {
        return None;
    }
    char::from_u32(num)
}

/// Python's `html.unescape` (same pattern, same numeric rules, same longest-prefix rule
/// for names) with a smaller entity table: the 106 HTML4 names that also work without
/// `;` and some common typographic ones (`ENTITIES`); other HTML5 names stay as they are.
fn html_unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let digits_end =
            |s: &str, radix: u32| s.find(|c: char| !c.is_digit(radix)).unwrap_or(s.len());
        let semicolon = |s: &str, at: usize| at + usize::from(s[at..].starts_with(';'));
        let bytes = after.as_bytes();
        if bytes.first() == Some(&b'#') {
            let body = &after[1..];
            let (digits, radix, skip) = if body.starts_with(|c: char| c.is_ascii_digit()) {
                (&body[..digits_end(body, 10)], 10, 1)
            } else if body.starts_with(['x', 'X'])
                && body[1..].starts_with(|c: char| c.is_ascii_hexdigit())
            {
                (&body[1..1 + digits_end(&body[1..], 16)], 16, 2)
            } else {
                out.push('&');
                rest = after;
                continue;
            };
            out.extend(numeric_reference(digits, radix));
            rest = &after[semicolon(after, skip + digits.len())..];
            continue;
        }
        let name_end = after
            .char_indices()
            .take_while(|&(_, c)| !matches!(c, '\t' | '\n' | '\x0c' | ' ' | '<' | '&' | '#' | ';'))
            .take(32)
            .last()
            .map(|(i, c)| i + c.len_utf8())
            .unwrap_or(0);
        if name_end == 0 {
            out.push('&');
            rest = after;
            continue;
        }
        let end = semicolon(after, name_end);
        let s = &after[..end];
        rest = &after[end..];
        if let Some(c) = entity(s) {
            out.push(c);
            continue;
        }
        // The longest prefix of at least 2 characters that is an entity.
        let bounds: Vec<usize> = s.char_indices().map(|(i, _)| i).skip(2).collect();
        match bounds
            .iter()
            .rev()
            .find_map(|&x| entity(&s[..x]).map(|c| (x, c)))
        {
            Some((x, c)) => {
                out.push(c);
                out.push_str(&s[x..]);
            }
            None => {
                out.push('&');
                out.push_str(s);
            }
        }
    }
    out.push_str(rest);
    out
}

/// CLIP's split pattern, alternatives tried in order at each position as `regex` does.
fn split_pattern(text: &str) -> Vec<&str> {
    const SPECIALS: [&str; 2] = ["<|startoftext|>", "<|endoftext|>"];
    const CONTRACTIONS: [&str; 7] = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];
    let mut pieces = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let c = rest.chars().next().expect("non-empty");
        let len = if let Some(s) = SPECIALS
            .iter()
            .chain(CONTRACTIONS.iter())
            .find(|s| rest.starts_with(**s))
        {
            s.len()
        } else if is_letter(c) {
            rest.find(|c: char| !is_letter(c)).unwrap_or(rest.len())
        } else if is_number(c) {
            c.len_utf8()
        } else if is_space(c) {
            i += c.len_utf8();
            continue;
        } else {
            rest.find(|c: char| is_space(c) || is_letter(c) || is_number(c))
                .unwrap_or(rest.len())
        };
        pieces.push(&rest[..len]);
        i += len;
    }
    pieces
}

// Generated by tests/fixtures/gen_clip_bpe_tables.py (regex 2026.11.19, Python 3.11.7).
/// What `regex` matches with `\p{L}`.
const LETTERS: &[(u32, u32)] = &[
    (0x41, 0x5A),
    (0x61, 0x7A),
    (0xAA, 0xAA),
    (0xB5, 0xB5),
    (0xBA, 0xBA),
    (0xC0, 0xD6),
    (0xD8, 0xF6),
    (0xF8, 0x2C1),
    (0x2C6, 0x2D1),
    (0x2E0, 0x2E4),
    (0x2EC, 0x2EC),
    (0x2EE, 0x2EE),
    (0x370, 0x374),
    (0x376, 0x377),
    (0x37A, 0x37D),
    (0x37F, 0x37F),
    (0x386, 0x386),
    (0x388, 0x38A),
    (0x38C, 0x38C),
    (0x38E, 0x3A1),
    (0x3A3, 0x3F5),
    (0x3F7, 0x481),
    (0x48A, 0x52F),
    (0x531, 0x556),
    (0x558, 0x559),
    (0x560, 0x588),
    (0x58B, 0x58C),
    (0x5D0, 0x5EA),
    (0x5EF, 0x5F2),
    (0x620, 0x64A),
    (0x66E, 0x66F),
    (0x671, 0x6D3),
    (0x6D5, 0x6D5),
    (0x6E5, 0x6E6),
    (0x6EE, 0x6EF),
    (0x6FA, 0x6FC),
    (0x6FF, 0x6FF),
    (0x710, 0x710),
    (0x712, 0x72F),
    (0x74D, 0x7A5),
    (0x7B1, 0x7B1),
    (0x7CA, 0x7EA),
    (0x7F4, 0x7F5),
    (0x7FA, 0x7FA),
    (0x800, 0x815),
    (0x81A, 0x81A),
    (0x824, 0x824),
    (0x828, 0x828),
    (0x840, 0x858),
    (0x860, 0x86A),
    (0x870, 0x887),
    (0x889, 0x88F),
    (0x8A0, 0x8C9),
    (0x904, 0x939),
    (0x93D, 0x93D),
    (0x950, 0x950),
    (0x958, 0x961),
    (0x971, 0x980),
    (0x985, 0x98C),
    (0x98F, 0x990),
    (0x993, 0x9A8),
    (0x9AA, 0x9B0),
    (0x9B2, 0x9B2),
    (0x9B6, 0x9B9),
    (0x9BD, 0x9BD),
    (0x9CE, 0x9CE),
    (0x9DC, 0x9DD),
    (0x9DF, 0x9E1),
    (0x9F0, 0x9F1),
    (0x9FC, 0x9FC),
    (0xA05, 0xA0A),
    (0xA0F, 0xA10),
    (0xA13, 0xA28),
    (0xA2A, 0xA30),
    (0xA32, 0xA33),
    (0xA35, 0xA36),
    (0xA38, 0xA39),
    (0xA59, 0xA5C),
    (0xA5E, 0xA5E),
    (0xA72, 0xA74),
    (0xA85, 0xA8D),
    (0xA8F, 0xA91),
    (0xA93, 0xAA8),
    (0xAAA, 0xAB0),
    (0xAB2, 0xAB3),
    (0xAB5, 0xAB9),
    (0xABD, 0xABD),
    (0xAD0, 0xAD0),
    (0xAE0, 0xAE1),
    (0xAF9, 0xAF9),
    (0xB05, 0xB0C),
    (0xB0F, 0xB10),
    (0xB13, 0xB28),
    (0xB2A, 0xB30),
    (0xB32, 0xB33),
    (0xB35, 0xB39),
    (0xB3D, 0xB3D),
    (0xB5C, 0xB5D),
    (0xB5F, 0xB61),
    (0xB71, 0xB71),
    (0xB83, 0xB83),
    (0xB85, 0xB8A),
    (0xB8E, 0xB90),
    (0xB92, 0xB95),
    (0xB99, 0xB9A),
    (0xB9C, 0xB9C),
    (0xB9E, 0xB9F),
    (0xBA3, 0xBA4),
    (0xBA8, 0xBAA),
    (0xBAE, 0xBB9),
    (0xBD0, 0xBD0),
    (0xC05, 0xC0C),
    (0xC0E, 0xC10),
    (0xC12, 0xC28),
    (0xC2A, 0xC39),
    (0xC3D, 0xC3D),
    (0xC58, 0xC5A),
    (0xC5C, 0xC5D),
    (0xC60, 0xC61),
    (0xC80, 0xC80),
    (0xC85, 0xC8C),
    (0xC8E, 0xC90),
    (0xC92, 0xCA8),
    (0xCAA, 0xCB3),
    (0xCB5, 0xCB9),
    (0xCBD, 0xCBD),
    (0xCDC, 0xCDE),
    (0xCE0, 0xCE1),
    (0xCF1, 0xCF2),
    (0xD04, 0xD0C),
    (0xD0E, 0xD10),
    (0xD12, 0xD3A),
    (0xD3D, 0xD3D),
    (0xD4E, 0xD4E),
    (0xD54, 0xD56),
    (0xD5F, 0xD61),
    (0xD7A, 0xD7F),
    (0xD85, 0xD96),
    (0xD9A, 0xDB1),
    (0xDB3, 0xDBB),
    (0xDBD, 0xDBD),
    (0xDC0, 0xDC6),
    (0xE01, 0xE30),
    (0xE32, 0xE33),
    (0xE40, 0xE46),
    (0xE81, 0xE82),
    (0xE84, 0xE84),
    (0xE86, 0xE8A),
    (0xE8C, 0xEA3),
    (0xEA5, 0xEA5),
    (0xEA7, 0xEB0),
    (0xEB2, 0xEB3),
    (0xEBD, 0xEBD),
    (0xEC0, 0xEC4),
    (0xEC6, 0xEC6),
    (0xEDC, 0xEDF),
    (0xF00, 0xF00),
    (0xF40, 0xF47),
    (0xF49, 0xF6C),
    (0xF88, 0xF8C),
    (0x1000, 0x102A),
    (0x103F, 0x103F),
    (0x1050, 0x1055),
    (0x105A, 0x105D),
    (0x1061, 0x1061),
    (0x1065, 0x1066),
    (0x106E, 0x1070),
    (0x1075, 0x1081),
    (0x108E, 0x108E),
    (0x10A0, 0x10C5),
    (0x10C7, 0x10C7),
    (0x10CD, 0x10CD),
    (0x10D0, 0x10FA),
    (0x10FC, 0x1248),
    (0x124A, 0x124D),
    (0x1250, 0x1256),
    (0x1258, 0x1258),
    (0x125A, 0x125D),
    (0x1260, 0x1288),
    (0x128A, 0x128D),
    (0x1290, 0x12B0),
    (0x12B2, 0x12B5),
    (0x12B8, 0x12BE),
    (0x12C0, 0x12C0),
    (0x12C2, 0x12C5),
    (0x12C8, 0x12D6),
    (0x12D8, 0x1310),
    (0x1312, 0x1315),
    (0x1318, 0x135A),
    (0x1380, 0x138F),
    (0x13A0, 0x13F5),
    (0x13F8, 0x13FD),
    (0x1401, 0x166C),
    (0x166F, 0x167F),
    (0x1681, 0x169A),
    (0x16A0, 0x16EA),
    (0x16F1, 0x16F8),
    (0x1700, 0x1711),
    (0x171F, 0x1731),
    (0x1740, 0x1751),
    (0x1760, 0x176C),
    (0x176E, 0x1770),
    (0x1780, 0x17B3),
    (0x17D7, 0x17D7),
    (0x17DC, 0x17DC),
    (0x1820, 0x1878),
    (0x1880, 0x1884),
    (0x1887, 0x18A8),
    (0x18AA, 0x18AA),
    (0x18B0, 0x18F5),
    (0x1900, 0x191E),
    (0x1950, 0x196D),
    (0x1970, 0x1974),
    (0x1980, 0x19AB),
    (0x19B0, 0x19C9),
    (0x1A00, 0x1A16),
    (0x1A20, 0x1A54),
    (0x1AA7, 0x1AA7),
    (0x1B05, 0x1B33),
    (0x1B45, 0x1B4C),
    (0x1B83, 0x1BA0),
    (0x1BAE, 0x1BAF),
    (0x1BBA, 0x1BE5),
    (0x1C00, 0x1C23),
    (0x1C4D, 0x1C4F),
    (0x1C5A, 0x1C7D),
    (0x1C80, 0x1C8A),
    (0x1C90, 0x1CBA),
    (0x1CBD, 0x1CBF),
    (0x1CE9, 0x1CEC),
    (0x1CEE, 0x1CF3),
    (0x1CF5, 0x1CF6),
    (0x1CFA, 0x1CFA),
    (0x1D00, 0x1DBF),
    (0x1E00, 0x1F15),
    (0x1F18, 0x1F1D),
    (0x1F20, 0x1F45),
    (0x1F48, 0x1F4D),
    (0x1F50, 0x1F57),
    (0x1F59, 0x1F59),
    (0x1F5B, 0x1F5B),
    (0x1F5D, 0x1F5D),
    (0x1F5F, 0x1F7D),
    (0x1F80, 0x1FB4),
    (0x1FB6, 0x1FBC),
    (0x1FBE, 0x1FBE),
    (0x1FC2, 0x1FC4),
    (0x1FC6, 0x1FCC),
    (0x1FD0, 0x1FD3),
    (0x1FD6, 0x1FDB),
    (0x1FE0, 0x1FEC),
    (0x1FF2, 0x1FF4),
    (0x1FF6, 0x1FFC),
    (0x2071, 0x2071),
    (0x207F, 0x207F),
    (0x208F, 0x209F),
    (0x2102, 0x2102),
    (0x2107, 0x2107),
    (0x210A, 0x2113),
    (0x2115, 0x2115),
    (0x2119, 0x211D),
    (0x2124, 0x2124),
    (0x2126, 0x2126),
    (0x2128, 0x2128),
    (0x212A, 0x212D),
    (0x212F, 0x2139),
    (0x213C, 0x213F),
    (0x2145, 0x2149),
    (0x214E, 0x214E),
    (0x2183, 0x2184),
    (0x2C00, 0x2CE4),
    (0x2CEB, 0x2CEE),
    (0x2CF2, 0x2CF3),
    (0x2D00, 0x2D25),
    (0x2D27, 0x2D27),
    (0x2D2D, 0x2D2D),
    (0x2D30, 0x2D67),
    (0x2D6F, 0x2D6F),
    (0x2D80, 0x2D96),
    (0x2DA0, 0x2DA6),
    (0x2DA8, 0x2DAE),
    (0x2DB0, 0x2DB6),
    (0x2DB8, 0x2DBE),
    (0x2DC0, 0x2DC6),
    (0x2DC8, 0x2DCE),
    (0x2DD0, 0x2DD6),
    (0x2DD8, 0x2DDE),
    (0x2E2F, 0x2E2F),
    (0x3005, 0x3006),
    (0x3031, 0x3035),
    (0x303B, 0x303C),
    (0x3041, 0x3096),
    (0x309D, 0x309F),
    (0x30A1, 0x30FA),
    (0x30FC, 0x30FF),
    (0x3105, 0x312F),
    (0x3131, 0x318E),
    (0x31A0, 0x31BF),
    (0x31F0, 0x31FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0xA48C),
    (0xA4D0, 0xA4FD),
    (0xA500, 0xA60C),
    (0xA610, 0xA61F),
    (0xA62A, 0xA62B),
    (0xA640, 0xA66E),
    (0xA67F, 0xA69D),
    (0xA6A0, 0xA6E5),
    (0xA717, 0xA71F),
    (0xA722, 0xA788),
    (0xA78B, 0xA7DD),
    (0xA7E2, 0xA7E2),
    (0xA7F1, 0xA801),
    (0xA803, 0xA805),
    (0xA807, 0xA80A),
    (0xA80C, 0xA822),
    (0xA840, 0xA873),
    (0xA882, 0xA8B3),
    (0xA8F2, 0xA8F7),
    (0xA8FB, 0xA8FB),
    (0xA8FD, 0xA8FE),
    (0xA90A, 0xA925),
    (0xA930, 0xA946),
    (0xA960, 0xA97C),
    (0xA984, 0xA9B2),
    (0xA9CF, 0xA9CF),
    (0xA9E0, 0xA9E4),
    (0xA9E6, 0xA9EF),
    (0xA9FA, 0xA9FE),
    (0xAA00, 0xAA28),
    (0xAA40, 0xAA42),
    (0xAA44, 0xAA4B),
    (0xAA60, 0xAA76),
    (0xAA7A, 0xAA7A),
    (0xAA7E, 0xAAAF),
    (0xAAB1, 0xAAB1),
    (0xAAB5, 0xAAB6),
    (0xAAB9, 0xAABD),
    (0xAAC0, 0xAAC0),
    (0xAAC2, 0xAAC2),
    (0xAADB, 0xAADD),
    (0xAAE0, 0xAAEA),
    (0xAAF2, 0xAAF4),
    (0xAB01, 0xAB06),
    (0xAB09, 0xAB0E),
    (0xAB11, 0xAB16),
    (0xAB20, 0xAB26),
    (0xAB28, 0xAB2E),
    (0xAB30, 0xAB5A),
    (0xAB5C, 0xAB69),
    (0xAB6C, 0xAB6D),
    (0xAB70, 0xABE2),
    (0xAC00, 0xD7A3),
    (0xD7B0, 0xD7C6),
    (0xD7CB, 0xD7FB),
    (0xF900, 0xFA6D),
    (0xFA70, 0xFAD9),
    (0xFB00, 0xFB06),
    (0xFB13, 0xFB17),
    (0xFB1D, 0xFB1D),
    (0xFB1F, 0xFB28),
    (0xFB2A, 0xFB36),
    (0xFB38, 0xFB3C),
    (0xFB3E, 0xFB3E),
    (0xFB40, 0xFB41),
    (0xFB43, 0xFB44),
    (0xFB46, 0xFBB1),
    (0xFBD3, 0xFD3D),
    (0xFD50, 0xFD8F),
    (0xFD92, 0xFDC7),
    (0xFDF0, 0xFDFB),
    (0xFE70, 0xFE74),
    (0xFE76, 0xFEFC),
    (0xFF21, 0xFF3A),
    (0xFF41, 0xFF5A),
    (0xFF66, 0xFFBE),
    (0xFFC2, 0xFFC7),
    (0xFFCA, 0xFFCF),
    (0xFFD2, 0xFFD7),
    (0xFFDA, 0xFFDC),
    (0x10000, 0x1000B),
    (0x1000D, 0x10026),
    (0x10028, 0x1003A),
    (0x1003C, 0x1003D),
    (0x1003F, 0x1004D),
    (0x10050, 0x1005D),
    (0x10080, 0x100FA),
    (0x10280, 0x1029C),
    (0x102A0, 0x102D0),
    (0x10300, 0x1031F),
    (0x1032D, 0x10340),
    (0x10342, 0x10349),
    (0x10350, 0x10375),
    (0x10380, 0x1039D),
    (0x103A0, 0x103C3),
    (0x103C8, 0x103CF),
    (0x10400, 0x1049D),
    (0x104B0, 0x104D3),
    (0x104D8, 0x104FB),
    (0x10500, 0x10527),
    (0x10530, 0x10563),
    (0x10570, 0x1057A),
    (0x1057C, 0x1058A),
    (0x1058C, 0x10592),
    (0x10594, 0x10595),
    (0x10597, 0x105A1),
    (0x105A3, 0x105B1),
    (0x105B3, 0x105B9),
    (0x105BB, 0x105BC),
    (0x105C0, 0x105F3),
    (0x10600, 0x10736),
    (0x10740, 0x10755),
    (0x10760, 0x10767),
    (0x10780, 0x10785),
    (0x10787, 0x107B0),
    (0x107B2, 0x107BF),
    (0x10800, 0x10805),
    (0x10808, 0x10808),
    (0x1080A, 0x10835),
    (0x10837, 0x10838),
    (0x1083C, 0x1083C),
    (0x1083F, 0x10855),
    (0x10860, 0x10876),
    (0x10880, 0x1089E),
    (0x108E0, 0x108F2),
    (0x108F4, 0x108F5),
    (0x10900, 0x10915),
    (0x10920, 0x10939),
    (0x10940, 0x10959),
    (0x10980, 0x109B7),
    (0x109BE, 0x109BF),
    (0x10A00, 0x10A00),
    (0x10A10, 0x10A13),
    (0x10A15, 0x10A17),
    (0x10A19, 0x10A35),
    (0x10A60, 0x10A7C),
    (0x10A80, 0x10A9C),
    (0x10AC0, 0x10AC7),
    (0x10AC9, 0x10AE4),
    (0x10B00, 0x10B35),
    (0x10B40, 0x10B55),
    (0x10B60, 0x10B72),
    (0x10B80, 0x10B91),
    (0x10C00, 0x10C48),
    (0x10C80, 0x10CB2),
    (0x10CC0, 0x10CF2),
    (0x10D00, 0x10D23),
    (0x10D4A, 0x10D65),
    (0x10D6F, 0x10D85),
    (0x10E80, 0x10EA9),
    (0x10EB0, 0x10EB1),
    (0x10EC2, 0x10EC7),
    (0x10ED9, 0x10EEE),
    (0x10F00, 0x10F1C),
    (0x10F27, 0x10F27),
    (0x10F30, 0x10F45),
    (0x10F70, 0x10F81),
    (0x10FB0, 0x10FC4),
    (0x10FE0, 0x10FF6),
    (0x11003, 0x11037),
    (0x11071, 0x11072),
    (0x11075, 0x11075),
    (0x11083, 0x110AF),
    (0x110D0, 0x110E8),
    (0x11103, 0x11126),
    (0x11144, 0x11144),
    (0x11147, 0x11147),
    (0x11150, 0x11172),
    (0x11176, 0x11176),
    (0x11183, 0x111B2),
    (0x111C1, 0x111C4),
    (0x111DA, 0x111DA),
    (0x111DC, 0x111DC),
    (0x11200, 0x11211),
    (0x11213, 0x1122B),
    (0x1123F, 0x11240),
    (0x11280, 0x11286),
    (0x11288, 0x11288),
    (0x1128A, 0x1128D),
    (0x1128F, 0x1129D),
    (0x1129F, 0x112A8),
    (0x112B0, 0x112DE),
    (0x11305, 0x1130C),
    (0x1130F, 0x11310),
    (0x11313, 0x11328),
    (0x1132A, 0x11330),
    (0x11332, 0x11333),
    (0x11335, 0x11339),
    (0x1133D, 0x1133D),
    (0x11350, 0x11350),
    (0x1135D, 0x11361),
    (0x11380, 0x11389),
    (0x1138B, 0x1138B),
    (0x1138E, 0x1138E),
    (0x11390, 0x113B5),
    (0x113B7, 0x113B7),
    (0x113D1, 0x113D1),
    (0x113D3, 0x113D3),
    (0x11400, 0x11434),
    (0x11447, 0x1144A),
    (0x1145F, 0x11461),
    (0x11480, 0x114AF),
    (0x114C4, 0x114C5),
    (0x114C7, 0x114C7),
    (0x11580, 0x115AE),
    (0x115D8, 0x115DB),
    (0x11600, 0x1162F),
    (0x11644, 0x11644),
    (0x11680, 0x116AA),
    (0x116B8, 0x116B8),
    (0x11700, 0x1171A),
    (0x11740, 0x11746),
    (0x11800, 0x1182B),
    (0x118A0, 0x118DF),
    (0x118FF, 0x11906),
    (0x11909, 0x11909),
    (0x1190C, 0x11913),
    (0x11915, 0x11916),
    (0x11918, 0x1192F),
    (0x1193F, 0x1193F),
    (0x11941, 0x11941),
    (0x119A0, 0x119A7),
    (0x119AA, 0x119D0),
    (0x119E1, 0x119E1),
    (0x119E3, 0x119E3),
    (0x11A00, 0x11A00),
    (0x11A0B, 0x11A32),
    (0x11A3A, 0x11A3A),
    (0x11A50, 0x11A50),
    (0x11A5C, 0x11A89),
    (0x11A9D, 0x11A9D),
    (0x11AB0, 0x11AF8),
    (0x11B0A, 0x11B0A),
    (0x11BC0, 0x11BE0),
    (0x11C00, 0x11C08),
    (0x11C0A, 0x11C2E),
    (0x11C40, 0x11C40),
    (0x11C72, 0x11C8F),
    (0x11D00, 0x11D06),
    (0x11D08, 0x11D09),
    (0x11D0B, 0x11D30),
    (0x11D46, 0x11D46),
    (0x11D60, 0x11D65),
    (0x11D67, 0x11D68),
    (0x11D6A, 0x11D89),
    (0x11D98, 0x11D98),
    (0x11DB0, 0x11DDB),
    (0x11DF1, 0x11DF1),
    (0x11EE0, 0x11EF2),
    (0x11F02, 0x11F02),
    (0x11F04, 0x11F10),
    (0x11F12, 0x11F33),
    (0x11FB0, 0x11FB0),
    (0x12000, 0x12399),
    (0x12480, 0x12543),
    (0x12F90, 0x12FF0),
    (0x13000, 0x1342F),
    (0x13441, 0x13446),
    (0x13460, 0x143FA),
    (0x14400, 0x14646),
    (0x16100, 0x1611D),
    (0x16800, 0x16A38),
    (0x16A40, 0x16A5E),
    (0x16A70, 0x16ABE),
    (0x16AD0, 0x16AED),
    (0x16B00, 0x16B2F),
    (0x16B40, 0x16B43),
    (0x16B63, 0x16B77),
    (0x16B7D, 0x16B8F),
    (0x16D40, 0x16D6C),
    (0x16E40, 0x16E7F),
    (0x16EA0, 0x16EB8),
    (0x16EBB, 0x16ED3),
    (0x16F00, 0x16F4A),
    (0x16F50, 0x16F50),
    (0x16F93, 0x16F9F),
    (0x16FE0, 0x16FE1),
    (0x16FE3, 0x16FE3),
    (0x16FF2, 0x16FF3),
    (0x17000, 0x18CDA),
    (0x18CFF, 0x18D20),
    (0x18D80, 0x18DF2),
    (0x18E00, 0x19191),
    (0x191A0, 0x191D2),
    (0x1AFF0, 0x1AFF3),
    (0x1AFF5, 0x1AFFB),
    (0x1AFFD, 0x1AFFE),
    (0x1B000, 0x1B128),
    (0x1B132, 0x1B132),
    (0x1B150, 0x1B152),
    (0x1B155, 0x1B155),
    (0x1B164, 0x1B168),
    (0x1B170, 0x1B2FB),
    (0x1BC00, 0x1BC6A),
    (0x1BC70, 0x1BC7C),
    (0x1BC80, 0x1BC88),
    (0x1BC90, 0x1BC99),
    (0x1D400, 0x1D454),
    (0x1D456, 0x1D49C),
    (0x1D49E, 0x1D49F),
    (0x1D4A2, 0x1D4A2),
    (0x1D4A5, 0x1D4A6),
    (0x1D4A9, 0x1D4AC),
    (0x1D4AE, 0x1D4B9),
    (0x1D4BB, 0x1D4BB),
    (0x1D4BD, 0x1D4C3),
    (0x1D4C5, 0x1D505),
    (0x1D507, 0x1D50A),
    (0x1D50D, 0x1D514),
    (0x1D516, 0x1D51C),
    (0x1D51E, 0x1D539),
    (0x1D53B, 0x1D53E),
    (0x1D540, 0x1D544),
    (0x1D546, 0x1D546),
    (0x1D54A, 0x1D550),
    (0x1D552, 0x1D6A6),
    (0x1D6A8, 0x1D6C0),
    (0x1D6C2, 0x1D6DA),
    (0x1D6DC, 0x1D6FA),
    (0x1D6FC, 0x1D714),
    (0x1D716, 0x1D734),
    (0x1D736, 0x1D74E),
    (0x1D750, 0x1D76E),
    (0x1D770, 0x1D788),
    (0x1D78A, 0x1D7A8),
    (0x1D7AA, 0x1D7C2),
    (0x1D7C4, 0x1D7CB),
    (0x1DF00, 0x1DF81),
    (0x1DF90, 0x1DF96),
    (0x1DFCD, 0x1DFFF),
    (0x1E030, 0x1E06D),
    (0x1E100, 0x1E12C),
    (0x1E137, 0x1E13D),
    (0x1E14E, 0x1E14E),
    (0x1E290, 0x1E2AD),
    (0x1E2C0, 0x1E2EB),
    (0x1E4D0, 0x1E4EB),
    (0x1E5D0, 0x1E5ED),
    (0x1E5F0, 0x1E5F0),
    (0x1E6C0, 0x1E6DE),
    (0x1E6E0, 0x1E6E2),
    (0x1E6E4, 0x1E6E5),
    (0x1E6E7, 0x1E6ED),
    (0x1E6F0, 0x1E6F4),
    (0x1E6FE, 0x1E6FF),
    (0x1E7E0, 0x1E7E6),
    (0x1E7E8, 0x1E7EB),
    (0x1E7ED, 0x1E7EE),
    (0x1E7F0, 0x1E7FE),
    (0x1E800, 0x1E8C4),
    (0x1E900, 0x1E943),
    (0x1E94B, 0x1E94B),
    (0x1EE00, 0x1EE03),
    (0x1EE05, 0x1EE1F),
    (0x1EE21, 0x1EE22),
    (0x1EE24, 0x1EE24),
    (0x1EE27, 0x1EE27),
    (0x1EE29, 0x1EE32),
    (0x1EE34, 0x1EE37),
    (0x1EE39, 0x1EE39),
    (0x1EE3B, 0x1EE3B),
    (0x1EE42, 0x1EE42),
    (0x1EE47, 0x1EE47),
    (0x1EE49, 0x1EE49),
    (0x1EE4B, 0x1EE4B),
    (0x1EE4D, 0x1EE4F),
    (0x1EE51, 0x1EE52),
    (0x1EE54, 0x1EE54),
    (0x1EE57, 0x1EE57),
    (0x1EE59, 0x1EE59),
    (0x1EE5B, 0x1EE5B),
    (0x1EE5D, 0x1EE5D),
    (0x1EE5F, 0x1EE5F),
    (0x1EE61, 0x1EE62),
    (0x1EE64, 0x1EE64),
    (0x1EE67, 0x1EE6A),
    (0x1EE6C, 0x1EE72),
    (0x1EE74, 0x1EE77),
    (0x1EE79, 0x1EE7C),
    (0x1EE7E, 0x1EE7E),
    (0x1EE80, 0x1EE89),
    (0x1EE8B, 0x1EE9B),
    (0x1EEA1, 0x1EEA3),
    (0x1EEA5, 0x1EEA9),
    (0x1EEAB, 0x1EEBB),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B81E),
    (0x2B820, 0x2CEAD),
    (0x2CEB0, 0x2EBE0),
    (0x2EBF0, 0x2EE5D),
    (0x2F800, 0x2FA1D),
    (0x30000, 0x3134A),
    (0x31350, 0x33479),
    (0x3D000, 0x3FC3F),
];

/// What `regex` matches with `\p{N}`.
const NUMBERS: &[(u32, u32)] = &[
    (0x30, 0x39),
    (0xB2, 0xB3),
    (0xB9, 0xB9),
    (0xBC, 0xBE),
    (0x660, 0x669),
    (0x6F0, 0x6F9),
    (0x7C0, 0x7C9),
    (0x966, 0x96F),
    (0x9E6, 0x9EF),
    (0x9F4, 0x9F9),
    (0xA66, 0xA6F),
    (0xAE6, 0xAEF),
    (0xB66, 0xB6F),
    (0xB72, 0xB77),
    (0xBE6, 0xBF2),
    (0xC66, 0xC6F),
    (0xC78, 0xC7E),
    (0xCE6, 0xCEF),
    (0xD58, 0xD5E),
    (0xD66, 0xD78),
    (0xDE6, 0xDEF),
    (0xE50, 0xE59),
    (0xED0, 0xED9),
    (0xF20, 0xF33),
    (0x1040, 0x1049),
    (0x1090, 0x1099),
    (0x1369, 0x137C),
    (0x16EE, 0x16F0),
    (0x17E0, 0x17E9),
    (0x17F0, 0x17F9),
    (0x1810, 0x1819),
    (0x1946, 0x194F),
    (0x19D0, 0x19DA),
    (0x1A80, 0x1A89),
    (0x1A90, 0x1A99),
    (0x1B50, 0x1B59),
    (0x1BB0, 0x1BB9),
    (0x1C40, 0x1C49),
    (0x1C50, 0x1C59),
    (0x2070, 0x2070),
    (0x2074, 0x2079),
    (0x2080, 0x2089),
    (0x2150, 0x2182),
    (0x2185, 0x2189),
    (0x2460, 0x249B),
    (0x24EA, 0x24FF),
    (0x2776, 0x2793),
    (0x2CFD, 0x2CFD),
    (0x3007, 0x3007),
    (0x3021, 0x3029),
    (0x3038, 0x303A),
    (0x3192, 0x3195),
    (0x3220, 0x3229),
    (0x3248, 0x324F),
    (0x3251, 0x325F),
    (0x3280, 0x3289),
    (0x32B1, 0x32BF),
    (0xA620, 0xA629),
    (0xA6E6, 0xA6EF),
    (0xA830, 0xA835),
    (0xA8D0, 0xA8D9),
    (0xA900, 0xA909),
    (0xA9D0, 0xA9D9),
    (0xA9F0, 0xA9F9),
    (0xAA50, 0xAA59),
    (0xABF0, 0xABF9),
    (0xFF10, 0xFF19),
    (0x10107, 0x10133),
    (0x10140, 0x10178),
    (0x1018A, 0x1018B),
    (0x102E1, 0x102FB),
    (0x10320, 0x10323),
    (0x10341, 0x10341),
    (0x1034A, 0x1034A),
    (0x103D1, 0x103D5),
    (0x104A0, 0x104A9),
    (0x10858, 0x1085F),
    (0x10879, 0x1087F),
    (0x108A7, 0x108AF),
    (0x108FB, 0x108FF),
    (0x10916, 0x1091B),
    (0x109BC, 0x109BD),
    (0x109C0, 0x109CF),
    (0x109D2, 0x109FF),
    (0x10A40, 0x10A48),
    (0x10A7D, 0x10A7E),
    (0x10A9D, 0x10A9F),
    (0x10AEB, 0x10AEF),
    (0x10B58, 0x10B5F),
    (0x10B78, 0x10B7F),
    (0x10BA9, 0x10BAF),
    (0x10CFA, 0x10CFF),
    (0x10D30, 0x10D39),
    (0x10D40, 0x10D49),
    (0x10E60, 0x10E7E),
    (0x10F1D, 0x10F26),
    (0x10F51, 0x10F54),
    (0x10FC5, 0x10FCB),
    (0x11052, 0x1106F),
    (0x110F0, 0x110F9),
    (0x11136, 0x1113F),
    (0x111D0, 0x111D9),
    (0x111E1, 0x111F4),
    (0x112F0, 0x112F9),
    (0x11450, 0x11459),
    (0x114D0, 0x114D9),
    (0x11650, 0x11659),
    (0x116C0, 0x116C9),
    (0x116D0, 0x116E3),
    (0x11730, 0x1173B),
    (0x118E0, 0x118F2),
    (0x11950, 0x11959),
    (0x11BF0, 0x11BF9),
    (0x11C50, 0x11C6C),
    (0x11D50, 0x11D59),
    (0x11DA0, 0x11DA9),
    (0x11DE0, 0x11DE9),
    (0x11F50, 0x11F59),
    (0x11FC0, 0x11FD4),
    (0x12400, 0x1246F),
    (0x12475, 0x1247F),
    (0x12550, 0x12686),
    (0x16130, 0x16139),
    (0x16A60, 0x16A69),
    (0x16AC0, 0x16AC9),
    (0x16B50, 0x16B59),
    (0x16B5B, 0x16B61),
    (0x16D70, 0x16D79),
    (0x16E80, 0x16E96),
    (0x16FF4, 0x16FF6),
    (0x1CCF0, 0x1CCF9),
    (0x1D2C0, 0x1D2D3),
    (0x1D2E0, 0x1D2F3),
    (0x1D360, 0x1D378),
    (0x1D7CE, 0x1D7FF),
    (0x1E140, 0x1E149),
    (0x1E2F0, 0x1E2F9),
    (0x1E4F0, 0x1E4F9),
    (0x1E5F1, 0x1E5FA),
    (0x1E8C7, 0x1E8CF),
    (0x1E950, 0x1E959),
    (0x1EC71, 0x1ECAB),
    (0x1ECAD, 0x1ECAF),
    (0x1ECB1, 0x1ECB4),
    (0x1ED01, 0x1ED2D),
    (0x1ED2F, 0x1ED3D),
    (0x1F100, 0x1F10C),
    (0x1FBF0, 0x1FBF9),
];

/// What `regex` matches with `\s` (also what Python's `str.strip` removes, see `is_space`).
const SPACES: &[(u32, u32)] = &[
    (0x9, 0xD),
    (0x20, 0x20),
    (0x85, 0x85),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
];

// str.isspace() minus \s: ['0x1c', '0x1d', '0x1e', '0x1f']; \s minus isspace: []
/// HTML entities `html_unescape` knows (name with or without `;` as Python's table has it).
const ENTITIES: &[(&str, u32)] = &[
    ("AElig", 0xC6),
    ("AElig;", 0xC6),
    ("AMP", 0x26),
    ("AMP;", 0x26),
    ("Aacute", 0xC1),
    ("Aacute;", 0xC1),
    ("Acirc", 0xC2),
    ("Acirc;", 0xC2),
    ("Agrave", 0xC0),
    ("Agrave;", 0xC0),
    ("Aring", 0xC5),
    ("Aring;", 0xC5),
    ("Atilde", 0xC3),
    ("Atilde;", 0xC3),
    ("Auml", 0xC4),
    ("Auml;", 0xC4),
    ("COPY", 0xA9),
    ("COPY;", 0xA9),
    ("Ccedil", 0xC7),
    ("Ccedil;", 0xC7),
    ("Dagger;", 0x2021),
    ("ETH", 0xD0),
    ("ETH;", 0xD0),
    ("Eacute", 0xC9),
    ("Eacute;", 0xC9),
    ("Ecirc", 0xCA),
    ("Ecirc;", 0xCA),
    ("Egrave", 0xC8),
    ("Egrave;", 0xC8),
    ("Euml", 0xCB),
    ("Euml;", 0xCB),
    ("GT", 0x3E),
    ("GT;", 0x3E),
    ("Iacute", 0xCD),
    ("Iacute;", 0xCD),
    ("Icirc", 0xCE),
    ("Icirc;", 0xCE),
    ("Igrave", 0xCC),
    ("Igrave;", 0xCC),
    ("Iuml", 0xCF),
    ("Iuml;", 0xCF),
    ("LT", 0x3C),
    ("LT;", 0x3C),
    ("Ntilde", 0xD1),
    ("Ntilde;", 0xD1),
    ("OElig;", 0x152),
    ("Oacute", 0xD3),
    ("Oacute;", 0xD3),
    ("Ocirc", 0xD4),
    ("Ocirc;", 0xD4),
    ("Ograve", 0xD2),
    ("Ograve;", 0xD2),
    ("Oslash", 0xD8),
    ("Oslash;", 0xD8),
    ("Otilde", 0xD5),
    ("Otilde;", 0xD5),
    ("Ouml", 0xD6),
    ("Ouml;", 0xD6),
    ("Prime;", 0x2033),
    ("QUOT", 0x22),
    ("QUOT;", 0x22),
    ("REG", 0xAE),
    ("REG;", 0xAE),
    ("Scaron;", 0x160),
    ("THORN", 0xDE),
    ("THORN;", 0xDE),
    ("Uacute", 0xDA),
    ("Uacute;", 0xDA),
    ("Ucirc", 0xDB),
    ("Ucirc;", 0xDB),
    ("Ugrave", 0xD9),
    ("Ugrave;", 0xD9),
    ("Uuml", 0xDC),
    ("Uuml;", 0xDC),
    ("Yacute", 0xDD),
    ("Yacute;", 0xDD),
    ("Yuml;", 0x178),
    ("aacute", 0xE1),
    ("aacute;", 0xE1),
    ("acirc", 0xE2),
    ("acirc;", 0xE2),
    ("acute", 0xB4),
    ("acute;", 0xB4),
    ("aelig", 0xE6),
    ("aelig;", 0xE6),
    ("agrave", 0xE0),
    ("agrave;", 0xE0),
    ("amp", 0x26),
    ("amp;", 0x26),
    ("apos;", 0x27),
    ("aring", 0xE5),
    ("aring;", 0xE5),
    ("asymp;", 0x2248),
    ("atilde", 0xE3),
    ("atilde;", 0xE3),
    ("auml", 0xE4),
    ("auml;", 0xE4),
    ("bdquo;", 0x201E),
    ("brvbar", 0xA6),
    ("brvbar;", 0xA6),
    ("bull;", 0x2022),
    ("ccedil", 0xE7),
    ("ccedil;", 0xE7),
    ("cedil", 0xB8),
    ("cedil;", 0xB8),
    ("cent", 0xA2),
    ("cent;", 0xA2),
    ("circ;", 0x2C6),
    ("copy", 0xA9),
    ("copy;", 0xA9),
    ("curren", 0xA4),
    ("curren;", 0xA4),
    ("dagger;", 0x2020),
    ("darr;", 0x2193),
    ("deg", 0xB0),
    ("deg;", 0xB0),
    ("divide", 0xF7),
    ("divide;", 0xF7),
    ("eacute", 0xE9),
    ("eacute;", 0xE9),
    ("ecirc", 0xEA),
    ("ecirc;", 0xEA),
    ("egrave", 0xE8),
    ("egrave;", 0xE8),
    ("emsp;", 0x2003),
    ("ensp;", 0x2002),
    ("eth", 0xF0),
    ("eth;", 0xF0),
    ("euml", 0xEB),
    ("euml;", 0xEB),
    ("euro;", 0x20AC),
    ("fnof;", 0x192),
    ("frac12", 0xBD),
    ("frac12;", 0xBD),
    ("frac14", 0xBC),
    ("frac14;", 0xBC),
    ("frac34", 0xBE),
    ("frac34;", 0xBE),
    ("ge;", 0x2265),
    ("gt", 0x3E),
    ("gt;", 0x3E),
    ("harr;", 0x2194),
    ("hearts;", 0x2665),
    ("hellip;", 0x2026),
    ("iacute", 0xED),
    ("iacute;", 0xED),
    ("icirc", 0xEE),
    ("icirc;", 0xEE),
    ("iexcl", 0xA1),
    ("iexcl;", 0xA1),
    ("igrave", 0xEC),
    ("igrave;", 0xEC),
    ("infin;", 0x221E),
    ("iquest", 0xBF),
    ("iquest;", 0xBF),
    ("iuml", 0xEF),
    ("iuml;", 0xEF),
    ("laquo", 0xAB),
    ("laquo;", 0xAB),
    ("larr;", 0x2190),
    ("ldquo;", 0x201C),
    ("le;", 0x2264),
    ("lrm;", 0x200E),
    ("lsaquo;", 0x2039),
    ("lsquo;", 0x2018),
    ("lt", 0x3C),
    ("lt;", 0x3C),
    ("macr", 0xAF),
    ("macr;", 0xAF),
    ("mdash;", 0x2014),
    ("micro", 0xB5),
    ("micro;", 0xB5),
    ("middot", 0xB7),
    ("middot;", 0xB7),
    ("minus;", 0x2212),
    ("nbsp", 0xA0),
    ("nbsp;", 0xA0),
    ("ndash;", 0x2013),
    ("ne;", 0x2260),
    ("not", 0xAC),
    ("not;", 0xAC),
    ("ntilde", 0xF1),
    ("ntilde;", 0xF1),
    ("oacute", 0xF3),
    ("oacute;", 0xF3),
    ("ocirc", 0xF4),
    ("ocirc;", 0xF4),
    ("oelig;", 0x153),
    ("ograve", 0xF2),
    ("ograve;", 0xF2),
    ("ordf", 0xAA),
    ("ordf;", 0xAA),
    ("ordm", 0xBA),
    ("ordm;", 0xBA),
    ("oslash", 0xF8),
    ("oslash;", 0xF8),
    ("otilde", 0xF5),
    ("otilde;", 0xF5),
    ("ouml", 0xF6),
    ("ouml;", 0xF6),
    ("para", 0xB6),
    ("para;", 0xB6),
    ("permil;", 0x2030),
    ("plusmn", 0xB1),
    ("plusmn;", 0xB1),
    ("pound", 0xA3),
    ("pound;", 0xA3),
    ("prime;", 0x2032),
    ("quot", 0x22),
    ("quot;", 0x22),
    ("raquo", 0xBB),
    ("raquo;", 0xBB),
    ("rarr;", 0x2192),
    ("rdquo;", 0x201D),
    ("reg", 0xAE),
    ("reg;", 0xAE),
    ("rlm;", 0x200F),
    ("rsaquo;", 0x203A),
    ("rsquo;", 0x2019),
    ("sbquo;", 0x201A),
    ("scaron;", 0x161),
    ("sect", 0xA7),
    ("sect;", 0xA7),
    ("shy", 0xAD),
    ("shy;", 0xAD),
    ("sup1", 0xB9),
    ("sup1;", 0xB9),
    ("sup2", 0xB2),
    ("sup2;", 0xB2),
    ("sup3", 0xB3),
    ("sup3;", 0xB3),
    ("szlig", 0xDF),
    ("szlig;", 0xDF),
    ("thinsp;", 0x2009),
    ("thorn", 0xFE),
    ("thorn;", 0xFE),
    ("tilde;", 0x2DC),
    ("times", 0xD7),
    ("times;", 0xD7),
    ("trade;", 0x2122),
    ("uacute", 0xFA),
    ("uacute;", 0xFA),
    ("uarr;", 0x2191),
    ("ucirc", 0xFB),
    ("ucirc;", 0xFB),
    ("ugrave", 0xF9),
    ("ugrave;", 0xF9),
    ("uml", 0xA8),
    ("uml;", 0xA8),
    ("uuml", 0xFC),
    ("uuml;", 0xFC),
    ("yacute", 0xFD),
    ("yacute;", 0xFD),
    ("yen", 0xA5),
    ("yen;", 0xA5),
    ("yuml", 0xFF),
    ("yuml;", 0xFF),
    ("zwj;", 0x200D),
    ("zwnj;", 0x200C),
];

/// Python's `html._invalid_charrefs`: numeric references replaced by another character.
const INVALID_CHARREFS: &[(u32, u32)] = &[
    (0x0, 0xFFFD),
    (0xD, 0xD),
    (0x80, 0x20AC),
    (0x81, 0x81),
    (0x82, 0x201A),
    (0x83, 0x192),
    (0x84, 0x201E),
    (0x85, 0x2026),
    (0x86, 0x2020),
    (0x87, 0x2021),
    (0x88, 0x2C6),
    (0x89, 0x2030),
    (0x8A, 0x160),
    (0x8B, 0x2039),
    (0x8C, 0x152),
    (0x8D, 0x8D),
    (0x8E, 0x17D),
    (0x8F, 0x8F),
    (0x90, 0x90),
    (0x91, 0x2018),
    (0x92, 0x2019),
    (0x93, 0x201C),
    (0x94, 0x201D),
    (0x95, 0x2022),
    (0x96, 0x2013),
    (0x97, 0x2014),
    (0x98, 0x2DC),
    (0x99, 0x2122),
    (0x9A, 0x161),
    (0x9B, 0x203A),
    (0x9C, 0x153),
    (0x9D, 0x9D),
    (0x9E, 0x17E),
    (0x9F, 0x178),
];

/// Python's `html._invalid_codepoints`: numeric references that decode to nothing.
const INVALID_CODEPOINTS: &[(u32, u32)] = &[
    (0x1, 0x8),
    (0xB, 0xB),
    (0xE, 0x1F),
    (0x7F, 0x9F),
    (0xFDD0, 0xFDEF),
    (0xFFFE, 0xFFFF),
    (0x1FFFE, 0x1FFFF),
    (0x2FFFE, 0x2FFFF),
    (0x3FFFE, 0x3FFFF),
    (0x4FFFE, 0x4FFFF),
    (0x5FFFE, 0x5FFFF),
    (0x6FFFE, 0x6FFFF),
    (0x7FFFE, 0x7FFFF),
    (0x8FFFE, 0x8FFFF),
    (0x9FFFE, 0x9FFFF),
    (0xAFFFE, 0xAFFFF),
    (0xBFFFE, 0xBFFFF),
    (0xCFFFE, 0xCFFFF),
    (0xDFFFE, 0xDFFFF),
    (0xEFFFE, 0xEFFFF),
    (0xFFFFE, 0xFFFFF),
    (0x10FFFE, 0x10FFFF),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_follows_the_pattern() {
        assert_eq!(
            split_pattern("it's a man's 12 bag...'s <|endoftext|>x"),
            vec![
                "it",
                "'s",
                "a",
                "man",
                "'s",
                "1",
                "2",
                "bag",
                "...'",
                "s",
                "<|endoftext|>",
                "x"
            ]
        );
    }

    #[test]
    fn cleaning() {
        assert_eq!(whitespace_clean("  a \t\n b  "), "a b");
        assert_eq!(basic_clean("&amp;lt; &#65;&#x42; &foo;"), "< AB &foo;");
        // Python: html.unescape of each left-hand side.
        for (text, want) in [
            ("&params", "\u{b6}ms"),
            ("&amp", "&"),
            ("&ampx;", "&x;"),
            ("&#1;a", "a"),
            ("&#0", "\u{fffd}"),
            ("&#x110000;", "\u{fffd}"),
            ("&#99999999999999999999;", "\u{fffd}"),
            ("&#128;", "\u{20ac}"),
            ("&#0x41", "\u{fffd}x41"),
            ("&# &x &;", "&# &x &;"),
            ("&hellip;&hellip", "\u{2026}&hellip"),
        ] {
            assert_eq!(html_unescape(text), want, "{text:?}");
        }
    }

    #[test]
    fn byte_table_is_a_bijection() {
        let (table, order) = bytes_to_unicode();
        let set: std::collections::HashSet<char> = table.iter().copied().collect();
        assert_eq!(set.len(), 256);
        assert_eq!(order.len(), 256);
        assert_eq!(table[b'a' as usize], 'a');
        assert_eq!(table[b' ' as usize], '\u{120}');
    }
}
