//! Text front end: an operator's sentence into the word ids the text encoder takes.
pub mod clip_bpe;
pub mod tokenizer;
pub mod wordpiece;

pub use tokenizer::{Tokenized, TokenizerError, UnknownWords, Vocabulary};
