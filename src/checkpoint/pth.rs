//! Reader for PyTorch `torch.save` checkpoints: the zip format (torch >= 1.6) and the
//! legacy format (`_use_new_zipfile_serialization=False`, the default before 1.6).
//!
//! Pure Rust, no libtorch. **Zip format**: the archive holds `<top>/data.pkl` (a pickle, protocol 2
//! as written by `torch.save`) and one entry `<top>/data/<key>` per storage with the
//! storage's raw little-endian bytes. Tensors inside the pickle are
//! `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)` calls whose
//! storage is a persistent id `('storage', torch.FloatStorage, key, location, numel)`.
//!
//! **Legacy format** (file starts with a pickle PROTO opcode, `80 02`): consecutive
//! pickles — the magic number 0x1950a86a20f9469cfc6c, the protocol version 1001, a
//! `sys_info` dict (`little_endian` must be true), the object itself, whose storages are
//! persistent ids `('storage', torch.FloatStorage, root_key, location, numel,
//! view_metadata)` with `view_metadata` None or `(view_key, offset, view_size)` (a
//! window of the root storage, in elements), then a pickle of the list of root storage
//! keys; then, for each key in that order, an 8-byte little-endian element count and
//! the storage's raw little-endian bytes. A legacy file is read into memory whole.
//! The still older tar-based format (torch < 0.4) is refused with
//! [`PthError::LegacyFormat`].
//!
//! [`read_state_dict`] returns the tensors of a state dict as C-contiguous byte
//! buffers; views (offset, non-contiguous strides) are gathered, and storages shared
//! by several tensors are read from the archive once.
//!
//! The unpickler is a small, general one (protocols 0-5 minus out-of-band buffers and
//! extension registry) that never executes anything: globals it does not know become
//! opaque objects, so optimizer / scheduler state elsewhere in the file does not stop
//! the state dict from being read. Malformed input yields a [`PthError`], never a panic;
//! allocations are bounded by the size of the file.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Element type of a tensor stored in a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PthDType {
    F64,
    F32,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
}

impl PthDType {
    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            PthDType::F64 | PthDType::I64 => 8,
            PthDType::F32 | PthDType::I32 => 4,
            PthDType::F16 | PthDType::BF16 | PthDType::I16 => 2,
            PthDType::I8 | PthDType::U8 | PthDType::Bool => 1,
        }
    }

    /// Short name in the safetensors spelling ("F32", "BF16", "BOOL", ...).
    pub fn name(self) -> &'static str {
        match self {
            PthDType::F64 => "F64",
            PthDType::F32 => "F32",
            PthDType::F16 => "F16",
            PthDType::BF16 => "BF16",
            PthDType::I64 => "I64",
            PthDType::I32 => "I32",
            PthDType::I16 => "I16",
            PthDType::I8 => "I8",
            PthDType::U8 => "U8",
            PthDType::Bool => "BOOL",
        }
    }

    /// The dtype of a torch storage class name (`FloatStorage`, ...). `UntypedStorage`
    /// is bytes.
    pub fn from_storage_name(name: &str) -> Option<PthDType> {
        Some(match name {
            "DoubleStorage" => PthDType::F64,
            "FloatStorage" => PthDType::F32,
            "HalfStorage" => PthDType::F16,
            "BFloat16Storage" => PthDType::BF16,
            "LongStorage" => PthDType::I64,
            "IntStorage" => PthDType::I32,
            "ShortStorage" => PthDType::I16,
            "CharStorage" => PthDType::I8,
            "ByteStorage" | "UntypedStorage" => PthDType::U8,
            "BoolStorage" => PthDType::Bool,
            _ => return None,
        })
    }
}

impl std::fmt::Display for PthDType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One tensor of a state dict.
#[derive(Debug, Clone)]
pub struct PthTensor {
    pub dtype: PthDType,
    pub shape: Vec<usize>,
    /// C-contiguous, little-endian, `len == numel * dtype.size()`.
    pub data: Vec<u8>,
}

impl PthTensor {
    /// Number of elements (1 for a 0-dim tensor).
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The values converted to f32 (any dtype; i64/f64 may lose precision, bool is 0/1).
    pub fn to_f32_vec(&self) -> Vec<f32> {
        let d = &self.data;
        match self.dtype {
            PthDType::F32 => d
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            PthDType::F64 => d
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f32)
                .collect(),
            PthDType::F16 => d
                .chunks_exact(2)
                .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
            PthDType::BF16 => d
                .chunks_exact(2)
                .map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16))
                .collect(),
            PthDType::I64 => d
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f32)
                .collect(),
            PthDType::I32 => d
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32)
                .collect(),
            PthDType::I16 => d
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]) as f32)
                .collect(),
            PthDType::I8 => d.iter().map(|&b| b as i8 as f32).collect(),
            PthDType::U8 => d.iter().map(|&b| b as f32).collect(),
            PthDType::Bool => d.iter().map(|&b| if b != 0 { 1.0 } else { 0.0 }).collect(),
        }
    }
}

/// IEEE half -> f32 (exact).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let man = (h & 0x3ff) as u32;
    let bits = if exp == 0 {
        if man == 0 {
            sign
        } else {
            // subnormal: value = man * 2^-24
            let v = man as f32 * (1.0 / 16_777_216.0);
            return if sign != 0 { -v } else { v };
        }
    } else if exp == 0x1f {
        sign | 0x7f80_0000 | (man << 13)
    } else {
        sign | ((exp + 127 - 15) << 23) | (man << 13)
    };
    f32::from_bits(bits)
}

/// Everything that can go wrong reading a checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum PthError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file that starts like a legacy (pre-1.6, non-zip) `torch.save` file but is not
    /// a well-formed one, or uses the unsupported tar-based layout of torch < 0.4.
    #[error("legacy (pre-1.6, non-zip) torch.save file {}: {detail}", path.display())]
    LegacyFormat { path: PathBuf, detail: String },
    #[error("not a zip archive: {} ({detail})", path.display())]
    NotZip { path: PathBuf, detail: String },
    #[error("zip archive {}: {detail}", path.display())]
    Zip { path: PathBuf, detail: String },
    #[error("zip entry {entry}: {detail}")]
    Entry { entry: String, detail: String },
    #[error("no data.pkl in archive {} (entries: {entries})", path.display())]
    MissingDataPkl { path: PathBuf, entries: String },
    #[error("{entry} says `{order}`; only little-endian checkpoints are supported")]
    ByteOrder { entry: String, order: String },
    #[error("unsupported pickle opcode 0x{opcode:02x} at byte {pos} of {entry}")]
    UnsupportedOpcode {
        opcode: u8,
        pos: usize,
        entry: String,
    },
    #[error("malformed pickle: {detail} (opcode 0x{opcode:02x} at byte {pos} of {entry})")]
    Pickle {
        detail: String,
        opcode: u8,
        pos: usize,
        entry: String,
    },
    #[error("no state dict in {entry}: {detail}")]
    NoStateDict { entry: String, detail: String },
    #[error("tensor `{key}`: {detail}")]
    Tensor { key: String, detail: String },
    #[error("storage data/{storage} (tensor `{key}`) is missing from the archive (expected entry {entry})")]
    MissingStorage {
        storage: String,
        key: String,
        entry: String,
    },
    #[error("storage data/{storage} has {have} bytes, tensor `{key}` needs {need}")]
    StorageTooShort {
        storage: String,
        key: String,
        have: u64,
        need: u64,
    },
}

// ---------------------------------------------------------------------------------
// Pickle values
// ---------------------------------------------------------------------------------

/// A sequence of values whose drop is iterative, so that deeply nested input cannot
/// overflow the stack when it is freed.
#[derive(Default)]
struct Seq(Vec<Value>);

impl Drop for Seq {
    fn drop(&mut self) {
        drain_values(std::mem::take(&mut self.0));
    }
}

#[derive(Default)]
struct Pairs(Vec<(Value, Value)>);

impl Drop for Pairs {
    fn drop(&mut self) {
        let mut work = Vec::with_capacity(self.0.len() * 2);
        for (k, v) in self.0.drain(..) {
            work.push(k);
            work.push(v);
        }
        drain_values(work);
    }
}

/// An object the unpickler does not model (unknown class / callable).
struct Obj {
    callable: Value,
    args: Value,
    state: Value,
}

impl Drop for Obj {
    fn drop(&mut self) {
        drain_values(vec![
            std::mem::replace(&mut self.callable, Value::None),
            std::mem::replace(&mut self.args, Value::None),
            std::mem::replace(&mut self.state, Value::None),
        ]);
    }
}

fn drain_values(mut work: Vec<Value>) {
    while let Some(v) = work.pop() {
        match v {
            Value::Tuple(rc) | Value::PersId(rc) => {
                if let Ok(mut seq) = Rc::try_unwrap(rc) {
                    work.append(&mut seq.0);
                }
            }
            Value::List(rc) | Value::Set(rc) => {
                if let Ok(cell) = Rc::try_unwrap(rc) {
                    work.append(&mut cell.into_inner().0);
                }
            }
            Value::Dict(rc) => {
                if let Ok(cell) = Rc::try_unwrap(rc) {
                    let mut pairs = cell.into_inner();
                    for (k, v) in pairs.0.drain(..) {
                        work.push(k);
                        work.push(v);
                    }
                }
            }
            Value::Object(rc) => {
                if let Ok(cell) = Rc::try_unwrap(rc) {
                    let mut o = cell.into_inner();
                    work.push(std::mem::replace(&mut o.callable, Value::None));
                    work.push(std::mem::replace(&mut o.args, Value::None));
                    work.push(std::mem::replace(&mut o.state, Value::None));
                }
            }
            _ => {}
        }
    }
}

#[derive(Debug)]
struct StorageRef {
    /// None for storage classes this reader does not support (complex, quantized, ...).
    dtype: Option<PthDType>,
    type_name: String,
    /// The (root) storage's key: zip entry `data/<key>`, or the legacy record key.
    key: String,
    /// Legacy storage views: the view starts `view_offset` elements into the root
    /// storage and holds `view_size` elements. (0, None) for a whole storage.
    view_offset: usize,
    view_size: Option<usize>,
}

/// What the legacy format needs to know of a root storage to step over its record:
/// from the first persistent id naming it (as torch does).
#[derive(Debug, Clone)]
struct StorageDecl {
    type_name: String,
    /// Element size in bytes, None for a storage class of unknown size.
    elem: Option<usize>,
    numel: usize,
}

/// Element size of torch storage classes this reader cannot load but must step over.
fn other_storage_elem_size(name: &str) -> Option<usize> {
    Some(match name {
        "ComplexDoubleStorage" => 16,
        "ComplexFloatStorage" => 8,
        "ComplexHalfStorage" => 4,
        "QInt32Storage" | "UInt32Storage" => 4,
        "UInt64Storage" => 8,
        "UInt16Storage" => 2,
        "QInt8Storage" | "QUInt8Storage" | "QUInt4x2Storage" | "QUInt2x4Storage" => 1,
        _ => return None,
    })
}

#[derive(Debug)]
struct TensorSpec {
    storage: Rc<StorageRef>,
    offset: usize,
    shape: Vec<usize>,
    stride: Vec<usize>,
}

#[derive(Clone)]
#[allow(dead_code)] // payloads of some variants are kept for completeness only
enum Value {
    None,
    Bool(bool),
    Int(i64),
    /// An integer that does not fit in i64 (kept opaque).
    BigInt,
    Float(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    Tuple(Rc<Seq>),
    List(Rc<RefCell<Seq>>),
    Set(Rc<RefCell<Seq>>),
    Dict(Rc<RefCell<Pairs>>),
    Global(Rc<(String, String)>),
    Object(Rc<RefCell<Obj>>),
    /// A persistent id this reader does not know (one element: the pid).
    PersId(Rc<Seq>),
    Storage(Rc<StorageRef>),
    Tensor(Rc<TensorSpec>),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Dict(_) => "dict",
            Value::Global(_) => "global",
            Value::Object(_) => "object",
            Value::PersId(_) => "persistent id",
            Value::Storage(_) => "storage",
            Value::Tensor(_) => "tensor",
        }
    }

    fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(Rc::new(Seq(items)))
    }

    fn new_dict() -> Value {
        Value::Dict(Rc::new(RefCell::new(Pairs::default())))
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Items of a tuple or list (cloned; values are reference counted so this is cheap).
    fn items(&self) -> Option<Vec<Value>> {
        match self {
            Value::Tuple(t) => Some(t.0.clone()),
            Value::List(l) => Some(l.borrow().0.clone()),
            _ => None,
        }
    }

    /// Shallow search (bounded depth) for a storage or tensor.
    fn contains_tensor_data(&self, depth: usize) -> bool {
        if depth == 0 {
            return false;
        }
        match self {
            Value::Storage(_) | Value::Tensor(_) => true,
            Value::Tuple(_) | Value::List(_) => self
                .items()
                .unwrap_or_default()
                .iter()
                .any(|v| v.contains_tensor_data(depth - 1)),
            Value::Object(o) => {
                let o = o.borrow();
                o.args.contains_tensor_data(depth - 1)
            }
            _ => false,
        }
    }
}

// ---------------------------------------------------------------------------------
// Unpickler
// ---------------------------------------------------------------------------------

struct Unpickler<'a> {
    data: &'a [u8],
    pos: usize,
    /// Position and value of the opcode being executed (for error messages).
    op_pos: usize,
    op: u8,
    entry: &'a str,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<u32, Value>,
    /// Every storage named by a persistent id, by key (first declaration kept).
    storages: HashMap<String, StorageDecl>,
}

type PResult<T> = Result<T, PthError>;

const MAX_REBUILD_DEPTH: usize = 8;

impl<'a> Unpickler<'a> {
    fn new(data: &'a [u8], entry: &'a str) -> Self {
        Unpickler {
            data,
            pos: 0,
            op_pos: 0,
            op: 0,
            entry,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
            storages: HashMap::new(),
        }
    }

    /// An unpickler for the pickle starting at byte `pos` of `data` (positions in
    /// error messages are then offsets into `data`).
    fn at(data: &'a [u8], pos: usize, entry: &'a str) -> Self {
        let mut u = Self::new(data, entry);
        u.pos = pos.min(data.len());
        u
    }

    fn err(&self, detail: impl Into<String>) -> PthError {
        PthError::Pickle {
            detail: detail.into(),
            opcode: self.op,
            pos: self.op_pos,
            entry: self.entry.to_string(),
        }
    }

    fn take(&mut self, n: usize) -> PResult<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| {
                self.err(format!(
                    "truncated: needs {n} more bytes, {} left",
                    self.data.len() - self.pos.min(self.data.len())
                ))
            })?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> PResult<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> PResult<u16> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> PResult<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> PResult<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn len_u64(&mut self) -> PResult<usize> {
        let n = self.u64()?;
        usize::try_from(n).map_err(|_| self.err(format!("length {n} too large")))
    }

    /// A text line without its trailing newline.
    fn line(&mut self) -> PResult<&'a str> {
        let rest = &self.data[self.pos.min(self.data.len())..];
        let nl = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| self.err("truncated: missing newline"))?;
        let line = &rest[..nl];
        self.pos += nl + 1;
        let s = std::str::from_utf8(line).map_err(|_| self.err("line is not UTF-8"))?;
        Ok(s.strip_suffix('\r').unwrap_or(s))
    }

    fn utf8(&self, b: &[u8]) -> PResult<Value> {
        std::str::from_utf8(b)
            .map(|s| Value::Str(Rc::from(s)))
            .map_err(|_| self.err("string is not valid UTF-8"))
    }

    fn floor(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    fn pop(&mut self) -> PResult<Value> {
        if self.stack.len() <= self.floor() {
            return Err(self.err("stack underflow"));
        }
        self.stack.pop().ok_or_else(|| self.err("stack underflow"))
    }

    fn top(&self) -> PResult<&Value> {
        if self.stack.len() <= self.floor() {
            return Err(self.err("stack underflow (empty stack)"));
        }
        self.stack.last().ok_or_else(|| self.err("stack underflow"))
    }

    fn pop_mark(&mut self) -> PResult<Vec<Value>> {
        let m = self
            .marks
            .pop()
            .ok_or_else(|| self.err("no MARK on the stack"))?;
        if m > self.stack.len() {
            return Err(self.err("MARK above the stack top"));
        }
        Ok(self.stack.split_off(m))
    }

    fn memo_get(&self, idx: u32) -> PResult<Value> {
        self.memo
            .get(&idx)
            .cloned()
            .ok_or_else(|| self.err(format!("memo index {idx} is not set")))
    }

    fn memo_put(&mut self, idx: u32) -> PResult<()> {
        let v = self.top()?.clone();
        self.memo.insert(idx, v);
        Ok(())
    }

    fn int_from_le(&self, b: &[u8]) -> Value {
        if b.is_empty() {
            return Value::Int(0);
        }
        if b.len() > 8 {
            // Fits in i64 only if the extra bytes are pure sign extension.
            let neg = b[7] & 0x80 != 0;
            let ext = if neg { 0xff } else { 0 };
            if b[8..].iter().any(|&x| x != ext) {
                return Value::BigInt;
            }
            return self.int_from_le(&b[..8]);
        }
        let neg = b[b.len() - 1] & 0x80 != 0;
        let mut a = if neg { [0xffu8; 8] } else { [0u8; 8] };
        a[..b.len()].copy_from_slice(b);
        Value::Int(i64::from_le_bytes(a))
    }

    fn run(&mut self) -> PResult<Value> {
        loop {
            self.op_pos = self.pos;
            if self.pos >= self.data.len() {
                self.op = 0;
                return Err(self.err("truncated: pickle ends without STOP"));
            }
            let op = self.data[self.pos];
            self.op = op;
            self.pos += 1;
            match op {
                // PROTO
                0x80 => {
                    let p = self.u8()?;
                    if p > 5 {
                        return Err(self.err(format!("unsupported pickle protocol {p}")));
                    }
                }
                // FRAME: frames are just a length prefix; data is contiguous anyway.
                0x95 => {
                    self.u64()?;
                }
                b'.' => return self.pop(),
                b'(' => self.marks.push(self.stack.len()),
                b'0' => {
                    self.pop()?;
                }
                b'1' => {
                    self.pop_mark()?;
                }
                b'2' => {
                    let v = self.top()?.clone();
                    self.push(v);
                }
                b'N' => self.push(Value::None),
                0x88 => self.push(Value::Bool(true)),
                0x89 => self.push(Value::Bool(false)),
                // INT (text)
                b'I' => {
                    let l = self.line()?;
                    let v = match l {
                        "00" => Value::Bool(false),
                        "01" => Value::Bool(true),
                        _ => match l.parse::<i64>() {
                            Ok(i) => Value::Int(i),
                            Err(_)
                                if !l.is_empty()
                                    && l.trim_start_matches('-')
                                        .bytes()
                                        .all(|b| b.is_ascii_digit()) =>
                            {
                                Value::BigInt
                            }
                            Err(_) => return Err(self.err(format!("bad INT `{l}`"))),
                        },
                    };
                    self.push(v);
                }
                // LONG (text)
                b'L' => {
                    let l = self.line()?;
                    let l = l.strip_suffix('L').unwrap_or(l);
                    let v = match l.parse::<i64>() {
                        Ok(i) => Value::Int(i),
                        Err(_)
                            if !l.is_empty()
                                && l.trim_start_matches('-')
                                    .bytes()
                                    .all(|b| b.is_ascii_digit()) =>
                        {
                            Value::BigInt
                        }
                        Err(_) => return Err(self.err(format!("bad LONG `{l}`"))),
                    };
                    self.push(v);
                }
                b'J' => {
                    let v = self.u32()? as i32;
                    self.push(Value::Int(v as i64));
                }
                b'K' => {
                    let v = self.u8()?;
                    self.push(Value::Int(v as i64));
                }
                b'M' => {
                    let v = self.u16()?;
                    self.push(Value::Int(v as i64));
                }
                // LONG1
                0x8a => {
                    let n = self.u8()? as usize;
                    let b = self.take(n)?;
                    let v = self.int_from_le(b);
                    self.push(v);
                }
                // LONG4
                0x8b => {
                    let n = self.u32()? as i32;
                    if n < 0 {
                        return Err(self.err("negative LONG4 length"));
                    }
                    let b = self.take(n as usize)?;
                    let v = self.int_from_le(b);
                    self.push(v);
                }
                b'G' => {
                    let b = self.take(8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    self.push(Value::Float(f64::from_be_bytes(a)));
                }
                b'F' => {
                    let l = self.line()?;
                    let f = l
                        .parse::<f64>()
                        .map_err(|_| self.err(format!("bad FLOAT `{l}`")))?;
                    self.push(Value::Float(f));
                }
                // BINUNICODE
                b'X' => {
                    let n = self.u32()? as usize;
                    let b = self.take(n)?;
                    let v = self.utf8(b)?;
                    self.push(v);
                }
                // SHORT_BINUNICODE
                0x8c => {
                    let n = self.u8()? as usize;
                    let b = self.take(n)?;
                    let v = self.utf8(b)?;
                    self.push(v);
                }
                // BINUNICODE8
                0x8d => {
                    let n = self.len_u64()?;
                    let b = self.take(n)?;
                    let v = self.utf8(b)?;
                    self.push(v);
                }
                // BINSTRING / SHORT_BINSTRING (python 2 str): decoded as latin-1.
                b'T' | b'U' => {
                    let n = if op == b'T' {
                        let n = self.u32()? as i32;
                        if n < 0 {
                            return Err(self.err("negative BINSTRING length"));
                        }
                        n as usize
                    } else {
                        self.u8()? as usize
                    };
                    let b = self.take(n)?;
                    let s: String = b.iter().map(|&c| c as char).collect();
                    self.push(Value::Str(Rc::from(s)));
                }
                // BINBYTES / SHORT_BINBYTES / BINBYTES8 / BYTEARRAY8
                b'B' | b'C' | 0x8e | 0x96 => {
                    let n = match op {
                        b'B' => self.u32()? as usize,
                        b'C' => self.u8()? as usize,
                        _ => self.len_u64()?,
                    };
                    let b = self.take(n)?;
                    self.push(Value::Bytes(Rc::from(b)));
                }
                b')' => self.push(Value::tuple(Vec::new())),
                b't' => {
                    let items = self.pop_mark()?;
                    self.push(Value::tuple(items));
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    if self.stack.len() < self.floor() + n {
                        return Err(self.err("stack underflow"));
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.push(Value::tuple(items));
                }
                b']' => self.push(Value::List(Rc::new(RefCell::new(Seq::default())))),
                b'l' => {
                    let items = self.pop_mark()?;
                    self.push(Value::List(Rc::new(RefCell::new(Seq(items)))));
                }
                b'a' => {
                    let v = self.pop()?;
                    self.extend_top(vec![v])?;
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    self.extend_top(items)?;
                }
                b'}' => self.push(Value::new_dict()),
                b'd' => {
                    let items = self.pop_mark()?;
                    let d = Value::new_dict();
                    set_items(&d, items);
                    self.push(d);
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    self.setitems_top(vec![k, v])?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    if items.len() % 2 != 0 {
                        return Err(self.err("SETITEMS with an odd number of items"));
                    }
                    self.setitems_top(items)?;
                }
                // EMPTY_SET
                0x8f => self.push(Value::Set(Rc::new(RefCell::new(Seq::default())))),
                // ADDITEMS
                0x90 => {
                    let items = self.pop_mark()?;
                    match self.top()? {
                        Value::Set(s) => s.borrow_mut().0.extend(items),
                        Value::Object(_) => {}
                        other => {
                            let k = other.kind();
                            return Err(self.err(format!("ADDITEMS on a {k}")));
                        }
                    }
                }
                // FROZENSET
                0x91 => {
                    let items = self.pop_mark()?;
                    self.push(Value::Set(Rc::new(RefCell::new(Seq(items)))));
                }
                // GLOBAL
                b'c' => {
                    let module = self.line()?.to_string();
                    let name = self.line()?.to_string();
                    self.push(Value::Global(Rc::new((module, name))));
                }
                // STACK_GLOBAL
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    match (module.as_str(), name.as_str()) {
                        (Some(m), Some(n)) => {
                            let g = Value::Global(Rc::new((m.to_string(), n.to_string())));
                            self.push(g);
                        }
                        _ => return Err(self.err("STACK_GLOBAL needs two strings")),
                    }
                }
                // INST (protocol 0): module, name lines, args since mark.
                b'i' => {
                    let module = self.line()?.to_string();
                    let name = self.line()?.to_string();
                    let args = self.pop_mark()?;
                    let v = self.reduce(
                        Value::Global(Rc::new((module, name))),
                        Value::tuple(args),
                        0,
                    )?;
                    self.push(v);
                }
                // OBJ: class and args since mark.
                b'o' => {
                    let mut items = self.pop_mark()?;
                    if items.is_empty() {
                        return Err(self.err("OBJ without a class"));
                    }
                    let cls = items.remove(0);
                    let v = self.reduce(cls, Value::tuple(items), 0)?;
                    self.push(v);
                }
                b'R' => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let v = self.reduce(callable, args, 0)?;
                    self.push(v);
                }
                // NEWOBJ
                0x81 => {
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    let v = self.reduce(cls, args, 0)?;
                    self.push(v);
                }
                // NEWOBJ_EX
                0x92 => {
                    let _kwargs = self.pop()?;
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    let v = self.reduce(cls, args, 0)?;
                    self.push(v);
                }
                b'b' => {
                    let state = self.pop()?;
                    // Only opaque objects keep their state; on a dict (OrderedDict
                    // `_metadata`) attributes are not modelled.
                    if let Value::Object(o) = self.top()? {
                        o.borrow_mut().state = state;
                    }
                }
                b'q' => {
                    let i = self.u8()? as u32;
                    self.memo_put(i)?;
                }
                b'r' => {
                    let i = self.u32()?;
                    self.memo_put(i)?;
                }
                b'p' => {
                    let l = self.line()?;
                    let i = l
                        .parse::<u32>()
                        .map_err(|_| self.err(format!("bad PUT index `{l}`")))?;
                    self.memo_put(i)?;
                }
                // MEMOIZE
                0x94 => {
                    let i =
                        u32::try_from(self.memo.len()).map_err(|_| self.err("memo too large"))?;
                    self.memo_put(i)?;
                }
                b'h' => {
                    let i = self.u8()? as u32;
                    let v = self.memo_get(i)?;
                    self.push(v);
                }
                b'j' => {
                    let i = self.u32()?;
                    let v = self.memo_get(i)?;
                    self.push(v);
                }
                b'g' => {
                    let l = self.line()?;
                    let i = l
                        .parse::<u32>()
                        .map_err(|_| self.err(format!("bad GET index `{l}`")))?;
                    let v = self.memo_get(i)?;
                    self.push(v);
                }
                b'Q' => {
                    let pid = self.pop()?;
                    let v = self.persistent_load(pid)?;
                    self.push(v);
                }
                b'P' => {
                    let l = self.line()?;
                    let pid = Value::Str(Rc::from(l));
                    self.push(Value::PersId(Rc::new(Seq(vec![pid]))));
                }
                _ => {
                    return Err(PthError::UnsupportedOpcode {
                        opcode: op,
                        pos: self.op_pos,
                        entry: self.entry.to_string(),
                    })
                }
            }
        }
    }

    fn extend_top(&mut self, items: Vec<Value>) -> PResult<()> {
        match self.top()? {
            Value::List(l) => {
                l.borrow_mut().0.extend(items);
                Ok(())
            }
            // list subclasses / unknown objects: contents are not modelled.
            Value::Object(_) => Ok(()),
            other => {
                let k = other.kind();
                Err(self.err(format!("APPEND(S) on a {k}")))
            }
        }
    }

    fn setitems_top(&mut self, items: Vec<Value>) -> PResult<()> {
        match self.top()? {
            d @ Value::Dict(_) => {
                set_items(d, items);
                Ok(())
            }
            Value::Object(_) => Ok(()),
            other => {
                let k = other.kind();
                Err(self.err(format!("SETITEM(S) on a {k}")))
            }
        }
    }

    fn persistent_load(&mut self, pid: Value) -> PResult<Value> {
        let items = match &pid {
            Value::Tuple(t) => t.0.clone(),
            _ => return Ok(Value::PersId(Rc::new(Seq(vec![pid])))),
        };
        if items.first().and_then(Value::as_str) != Some("storage") {
            return Ok(Value::PersId(Rc::new(Seq(vec![pid]))));
        }
        if items.len() < 5 {
            return Err(self.err(format!(
                "storage persistent id has {} fields, expected 5",
                items.len()
            )));
        }
        let (module, name) = match &items[1] {
            Value::Global(g) => (g.0.clone(), g.1.clone()),
            other => {
                return Err(self.err(format!(
                    "storage persistent id: type is a {}, expected a global",
                    other.kind()
                )))
            }
        };
        let key = match &items[2] {
            Value::Str(s) => s.to_string(),
            Value::Int(i) => i.to_string(),
            other => {
                return Err(self.err(format!(
                    "storage persistent id: key is a {}, expected a str",
                    other.kind()
                )))
            }
        };
        if key.is_empty() || key.contains('/') || key.contains("..") {
            return Err(self.err(format!("storage persistent id: bad key `{key}`")));
        }
        let dtype = if module == "torch" {
            PthDType::from_storage_name(&name)
        } else {
            None
        };
        let type_name = format!("{module}.{name}");
        let numel = self.to_usize(&items[4], "storage numel")?;
        // Legacy format: a sixth field, None or (view_key, offset, view_size).
        let (view_offset, view_size) = match items.get(5) {
            None | Some(Value::None) => (0, None),
            Some(v) => {
                let meta = v.items().filter(|m| m.len() == 3).ok_or_else(|| {
                    self.err(format!(
                        "storage persistent id: view metadata is a {}, expected a 3-tuple",
                        v.kind()
                    ))
                })?;
                let offset = self.to_usize(&meta[1], "storage view offset")?;
                let size = self.to_usize(&meta[2], "storage view size")?;
                if offset.checked_add(size).is_none_or(|end| end > numel) {
                    return Err(self.err(format!(
                        "storage view [{offset}, {offset}+{size}) exceeds storage `{key}` of {numel} elements"
                    )));
                }
                (offset, Some(size))
            }
        };
        let elem = dtype.map(PthDType::size).or_else(|| {
            (module == "torch")
                .then(|| other_storage_elem_size(&name))
                .flatten()
        });
        self.storages.entry(key.clone()).or_insert(StorageDecl {
            type_name: type_name.clone(),
            elem,
            numel,
        });
        Ok(Value::Storage(Rc::new(StorageRef {
            dtype,
            type_name,
            key,
            view_offset,
            view_size,
        })))
    }

    fn to_usize(&self, v: &Value, what: &str) -> PResult<usize> {
        match v {
            Value::Int(i) if *i >= 0 => {
                usize::try_from(*i).map_err(|_| self.err(format!("{what} {i} too large")))
            }
            Value::Int(i) => Err(self.err(format!("{what} is negative ({i})"))),
            other => Err(self.err(format!("{what} is a {}, expected an int", other.kind()))),
        }
    }

    fn usize_tuple(&self, v: &Value, what: &str) -> PResult<Vec<usize>> {
        let items = v
            .items()
            .ok_or_else(|| self.err(format!("{what} is a {}, expected a tuple", v.kind())))?;
        items.iter().map(|x| self.to_usize(x, what)).collect()
    }

    /// `_rebuild_tensor(_v2)(storage, storage_offset, size, stride, ...)`.
    fn rebuild_tensor(&self, args: &Value, func: &str) -> PResult<Value> {
        let a = args
            .items()
            .ok_or_else(|| self.err(format!("{func} arguments are a {}", args.kind())))?;
        if a.len() < 4 {
            return Err(self.err(format!("{func} has {} arguments, expected >= 4", a.len())));
        }
        let storage = match &a[0] {
            Value::Storage(s) => s.clone(),
            other => {
                return Err(self.err(format!(
                    "{func}: first argument is a {}, expected a storage",
                    other.kind()
                )))
            }
        };
        let offset = self.to_usize(&a[1], "storage offset")?;
        let shape = self.usize_tuple(&a[2], "size")?;
        let stride = self.usize_tuple(&a[3], "stride")?;
        if shape.len() != stride.len() {
            return Err(self.err(format!(
                "{func}: size has {} dims but stride has {}",
                shape.len(),
                stride.len()
            )));
        }
        Ok(Value::Tensor(Rc::new(TensorSpec {
            storage,
            offset,
            shape,
            stride,
        })))
    }

    /// Applies a callable (REDUCE / NEWOBJ / OBJ / INST). Only a few well-known
    /// callables are modelled; everything else becomes an opaque object.
    fn reduce(&self, callable: Value, args: Value, depth: usize) -> PResult<Value> {
        if depth > MAX_REBUILD_DEPTH {
            return Err(self.err("tensor rebuild calls nested too deeply"));
        }
        let g = match &callable {
            Value::Global(g) => g.clone(),
            _ => return Ok(opaque(callable, args)),
        };
        let (module, name) = (g.0.as_str(), g.1.as_str());
        match (module, name) {
            ("torch._utils", "_rebuild_tensor_v2") | ("torch._utils", "_rebuild_tensor") => {
                self.rebuild_tensor(&args, name)
            }
            ("torch._utils", "_rebuild_parameter")
            | ("torch._utils", "_rebuild_parameter_with_state")
            | ("torch.nn.parameter", "Parameter") => {
                let a = args.items().unwrap_or_default();
                match a.first() {
                    Some(t @ Value::Tensor(_)) => Ok(t.clone()),
                    Some(Value::Object(_)) | None => Ok(opaque(callable, args)),
                    Some(other) => Err(self.err(format!(
                        "{name}: first argument is a {}, expected a tensor",
                        other.kind()
                    ))),
                }
            }
            ("torch._tensor", "_rebuild_from_type_v2")
            | ("torch._tensor", "_rebuild_from_type") => {
                // (func, new_type, args, state)
                let a = args.items().unwrap_or_default();
                if a.len() >= 3 {
                    let inner = self.reduce(a[0].clone(), a[2].clone(), depth + 1)?;
                    if matches!(inner, Value::Tensor(_)) {
                        return Ok(inner);
                    }
                }
                Ok(opaque(callable, args))
            }
            ("collections", "OrderedDict") | ("builtins", "dict") | ("__builtin__", "dict") => {
                let d = Value::new_dict();
                // OrderedDict(iterable_of_pairs) as emitted by some picklers.
                if let Some(a) = args.items() {
                    if let Some(first) = a.first() {
                        if let Some(pairs) = first.items() {
                            let mut flat = Vec::with_capacity(pairs.len() * 2);
                            for p in pairs {
                                match p.items() {
                                    Some(kv) if kv.len() == 2 => flat.extend(kv),
                                    _ => return Ok(opaque(callable, args)),
                                }
                            }
                            set_items(&d, flat);
                        }
                    }
                }
                Ok(d)
            }
            ("torch", "Size") => {
                let a = args.items().unwrap_or_default();
                match a.first() {
                    Some(t @ (Value::Tuple(_) | Value::List(_))) => {
                        Ok(Value::tuple(t.items().unwrap_or_default()))
                    }
                    _ => Ok(Value::tuple(Vec::new())),
                }
            }
            _ => Ok(opaque(callable, args)),
        }
    }
}

fn opaque(callable: Value, args: Value) -> Value {
    Value::Object(Rc::new(RefCell::new(Obj {
        callable,
        args,
        state: Value::None,
    })))
}

/// Appends key/value pairs (flattened) to a dict value.
fn set_items(d: &Value, items: Vec<Value>) {
    if let Value::Dict(d) = d {
        let mut d = d.borrow_mut();
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            d.0.push((k, v));
        }
    }
}

// ---------------------------------------------------------------------------------
// Archive reading
// ---------------------------------------------------------------------------------

/// Reads the state dict of a `torch.save` checkpoint, zip or legacy format.
///
/// If the top-level object is a dict holding the key `entry` (e.g. "model", or
/// "state_dict"), that inner dict is used; if `entry` is None, the key "model" is used
/// when it holds a dict, else "state_dict" when it holds a dict, else the top-level dict
/// itself. When `entry` is given but absent, the top-level dict is used if it holds
/// tensors itself (a bare state dict), otherwise it is an error naming the keys found.
/// A leading `module.` prefix on every key (DataParallel) is stripped. Non-tensor values
/// inside the state dict are skipped. Keys keep the order they have in the file.
pub fn read_state_dict(
    path: &Path,
    entry: Option<&str>,
) -> Result<Vec<(String, PthTensor)>, PthError> {
    let io_err = |source| PthError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io_err)?;
    let file_len = file.metadata().map_err(io_err)?.len();
    let mut head = [0u8; HEAD_LEN];
    let n = read_fully(&mut file, &mut head).map_err(io_err)?;
    file.rewind().map_err(io_err)?;
    match check_magic(path, &head[..n])? {
        Format::Zip => read_state_dict_from_reader(file, file_len, path, entry),
        Format::Legacy => {
            let mut bytes = Vec::with_capacity(usize::try_from(file_len).unwrap_or(0));
            file.read_to_end(&mut bytes).map_err(io_err)?;
            read_legacy(&bytes, path, entry)
        }
    }
}

/// Like [`read_state_dict`], for a checkpoint already in memory. `name` is used in
/// error messages.
pub fn read_state_dict_from_bytes(
    bytes: &[u8],
    name: &Path,
    entry: Option<&str>,
) -> Result<Vec<(String, PthTensor)>, PthError> {
    match check_magic(name, &bytes[..bytes.len().min(HEAD_LEN)])? {
        Format::Zip => read_state_dict_from_reader(
            std::io::Cursor::new(bytes),
            bytes.len() as u64,
            name,
            entry,
        ),
        Format::Legacy => read_legacy(bytes, name, entry),
    }
}

fn read_fully(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Bytes looked at to tell the formats apart (a tar header is 512 bytes).
const HEAD_LEN: usize = 512;

enum Format {
    Zip,
    Legacy,
}

fn check_magic(path: &Path, magic: &[u8]) -> Result<Format, PthError> {
    if magic.starts_with(b"PK") {
        return Ok(Format::Zip);
    }
    // Legacy torch.save: a pickle (PROTO opcode) of the magic number.
    if magic.first() == Some(&0x80) {
        return Ok(Format::Legacy);
    }
    // torch < 0.4 wrote a tar archive (members sys_info, pickle, storages, tensors).
    if magic.len() >= 262 && &magic[257..262] == b"ustar" {
        return Err(PthError::LegacyFormat {
            path: path.to_path_buf(),
            detail: "this is the tar-based format of torch < 0.4, which is not supported; \
                     re-save it with a newer torch (torch.save(torch.load(f), g))"
                .to_string(),
        });
    }
    let shown = &magic[..magic.len().min(4)];
    let detail = if magic.is_empty() {
        "file is empty".to_string()
    } else {
        format!(
            "file starts with bytes {}",
            shown
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    Err(PthError::NotZip {
        path: path.to_path_buf(),
        detail,
    })
}

/// Reads a whole zip entry, refusing one that claims more bytes than the file has.
fn read_entry<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    name: &str,
    file_len: u64,
) -> Result<Vec<u8>, PthError> {
    let entry_err = |detail: String| PthError::Entry {
        entry: name.to_string(),
        detail,
    };
    let mut f = archive.by_name(name).map_err(|e| match e {
        zip::result::ZipError::UnsupportedArchive(m) => entry_err(format!(
            "{m} (entry is compressed; torch.save writes stored entries only)"
        )),
        e => entry_err(e.to_string()),
    })?;
    if f.compression() != zip::CompressionMethod::Stored {
        return Err(entry_err(format!(
            "compressed with {:?}; only stored (uncompressed) entries are supported",
            f.compression()
        )));
    }
    let size = f.size();
    if size > file_len {
        return Err(entry_err(format!(
            "claims {size} bytes but the file has only {file_len}"
        )));
    }
    let mut buf = Vec::with_capacity(size as usize);
    (&mut f)
        .take(size)
        .read_to_end(&mut buf)
        .map_err(|e| entry_err(format!("read failed: {e}")))?;
    if (buf.len() as u64) != size {
        return Err(entry_err(format!(
            "truncated: {} of {size} bytes",
            buf.len()
        )));
    }
    Ok(buf)
}

/// Like [`read_state_dict`] on any seekable reader over a checkpoint of `len` bytes
/// (a zip archive, or a legacy file, which is then read into memory).
pub fn read_state_dict_from_reader<R: Read + Seek>(
    mut reader: R,
    len: u64,
    name: &Path,
    entry: Option<&str>,
) -> Result<Vec<(String, PthTensor)>, PthError> {
    let io_err = |source| PthError::Io {
        path: name.to_path_buf(),
        source,
    };
    let start = reader.stream_position().map_err(io_err)?;
    let mut first = [0u8; 1];
    let n = read_fully(&mut reader, &mut first).map_err(io_err)?;
    reader
        .seek(std::io::SeekFrom::Start(start))
        .map_err(io_err)?;
    if n == 1 && first[0] == 0x80 {
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        reader.take(len).read_to_end(&mut bytes).map_err(io_err)?;
        return read_legacy(&bytes, name, entry);
    }
    let mut archive = zip::ZipArchive::new(reader).map_err(|e| match e {
        zip::result::ZipError::InvalidArchive(m) => PthError::Zip {
            path: name.to_path_buf(),
            detail: format!("corrupt or truncated zip archive: {m}"),
        },
        e => PthError::Zip {
            path: name.to_path_buf(),
            detail: e.to_string(),
        },
    })?;
    let names: Vec<String> = archive.file_names().map(str::to_string).collect();
    let name_set: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();

    // Locate `<top>/data.pkl`. Prefer the top folder of the first entry (as torch does).
    let first_top = names
        .first()
        .and_then(|n| n.split_once('/'))
        .map(|(t, _)| t.to_string());
    let is_pkl = |n: &str| {
        n.strip_suffix("/data.pkl")
            .map(|t| !t.is_empty() && !t.contains('/'))
            .unwrap_or(false)
    };
    let pkl = first_top
        .as_ref()
        .map(|t| format!("{t}/data.pkl"))
        .filter(|p| names.iter().any(|n| n == p))
        .or_else(|| names.iter().find(|n| is_pkl(n)).cloned())
        .ok_or_else(|| {
            let mut entries = names
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if names.len() > 10 {
                entries.push_str(&format!(", ... ({} in all)", names.len()));
            }
            if entries.is_empty() {
                entries = "none".to_string();
            }
            PthError::MissingDataPkl {
                path: name.to_path_buf(),
                entries,
            }
        })?;
    let top = pkl.strip_suffix("data.pkl").unwrap_or("").to_string(); // "archive/"

    let bo_name = format!("{top}byteorder");
    if names.contains(&bo_name) {
        let bo = read_entry(&mut archive, &bo_name, len)?;
        let order = String::from_utf8_lossy(&bo).trim().to_string();
        if order != "little" {
            return Err(PthError::ByteOrder {
                entry: bo_name,
                order,
            });
        }
    }

    let pkl_bytes = read_entry(&mut archive, &pkl, len)?;
    let root = Unpickler::new(&pkl_bytes, &pkl).run()?;
    let specs = select_tensors(&root, entry, &pkl)?;
    drop(root);

    materialize(specs, len, |skey, key| {
        let ename = format!("{top}data/{skey}");
        if !name_set.contains(ename.as_str()) {
            return Err(PthError::MissingStorage {
                storage: skey.to_string(),
                key: key.to_string(),
                entry: ename,
            });
        }
        read_entry(&mut archive, &ename, len)
    })
}

/// Turns tensor specs into contiguous tensors. `fetch(storage_key, tensor_key)` returns
/// a storage's bytes; each storage is fetched once and freed after its last use.
/// `len` is the size of the file (bounds what overlapping views may expand to).
fn materialize(
    specs: Vec<(String, Rc<TensorSpec>)>,
    len: u64,
    mut fetch: impl FnMut(&str, &str) -> Result<Vec<u8>, PthError>,
) -> Result<Vec<(String, PthTensor)>, PthError> {
    let mut uses: HashMap<String, usize> = HashMap::new();
    for (_, t) in &specs {
        *uses.entry(t.storage.key.clone()).or_default() += 1;
    }
    let mut cache: HashMap<String, Vec<u8>> = HashMap::new();
    let mut out = Vec::with_capacity(specs.len());
    for (key, spec) in specs {
        let skey = spec.storage.key.clone();
        let dtype = spec.storage.dtype.ok_or_else(|| PthError::Tensor {
            key: key.clone(),
            detail: format!(
                "unsupported storage type {} (storage data/{skey})",
                spec.storage.type_name
            ),
        })?;
        let elem = dtype.size();
        let numel = spec
            .shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or_else(|| PthError::Tensor {
                key: key.clone(),
                detail: format!("shape {:?} overflows", spec.shape),
            })?;
        let out_bytes = numel.checked_mul(elem).ok_or_else(|| PthError::Tensor {
            key: key.clone(),
            detail: format!("shape {:?} overflows", spec.shape),
        })?;
        // Non-overlapping views never exceed their storage; overlapping ones (stride 0,
        // expand) may, but are bounded by a multiple of the file size.
        let limit = len.saturating_mul(16).saturating_add(1 << 20);
        if out_bytes as u64 > limit {
            return Err(PthError::Tensor {
                key,
                detail: format!(
                    "shape {:?} needs {out_bytes} bytes, more than allowed for a {len}-byte file",
                    spec.shape
                ),
            });
        }
        let data = if numel == 0 {
            Vec::new()
        } else {
            // Highest element index touched (within the storage view), then bytes needed.
            let mut max_idx = spec.offset;
            for (&d, &s) in spec.shape.iter().zip(&spec.stride) {
                max_idx = (d - 1)
                    .checked_mul(s)
                    .and_then(|x| x.checked_add(max_idx))
                    .ok_or_else(|| PthError::Tensor {
                        key: key.clone(),
                        detail: "offset/stride overflow".to_string(),
                    })?;
            }
            if let Some(view) = spec.storage.view_size {
                if max_idx >= view {
                    return Err(PthError::Tensor {
                        key,
                        detail: format!(
                            "reaches element {max_idx} of a storage view of {view} elements \
                             (storage {skey})"
                        ),
                    });
                }
            }
            let offset = spec.storage.view_offset + spec.offset; // no overflow: view checked
            let max_idx = max_idx + spec.storage.view_offset;
            let need = (max_idx as u64 + 1).saturating_mul(elem as u64);
            if !cache.contains_key(&skey) {
                let bytes = fetch(&skey, &key)?;
                cache.insert(skey.clone(), bytes);
            }
            let storage = &cache[&skey];
            if need > storage.len() as u64 {
                return Err(PthError::StorageTooShort {
                    storage: skey,
                    key,
                    have: storage.len() as u64,
                    need,
                });
            }
            let last_use = uses.get(&skey) == Some(&1);
            if last_use
                && offset == 0
                && storage.len() == out_bytes
                && is_contiguous(&spec.shape, &spec.stride)
            {
                // The tensor is its whole storage and nothing else uses it: no copy.
                cache.remove(&skey).unwrap_or_default()
            } else {
                gather(storage, elem, offset, &spec.shape, &spec.stride, numel)
            }
        };
        if let Some(u) = uses.get_mut(&skey) {
            *u -= 1;
            if *u == 0 {
                cache.remove(&skey);
            }
        }
        out.push((
            key,
            PthTensor {
                dtype,
                shape: spec.shape.clone(),
                data,
            },
        ));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------
// Legacy (pre-1.6) format
// ---------------------------------------------------------------------------------

/// The magic number torch.save's legacy format pickles first, little-endian.
const LEGACY_MAGIC_LE: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
const LEGACY_MAGIC_DEC: &str = "119547037146038801333356";
const LEGACY_PROTOCOL_VERSION: i64 = 1001;

const E_MAGIC: &str = "legacy magic-number pickle";
const E_VERSION: &str = "legacy protocol-version pickle";
const E_SYS_INFO: &str = "legacy sys_info pickle";
const E_DATA: &str = "legacy data pickle";
const E_KEYS: &str = "legacy storage-key pickle";

fn read_legacy(
    bytes: &[u8],
    name: &Path,
    entry: Option<&str>,
) -> Result<Vec<(String, PthTensor)>, PthError> {
    let legacy_err = |detail: String| PthError::LegacyFormat {
        path: name.to_path_buf(),
        detail,
    };
    // 1. The magic number. It does not fit in an i64, so the pickle's own bytes are
    //    checked (LONG1/LONG4 little-endian bytes, or the decimal text of protocol 0).
    let mut u = Unpickler::at(bytes, 0, E_MAGIC);
    let magic = u.run().map_err(|e| {
        legacy_err(format!(
            "starts with a pickle opcode but is not a torch.save file ({e})"
        ))
    })?;
    let magic_end = u.pos;
    let raw = &bytes[..magic_end];
    let is_magic = matches!(magic, Value::BigInt)
        && (raw
            .windows(LEGACY_MAGIC_LE.len())
            .any(|w| w == LEGACY_MAGIC_LE)
            || raw
                .windows(LEGACY_MAGIC_DEC.len())
                .any(|w| w == LEGACY_MAGIC_DEC.as_bytes()));
    if !is_magic {
        return Err(legacy_err(format!(
            "the first pickle is a {}, not torch.save's magic number 0x1950a86a20f9469cfc6c",
            magic.kind()
        )));
    }
    // 2. The protocol version.
    let mut u = Unpickler::at(bytes, magic_end, E_VERSION);
    let version = u.run()?;
    match version {
        Value::Int(LEGACY_PROTOCOL_VERSION) => {}
        Value::Int(v) => {
            return Err(legacy_err(format!(
                "protocol version {v}, expected {LEGACY_PROTOCOL_VERSION}"
            )))
        }
        other => {
            return Err(legacy_err(format!(
                "protocol version is a {}, expected the int {LEGACY_PROTOCOL_VERSION}",
                other.kind()
            )))
        }
    }
    // 3. sys_info: {'protocol_version': 1001, 'little_endian': True, 'type_sizes': {...}}
    let mut u = Unpickler::at(bytes, u.pos, E_SYS_INFO);
    let sys_info = u.run()?;
    if let Value::Dict(d) = &sys_info {
        let little = d
            .borrow()
            .0
            .iter()
            .find(|(k, _)| k.as_str() == Some("little_endian"))
            .map(|(_, v)| v.clone());
        if let Some(Value::Bool(false)) = little {
            return Err(PthError::ByteOrder {
                entry: E_SYS_INFO.to_string(),
                order: "little_endian: False".to_string(),
            });
        }
    }
    drop(sys_info);
    // 4. The object.
    let mut u = Unpickler::at(bytes, u.pos, E_DATA);
    let root = u.run()?;
    let data_end = u.pos;
    let decls = std::mem::take(&mut u.storages);
    let specs = select_tensors(&root, entry, E_DATA)?;
    drop(root);
    // 5. The storage keys, in the order of the records that follow.
    let mut u = Unpickler::at(bytes, data_end, E_KEYS);
    let keys_value = u.run()?;
    let mut pos = u.pos;
    let keys: Vec<String> = keys_value
        .items()
        .ok_or_else(|| {
            legacy_err(format!(
                "the storage key pickle is a {}, expected a list",
                keys_value.kind()
            ))
        })?
        .iter()
        .map(|k| match k {
            Value::Str(s) => Ok(s.to_string()),
            Value::Int(i) => Ok(i.to_string()),
            other => Err(legacy_err(format!(
                "a storage key is a {}, expected a str",
                other.kind()
            ))),
        })
        .collect::<Result<_, _>>()?;
    drop(keys_value);
    // 6. The records: u64 element count, then the bytes. Only their places are noted.
    let mut records: HashMap<String, (usize, usize)> = HashMap::with_capacity(keys.len());
    for key in &keys {
        let decl = decls.get(key).ok_or_else(|| {
            legacy_err(format!(
                "storage `{key}` is listed at byte {pos} but no tensor refers to it"
            ))
        })?;
        let elem = decl.elem.ok_or_else(|| {
            legacy_err(format!(
                "storage `{key}` has type {}, whose element size is unknown, so its \
                 record at byte {pos} cannot be stepped over",
                decl.type_name
            ))
        })?;
        let head = bytes.get(pos..pos.saturating_add(8)).ok_or_else(|| {
            legacy_err(format!(
                "truncated: the record of storage `{key}` starts at byte {pos} \
                     but the file has {} bytes",
                bytes.len()
            ))
        })?;
        let count = u64::from_le_bytes(head.try_into().unwrap_or([0; 8]));
        if count != decl.numel as u64 {
            return Err(legacy_err(format!(
                "the record of storage `{key}` at byte {pos} holds {count} elements, \
                 its persistent id says {}",
                decl.numel
            )));
        }
        let start = pos + 8;
        let nbytes = (count as usize)
            .checked_mul(elem)
            .filter(|&n| start.checked_add(n).is_some_and(|end| end <= bytes.len()))
            .ok_or_else(|| {
                legacy_err(format!(
                    "truncated: storage `{key}` needs {count}×{elem} bytes from byte {start}, \
                     the file has {}",
                    bytes.len()
                ))
            })?;
        if records.insert(key.clone(), (start, nbytes)).is_some() {
            return Err(legacy_err(format!("storage `{key}` is listed twice")));
        }
        pos = start + nbytes;
    }
    materialize(specs, bytes.len() as u64, |skey, key| {
        let &(start, n) = records.get(skey).ok_or_else(|| {
            legacy_err(format!(
                "storage `{skey}` of tensor `{key}` has no data record (it is not in the \
                 storage key list)"
            ))
        })?;
        Ok(bytes[start..start + n].to_vec())
    })
}

/// C-contiguous layout (dims of size 1 may have any stride)?
fn is_contiguous(shape: &[usize], stride: &[usize]) -> bool {
    let mut expect = 1usize;
    for (&d, &s) in shape.iter().zip(stride).rev() {
        if d != 1 && s != expect {
            return false;
        }
        expect = expect.saturating_mul(d);
    }
    true
}

/// Copies the elements of a (possibly strided) view into a C-contiguous buffer.
/// Bounds were checked by the caller.
fn gather(
    src: &[u8],
    elem: usize,
    offset: usize,
    shape: &[usize],
    stride: &[usize],
    numel: usize,
) -> Vec<u8> {
    if is_contiguous(shape, stride) {
        return src[offset * elem..(offset + numel) * elem].to_vec();
    }
    let mut out = Vec::with_capacity(numel * elem);
    let nd = shape.len();
    let inner_n = shape[nd - 1];
    let inner_s = stride[nd - 1].wrapping_mul(elem);
    let mut idx = vec![0usize; nd];
    let mut base = offset * elem;
    loop {
        let mut p = base;
        if inner_s == elem {
            out.extend_from_slice(&src[p..p + inner_n * elem]);
        } else {
            for _ in 0..inner_n {
                out.extend_from_slice(&src[p..p + elem]);
                p = p.wrapping_add(inner_s);
            }
        }
        // Advance the outer indices (odometer).
        let mut d = nd - 1;
        loop {
            if d == 0 {
                return out;
            }
            d -= 1;
            idx[d] += 1;
            base = base.wrapping_add(stride[d].wrapping_mul(elem));
            if idx[d] < shape[d] {
                break;
            }
            base = base.wrapping_sub(stride[d].wrapping_mul(elem).wrapping_mul(shape[d]));
            idx[d] = 0;
        }
    }
}

/// Finds the state dict in the unpickled root and returns its tensors (keys with the
/// DataParallel `module.` prefix stripped when every key has it).
fn select_tensors(
    root: &Value,
    entry: Option<&str>,
    pkl: &str,
) -> Result<Vec<(String, Rc<TensorSpec>)>, PthError> {
    let no_sd = |detail: String| PthError::NoStateDict {
        entry: pkl.to_string(),
        detail,
    };
    let root_dict = match root {
        Value::Dict(d) => d.clone(),
        other => {
            return Err(no_sd(format!(
                "top-level object is a {}, expected a dict",
                other.kind()
            )))
        }
    };
    let lookup = |k: &str| -> Option<Value> {
        root_dict
            .borrow()
            .0
            .iter()
            .rev()
            .find(|(key, _)| key.as_str() == Some(k))
            .map(|(_, v)| v.clone())
    };
    let has_tensors = root_dict
        .borrow()
        .0
        .iter()
        .any(|(_, v)| matches!(v, Value::Tensor(_)));
    let top_keys = || {
        let keys: Vec<String> = root_dict
            .borrow()
            .0
            .iter()
            .take(20)
            .map(|(k, _)| match k.as_str() {
                Some(s) => format!("`{s}`"),
                None => format!("<{}>", k.kind()),
            })
            .collect();
        if keys.is_empty() {
            "none".to_string()
        } else {
            keys.join(", ")
        }
    };
    let sd: Rc<RefCell<Pairs>> = match entry {
        Some(k) => match lookup(k) {
            Some(Value::Dict(d)) => d,
            Some(other) => {
                return Err(no_sd(format!(
                    "key `{k}` holds a {}, expected a dict",
                    other.kind()
                )))
            }
            None if has_tensors => root_dict.clone(),
            None => {
                return Err(no_sd(format!(
                    "top-level dict has no key `{k}` (keys: {})",
                    top_keys()
                )))
            }
        },
        None => match (lookup("model"), lookup("state_dict")) {
            (Some(Value::Dict(d)), _) => d,
            (_, Some(Value::Dict(d))) => d,
            _ => root_dict.clone(),
        },
    };

    // Collect tensors, deduplicating keys (last value wins, first position kept).
    let mut out: Vec<(String, Rc<TensorSpec>)> = Vec::new();
    let mut pos: HashMap<String, usize> = HashMap::new();
    for (k, v) in sd.borrow().0.iter() {
        let key = match k {
            Value::Str(s) => s.to_string(),
            _ => continue,
        };
        match v {
            Value::Tensor(t) => {
                if let Some(&i) = pos.get(&key) {
                    out[i].1 = t.clone();
                } else {
                    pos.insert(key.clone(), out.len());
                    out.push((key, t.clone()));
                }
            }
            Value::Object(o) => {
                let o = o.borrow();
                let tensorish = match &o.callable {
                    Value::Global(g) => g.0.starts_with("torch") && g.1.contains("rebuild"),
                    _ => false,
                } || o.args.contains_tensor_data(4);
                if tensorish {
                    let what = match &o.callable {
                        Value::Global(g) => format!("{}.{}", g.0, g.1),
                        other => format!("a {}", other.kind()),
                    };
                    return Err(PthError::Tensor {
                        key,
                        detail: format!("built by unsupported callable {what}"),
                    });
                }
            }
            Value::Storage(s) => {
                return Err(PthError::Tensor {
                    key,
                    detail: format!("is a bare storage (data/{}), not a tensor", s.key),
                })
            }
            _ => {}
        }
    }
    if !out.is_empty() && out.iter().all(|(k, _)| k.starts_with("module.")) {
        for (k, _) in out.iter_mut() {
            k.drain(..7);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const FIXTURE_PTH: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/torch_save_small.pth"
    );
    const FIXTURE_JSON: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/torch_save_small.json"
    );

    // ----------------------------------------------------------------- helpers

    /// A stored (uncompressed) zip archive, like torch.save writes.
    fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, data) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn read_bytes(bytes: &[u8], entry: Option<&str>) -> Result<Vec<(String, PthTensor)>, PthError> {
        read_state_dict_from_bytes(bytes, Path::new("test.pth"), entry)
    }

    /// Minimal pickle writer for hand-built test pickles.
    #[derive(Default)]
    struct Pk(Vec<u8>);
    impl Pk {
        fn op(&mut self, b: u8) -> &mut Self {
            self.0.push(b);
            self
        }
        fn raw(&mut self, b: &[u8]) -> &mut Self {
            self.0.extend_from_slice(b);
            self
        }
        fn proto(&mut self, p: u8) -> &mut Self {
            self.raw(&[0x80, p])
        }
        fn global(&mut self, m: &str, n: &str) -> &mut Self {
            self.op(b'c')
                .raw(m.as_bytes())
                .op(b'\n')
                .raw(n.as_bytes())
                .op(b'\n')
        }
        fn s(&mut self, s: &str) -> &mut Self {
            self.op(b'X')
                .raw(&(s.len() as u32).to_le_bytes())
                .raw(s.as_bytes())
        }
        fn short_s(&mut self, s: &str) -> &mut Self {
            self.op(0x8c).op(s.len() as u8).raw(s.as_bytes())
        }
        fn int(&mut self, i: i64) -> &mut Self {
            if (0..256).contains(&i) {
                self.op(b'K').op(i as u8)
            } else if (0..65536).contains(&i) {
                self.op(b'M').raw(&(i as u16).to_le_bytes())
            } else if i32::try_from(i).is_ok() {
                self.op(b'J').raw(&(i as i32).to_le_bytes())
            } else {
                self.op(0x8a).op(8).raw(&i.to_le_bytes())
            }
        }
        fn ints(&mut self, v: &[usize]) -> &mut Self {
            self.op(b'(');
            for &x in v {
                self.int(x as i64);
            }
            self.op(b't')
        }
        fn ordered_dict(&mut self) -> &mut Self {
            self.global("collections", "OrderedDict").op(b')').op(b'R')
        }
        /// `_rebuild_tensor_v2(('storage', torch.<cls>, key, 'cuda:0', numel), offset, shape, stride, False, OrderedDict())`
        fn tensor(
            &mut self,
            cls: &str,
            key: &str,
            numel: usize,
            offset: usize,
            shape: &[usize],
            stride: &[usize],
        ) -> &mut Self {
            self.global("torch._utils", "_rebuild_tensor_v2").op(b'(');
            self.op(b'(')
                .s("storage")
                .global("torch", cls)
                .s(key)
                .s("cuda:0")
                .int(numel as i64)
                .op(b't')
                .op(b'Q');
            self.int(offset as i64)
                .ints(shape)
                .ints(stride)
                .op(0x89)
                .ordered_dict()
                .op(b't')
                .op(b'R')
        }
        fn stop(&mut self) -> Vec<u8> {
            self.op(b'.');
            std::mem::take(&mut self.0)
        }
    }

    fn f32_bytes(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn f32s(t: &PthTensor) -> Vec<f32> {
        assert_eq!(t.dtype, PthDType::F32);
        t.to_f32_vec()
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    // ----------------------------------------------------------------- genuine torch fixture

    #[test]
    fn reads_genuine_torch_save_fixture() {
        let got = read_state_dict(Path::new(FIXTURE_PTH), None).unwrap();
        check_against_json(&got, FIXTURE_JSON);
        // The strided view shares the base tensor's storage: offset 1, transposed.
        let base = f32s(&got[0].1);
        let view = f32s(&got[1].1);
        assert_eq!(got[1].1.shape, vec![3, 4]);
        for i in 0..3 {
            for j in 0..4 {
                assert_eq!(view[i * 4 + j], base[j * 6 + i + 1]);
            }
        }
        // Explicit entry gives the same; a missing entry on a wrapper dict is an error.
        let same = read_state_dict(Path::new(FIXTURE_PTH), Some("model")).unwrap();
        assert_eq!(same.len(), got.len());
        let err = read_state_dict(Path::new(FIXTURE_PTH), Some("state_dict")).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("state_dict") && msg.contains("`model`") && msg.contains("`epoch`"),
            "{msg}"
        );
    }

    /// Compares a state dict with the expected keys, dtypes, shapes, bytes and values
    /// that real torch wrote next to a fixture.
    fn check_against_json(got: &[(String, PthTensor)], json_path: &str) {
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(json_path).unwrap()).unwrap();
        let expected = json["tensors"].as_array().unwrap();
        assert_eq!(got.len(), expected.len());
        for ((key, t), e) in got.iter().zip(expected) {
            assert_eq!(key, e["key"].as_str().unwrap(), "key order");
            assert_eq!(t.dtype.name(), e["dtype"].as_str().unwrap(), "{key}");
            let shape: Vec<usize> = e["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(t.shape, shape, "{key}");
            assert_eq!(t.data.len(), t.numel() * t.dtype.size(), "{key}");
            assert_eq!(t.data, hex(e["bytes_hex"].as_str().unwrap()), "{key} bytes");
            let vals = e["values"].as_array().unwrap();
            assert_eq!(vals.len(), t.numel(), "{key}");
            match t.dtype {
                PthDType::F64 => {
                    for (c, v) in t.data.chunks_exact(8).zip(vals) {
                        // (bytes are compared exactly above; serde_json's default float
                        // parsing may be one ulp off, so allow that here)
                        let (a, b) = (
                            f64::from_le_bytes(c.try_into().unwrap()),
                            v.as_f64().unwrap(),
                        );
                        assert!((a - b).abs() <= b.abs() * f64::EPSILON, "{key}: {a} vs {b}");
                    }
                }
                PthDType::I64 => {
                    for (c, v) in t.data.chunks_exact(8).zip(vals) {
                        assert_eq!(
                            i64::from_le_bytes(c.try_into().unwrap()),
                            v.as_i64().unwrap(),
                            "{key}"
                        );
                    }
                }
                PthDType::Bool => {
                    for (&b, v) in t.data.iter().zip(vals) {
                        assert_eq!(b != 0, v.as_bool().unwrap(), "{key}");
                    }
                }
                _ => {
                    // f32/f16/bf16 convert to f32 exactly; i32/u8 values here are exact in f64.
                    for (x, v) in t.to_f32_vec().iter().zip(vals) {
                        let v = v.as_f64().unwrap();
                        if t.dtype == PthDType::I32 {
                            continue; // checked via bytes; i32::MAX is not exact in f32
                        }
                        assert_eq!(*x, v as f32, "{key}");
                    }
                }
            }
        }
    }

    #[test]
    fn fixture_every_truncation_and_byte_flip_of_data_pkl_is_handled() {
        let bytes = std::fs::read(FIXTURE_PTH).unwrap();
        let mut ar = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
        let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
        for i in 0..ar.len() {
            let mut f = ar.by_index(i).unwrap();
            let mut d = Vec::new();
            f.read_to_end(&mut d).unwrap();
            entries.push((f.name().to_string(), d));
        }
        let pkl_idx = entries
            .iter()
            .position(|(n, _)| n.ends_with("/data.pkl"))
            .unwrap();
        let pkl = entries[pkl_idx].1.clone();
        let build = |p: &[u8]| {
            let v: Vec<(&str, &[u8])> = entries
                .iter()
                .enumerate()
                .map(|(i, (n, d))| (n.as_str(), if i == pkl_idx { p } else { d.as_slice() }))
                .collect();
            zip_bytes(&v)
        };
        for cut in 0..pkl.len() {
            let err = read_bytes(&build(&pkl[..cut]), None).unwrap_err();
            assert!(err.to_string().contains("data.pkl"), "{err}");
        }
        for i in 0..pkl.len() {
            for x in [0x00u8, 0xff, 0x80, b'h', b'(', b'.'] {
                let mut p = pkl.clone();
                p[i] = x;
                let _ = read_bytes(&build(&p), None); // must not panic
            }
        }
        // Truncating the archive itself anywhere.
        for cut in (0..bytes.len()).step_by(37) {
            assert!(read_bytes(&bytes[..cut], None).is_err(), "cut {cut}");
        }
    }

    // ----------------------------------------------------------------- hand-built archives

    /// A TextReID-like wrapped checkpoint: DataParallel prefix, two tensors sharing one
    /// storage, a 3-D strided view with offset, an optimizer with unknown globals.
    fn textreid_like() -> Vec<u8> {
        let mut p = Pk::default();
        p.proto(2).op(b'}').op(b'q').op(0).op(b'(');
        p.s("model").ordered_dict().op(b'q').op(1).op(b'(');
        // storage 0: 6 f32 shared by two tensors
        p.s("module.visual_model.w")
            .tensor("FloatStorage", "0", 6, 0, &[2, 3], &[3, 1]);
        p.s("module.embed_model.v_encoder_q.w")
            .tensor("FloatStorage", "0", 6, 0, &[2, 3], &[3, 1]);
        // storage 1: 2 + 24 f32; tensor of shape (2,3,4) in reversed-axes layout, offset 2
        p.s("module.view")
            .tensor("FloatStorage", "1", 26, 2, &[2, 3, 4], &[1, 2, 6]);
        // a parameter wrapping a tensor: _rebuild_parameter(t, True, OrderedDict())
        p.s("module.param")
            .global("torch._utils", "_rebuild_parameter")
            .op(b'(');
        p.tensor("LongStorage", "2", 3, 1, &[2], &[1])
            .op(0x88)
            .ordered_dict()
            .op(b't')
            .op(b'R');
        // a 0-dim tensor and an empty one
        p.s("module.scalar")
            .tensor("LongStorage", "2", 3, 2, &[], &[]);
        p.s("module.empty")
            .tensor("FloatStorage", "9", 0, 0, &[0, 3], &[3, 1]);
        // non-tensor values are skipped
        p.s("module.note").s("hello").s("module.n").int(5);
        p.op(b'u');
        // _metadata via BUILD: {'_metadata': OrderedDict([('', {'version': 1})])}
        p.op(b'}')
            .op(b'(')
            .s("_metadata")
            .ordered_dict()
            .op(b'(')
            .s("")
            .op(b'}')
            .s("version")
            .int(1)
            .op(b's')
            .op(b'u');
        p.op(b'u').op(b'b');
        // optimizer: unknown class built with NEWOBJ + BUILD, and a nested REDUCE of an unknown callable
        p.s("optimizer")
            .global("torch.optim.adam", "Adam")
            .op(b')')
            .op(0x81)
            .op(b'}')
            .op(b'(')
            .s("lr")
            .op(b'G')
            .raw(&1e-4f64.to_be_bytes());
        p.s("sched")
            .global("some.module", "make")
            .op(b'(')
            .int(3)
            .op(b't')
            .op(b'R')
            .op(b'u')
            .op(b'b');
        p.s("iteration")
            .int(7)
            .s("epoch")
            .int(2)
            .s("distributed")
            .op(0x89);
        p.op(b'u');
        let pkl = p.stop();
        let s0 = f32_bytes(&[1., 2., 3., 4., 5., 6.]);
        let mut s1 = f32_bytes(&[-1., -1.]);
        // element (i,j,k) of the logical tensor has value 100i+10j+k, stored at 2 + i + 2j + 6k
        let mut lay = vec![0f32; 24];
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..4 {
                    lay[i + 2 * j + 6 * k] = (100 * i + 10 * j + k) as f32;
                }
            }
        }
        s1.extend(f32_bytes(&lay));
        let s2: Vec<u8> = [10i64, 20, 30]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        zip_bytes(&[
            ("best/data.pkl", &pkl),
            ("best/byteorder", b"little"),
            ("best/data/0", &s0),
            ("best/data/1", &s1),
            ("best/data/2", &s2),
            ("best/data/9", b""),
            ("best/version", b"3\n"),
        ])
    }

    #[test]
    fn wrapped_shared_strided_prefixed() {
        let bytes = textreid_like();
        let sd = read_bytes(&bytes, None).unwrap();
        let keys: Vec<&str> = sd.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "visual_model.w",
                "embed_model.v_encoder_q.w",
                "view",
                "param",
                "scalar",
                "empty"
            ]
        );
        assert_eq!(f32s(&sd[0].1), [1., 2., 3., 4., 5., 6.]);
        assert_eq!(sd[0].1.data, sd[1].1.data);
        assert_eq!(sd[2].1.shape, [2, 3, 4]);
        let v = f32s(&sd[2].1);
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..4 {
                    assert_eq!(v[i * 12 + j * 4 + k], (100 * i + 10 * j + k) as f32);
                }
            }
        }
        assert_eq!(sd[3].1.dtype, PthDType::I64);
        assert_eq!(sd[3].1.shape, [2]);
        assert_eq!(sd[3].1.to_f32_vec(), [20., 30.]);
        assert_eq!(sd[4].1.shape, Vec::<usize>::new());
        assert_eq!(sd[4].1.data, 30i64.to_le_bytes());
        assert_eq!(sd[5].1.shape, [0, 3]);
        assert!(sd[5].1.data.is_empty());
        // Explicit entry.
        assert_eq!(read_bytes(&bytes, Some("model")).unwrap().len(), 6);
        // An entry that is not a dict.
        let e = read_bytes(&bytes, Some("epoch")).unwrap_err().to_string();
        assert!(e.contains("`epoch`") && e.contains("int"), "{e}");
    }

    #[test]
    fn bare_state_dict_protocol4_opcodes() {
        // protocol 4 style: FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL, BINGET of memo.
        let mut p = Pk::default();
        p.proto(4).op(0x95).raw(&0u64.to_le_bytes());
        p.short_s("collections")
            .op(0x94)
            .short_s("OrderedDict")
            .op(0x94)
            .op(0x93)
            .op(0x94)
            .op(b')')
            .op(b'R')
            .op(0x94);
        p.op(b'(');
        p.short_s("a.weight").op(0x94);
        p.short_s("torch._utils")
            .short_s("_rebuild_tensor_v2")
            .op(0x93)
            .op(0x94);
        p.op(b'(')
            .op(b'(')
            .short_s("storage")
            .short_s("torch")
            .short_s("HalfStorage")
            .op(0x93);
        p.short_s("0").short_s("cpu").int(4).op(b't').op(b'Q');
        p.int(0)
            .int(2)
            .int(2)
            .op(0x86)
            .int(1)
            .int(2)
            .op(0x86)
            .op(0x89)
            .op(b'h')
            .op(2)
            .op(b')')
            .op(b'R')
            .op(b't')
            .op(b'R');
        p.short_s("b").op(b'N').op(b'u');
        let pkl = p.stop();
        let half: Vec<u8> = [0x3c00u16, 0x4000, 0xc200, 0x0001]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let bytes = zip_bytes(&[("archive/data.pkl", &pkl), ("archive/data/0", &half)]);
        let sd = read_bytes(&bytes, None).unwrap();
        assert_eq!(sd.len(), 1);
        assert_eq!(sd[0].0, "a.weight");
        assert_eq!(sd[0].1.dtype, PthDType::F16);
        // stride (1, 2): transposed
        assert_eq!(sd[0].1.to_f32_vec(), [1.0, -3.0, 2.0, f16_to_f32(1)]);
        // entry given but absent, top-level holds tensors: top-level used.
        assert_eq!(read_bytes(&bytes, Some("model")).unwrap().len(), 1);
    }

    // ----------------------------------------------------------------- errors

    fn single_tensor_archive(
        storage: &[u8],
        numel: usize,
        shape: &[usize],
        stride: &[usize],
    ) -> Vec<u8> {
        let mut p = Pk::default();
        p.proto(2).ordered_dict().op(b'(');
        p.s("visual_model.conv1.weight")
            .tensor("FloatStorage", "3", numel, 0, shape, stride)
            .op(b'u');
        zip_bytes(&[("archive/data.pkl", &p.stop()), ("archive/data/3", storage)])
    }

    #[test]
    fn storage_too_short() {
        let e = read_bytes(
            &single_tensor_archive(&[0u8; 100], 108, &[4, 3, 3, 3], &[27, 9, 3, 1]),
            None,
        )
        .unwrap_err();
        assert!(matches!(e, PthError::StorageTooShort { .. }));
        assert_eq!(
            e.to_string(),
            "storage data/3 has 100 bytes, tensor `visual_model.conv1.weight` needs 432"
        );
        // A huge stride on a tiny storage.
        let e = read_bytes(
            &single_tensor_archive(&[0u8; 8], 2, &[2, 2], &[usize::MAX / 4, 1]),
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("visual_model.conv1.weight"), "{e}");
        // Stride-0 expansion to an absurd size is refused, not allocated.
        let e =
            read_bytes(&single_tensor_archive(&[0u8; 4], 1, &[1 << 40], &[0]), None).unwrap_err();
        assert!(e.to_string().contains("more than allowed"), "{e}");
        // Stride 0 within bounds is gathered.
        let sd = read_bytes(
            &single_tensor_archive(&f32_bytes(&[7.0]), 1, &[3, 1], &[0, 5]),
            None,
        )
        .unwrap();
        assert_eq!(f32s(&sd[0].1), [7.0, 7.0, 7.0]);
    }

    #[test]
    fn missing_storage_and_bad_byteorder() {
        let mut p = Pk::default();
        p.proto(2)
            .op(b'}')
            .op(b'(')
            .s("w")
            .tensor("FloatStorage", "5", 1, 0, &[1], &[1])
            .op(b'u');
        let pkl = p.stop();
        let e = read_bytes(&zip_bytes(&[("a/data.pkl", &pkl)]), None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("data/5") && e.contains("`w`") && e.contains("a/data/5"),
            "{e}"
        );
        let e = read_bytes(
            &zip_bytes(&[
                ("a/data.pkl", &pkl),
                ("a/byteorder", b"big"),
                ("a/data/5", &[0; 4]),
            ]),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("a/byteorder") && e.contains("big"), "{e}");
    }

    #[test]
    fn unknown_tensor_constructor_in_state_dict_is_an_error() {
        let mut p = Pk::default();
        p.proto(2).op(b'}').op(b'(').s("model").op(b'}').op(b'(');
        p.s("q.weight")
            .global("torch._utils", "_rebuild_qtensor")
            .op(b'(')
            .int(1)
            .op(b't')
            .op(b'R');
        p.op(b'u')
            .s("other")
            .global("torch._utils", "_rebuild_qtensor")
            .op(b'(')
            .int(1)
            .op(b't')
            .op(b'R')
            .op(b'u');
        let e = read_bytes(&zip_bytes(&[("a/data.pkl", &p.stop())]), None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`q.weight`") && e.contains("torch._utils._rebuild_qtensor"),
            "{e}"
        );
        // Unsupported storage type.
        let mut p = Pk::default();
        p.proto(2)
            .op(b'}')
            .op(b'(')
            .s("c")
            .tensor("ComplexFloatStorage", "0", 1, 0, &[1], &[1])
            .op(b'u');
        let e = read_bytes(
            &zip_bytes(&[("a/data.pkl", &p.stop()), ("a/data/0", &[0; 8])]),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("`c`") && e.contains("torch.ComplexFloatStorage"),
            "{e}"
        );
    }

    #[test]
    fn pickle_errors_name_opcode_position_and_entry() {
        let arc = |pkl: &[u8]| zip_bytes(&[("best/data.pkl", pkl)]);
        let e = read_bytes(&arc(&[0x80, 2, 0x7f, b'.']), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unsupported pickle opcode 0x7f at byte 2 of best/data.pkl"
        );
        let e = read_bytes(&arc(&[0x80, 2, b'h', 9, b'.']), None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("memo index 9") && e.contains("best/data.pkl"),
            "{e}"
        );
        let e = read_bytes(&arc(&[0x80, 2, b'R', b'.']), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("stack underflow") && e.contains("byte 2"), "{e}");
        let e = read_bytes(&arc(&[0x80, 2, b'}', b'(', b'N', b's', b'.']), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("stack underflow"), "{e}");
        let e = read_bytes(&arc(&[0x80, 2, b'X', 0xff, 0xff, 0xff, 0x7f, b'a']), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("truncated"), "{e}");
        let e = read_bytes(&arc(&[0x80, 2, b'}']), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("without STOP"), "{e}");
        let e = read_bytes(&arc(&[0x80, 2, b'K', 1, b'.']), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("top-level object is a int"), "{e}");
        let e = read_bytes(&arc(&[0x80, 2, b'K', 1, b'a', b'.']), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("stack underflow") || e.contains("APPEND"), "{e}");
        let e = read_bytes(&arc(&[0x80, 2, b']', b'K', 1, b's', b'.']), None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("stack underflow") || e.contains("SETITEM"),
            "{e}"
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let mut p = Pk::default();
        p.proto(2).op(b'N');
        for _ in 0..300_000 {
            p.op(0x85); // TUPLE1
        }
        p.op(b']');
        for _ in 0..300_000 {
            p.op(b'2').op(b'a'); // DUP, APPEND: nest lists in lists
        }
        p.op(0x86);
        let e = read_bytes(&zip_bytes(&[("a/data.pkl", &p.stop())]), None).unwrap_err();
        assert!(e.to_string().contains("tuple"), "{e}");
    }

    #[test]
    fn not_a_zip_and_broken_archives() {
        // Random bytes.
        let mut x = 0x1234_5678_9abc_def0u64;
        let junk: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        assert!(matches!(
            read_bytes(&junk, None),
            Err(PthError::NotZip { .. })
        ));
        // Random bytes behind a zip signature.
        let mut fake = b"PK\x03\x04".to_vec();
        fake.extend_from_slice(&junk);
        let e = read_bytes(&fake, None).unwrap_err();
        assert!(matches!(e, PthError::Zip { .. }), "{e}");
        // Empty.
        assert!(matches!(
            read_bytes(&[], None),
            Err(PthError::NotZip { .. })
        ));
        // Truncated zip (the genuine fixture cut in half).
        let full = std::fs::read(FIXTURE_PTH).unwrap();
        let e = read_bytes(&full[..full.len() / 2], None).unwrap_err();
        assert!(matches!(e, PthError::Zip { .. }), "{e}");
        // Zip without data.pkl.
        let e = read_bytes(
            &zip_bytes(&[("archive/version", b"3\n"), ("archive/data/0", b"abcd")]),
            None,
        )
        .unwrap_err();
        let m = e.to_string();
        assert!(
            matches!(e, PthError::MissingDataPkl { .. }) && m.contains("archive/version"),
            "{m}"
        );
        // A legacy torch.save file cut after its magic number, through a real file.
        let legacy = [
            0x80u8, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19,
            b'.',
        ];
        let path =
            std::env::temp_dir().join(format!("lookout_pth_legacy_{}.pth", std::process::id()));
        std::fs::write(&path, legacy).unwrap();
        let e = read_state_dict(&path, None).unwrap_err();
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            e.to_string(),
            "malformed pickle: truncated: pickle ends without STOP \
             (opcode 0x00 at byte 15 of legacy protocol-version pickle)"
        );
        // Garbage behind a PROTO opcode: not a torch.save file.
        let mut garbage = vec![0x80u8, 0x02];
        garbage.extend_from_slice(&junk);
        let e = read_bytes(&garbage, None).unwrap_err();
        assert!(matches!(e, PthError::LegacyFormat { .. }), "{e}");
        assert!(
            e.to_string().starts_with(
                "legacy (pre-1.6, non-zip) torch.save file test.pth: starts with a pickle opcode \
                 but is not a torch.save file"
            ),
            "{e}"
        );
        // A pickle that is not the magic number.
        let e = read_bytes(&[0x80, 2, b'K', 5, b'.'], None).unwrap_err();
        assert!(
            matches!(e, PthError::LegacyFormat { .. })
                && e.to_string()
                    .contains("the first pickle is a int, not torch.save's magic"),
            "{e}"
        );
        // The tar-based format of torch < 0.4.
        let mut tar = vec![0u8; 1024];
        tar[..8].copy_from_slice(b"sys_info");
        tar[257..262].copy_from_slice(b"ustar");
        let e = read_bytes(&tar, None).unwrap_err();
        assert!(
            matches!(e, PthError::LegacyFormat { .. }) && e.to_string().contains("tar-based"),
            "{e}"
        );
        // Missing file.
        let e = read_state_dict(Path::new("/nonexistent/x.pth"), None).unwrap_err();
        assert!(matches!(e, PthError::Io { .. }) && e.to_string().contains("/nonexistent/x.pth"));
    }

    // ----------------------------------------------------------------- legacy format

    const LEGACY_PT: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/torch_save_legacy_small.pt"
    );
    const LEGACY_JSON: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/torch_save_legacy_small.json"
    );

    #[test]
    fn reads_genuine_legacy_fixture() {
        // {"state_dict": sd, "epoch": 3, "optimizer": {...}, "note": "legacy"}: state_dict
        // is chosen by default; the optimizer's storages are records to step over.
        let got = read_state_dict(Path::new(LEGACY_PT), None).unwrap();
        check_against_json(&got, LEGACY_JSON);
        // Three tensors share one storage: the base, a transposed view at offset 1 and
        // a row at offset 12.
        let base = f32s(&got[0].1);
        let view = f32s(&got[1].1);
        for i in 0..3 {
            for j in 0..4 {
                assert_eq!(view[i * 4 + j], base[j * 6 + i + 1]);
            }
        }
        assert_eq!(f32s(&got[2].1), base[12..18]);
        // Same through the in-memory and reader entry points.
        let bytes = std::fs::read(LEGACY_PT).unwrap();
        let mem = read_bytes(&bytes, Some("state_dict")).unwrap();
        let rdr = read_state_dict_from_reader(
            std::io::Cursor::new(&bytes),
            bytes.len() as u64,
            Path::new("x.pt"),
            None,
        )
        .unwrap();
        for ((a, b), c) in got.iter().zip(&mem).zip(&rdr) {
            assert_eq!((&a.0, &a.1.data), (&b.0, &b.1.data));
            assert_eq!((&a.0, &a.1.shape), (&c.0, &c.1.shape));
        }
        // Another entry: the tensors outside the state dict.
        let opt = read_bytes(&bytes, Some("optimizer")).unwrap();
        assert_eq!(opt.len(), 2);
        assert_eq!(
            (opt[0].0.as_str(), opt[0].1.dtype),
            ("momentum", PthDType::F16)
        );
        assert_eq!(opt[0].1.shape, [7]);
        assert_eq!(opt[1].0, "step");
        assert_eq!(opt[1].1.to_f32_vec(), [0., 1., 2.]);
        let e = read_bytes(&bytes, Some("note")).unwrap_err().to_string();
        assert!(
            e.contains("`note`") && e.contains("str") && e.contains("legacy data pickle"),
            "{e}"
        );
    }

    #[test]
    fn legacy_fixture_truncations_and_byte_flips_are_handled() {
        let bytes = std::fs::read(LEGACY_PT).unwrap();
        for cut in 0..bytes.len() {
            assert!(read_bytes(&bytes[..cut], None).is_err(), "cut {cut}");
        }
        for i in 0..bytes.len() {
            for x in [0x00u8, 0xff, 0x80, b'h', b'(', b'.', b'N'] {
                let mut b = bytes.clone();
                b[i] = x;
                let _ = read_bytes(&b, None); // must not panic
            }
        }
    }

    /// The pickles of a legacy file up to (not including) the data pickle.
    fn legacy_header(little_endian: bool, version: i64) -> Vec<u8> {
        let mut b = vec![0x80u8, 2, 0x8a, 10];
        b.extend_from_slice(&LEGACY_MAGIC_LE);
        b.push(b'.');
        let mut p = Pk::default();
        p.proto(2).int(version);
        b.extend(p.stop());
        let mut p = Pk::default();
        p.proto(2).op(b'}').op(b'(').s("protocol_version").int(1001);
        p.s("little_endian")
            .op(if little_endian { 0x88 } else { 0x89 });
        p.s("type_sizes").op(b'}').op(b'u');
        b.extend(p.stop());
        b
    }

    /// A legacy tensor: `_rebuild_tensor_v2(('storage', torch.<cls>, key, 'cpu', numel,
    /// view), offset, shape, stride, False, OrderedDict())`.
    #[allow(clippy::too_many_arguments)]
    fn legacy_tensor<'a>(
        p: &'a mut Pk,
        cls: &str,
        key: &str,
        numel: usize,
        view: Option<(&str, usize, usize)>,
        offset: usize,
        shape: &[usize],
        stride: &[usize],
    ) -> &'a mut Pk {
        p.global("torch._utils", "_rebuild_tensor_v2").op(b'(');
        p.op(b'(')
            .s("storage")
            .global("torch", cls)
            .s(key)
            .s("cpu")
            .int(numel as i64);
        match view {
            None => p.op(b'N'),
            Some((vk, o, n)) => p.s(vk).int(o as i64).int(n as i64).op(0x87),
        };
        p.op(b't').op(b'Q');
        p.int(offset as i64)
            .ints(shape)
            .ints(stride)
            .op(0x89)
            .ordered_dict()
            .op(b't')
            .op(b'R')
    }

    fn legacy_record(count: u64, data: &[u8]) -> Vec<u8> {
        let mut b = count.to_le_bytes().to_vec();
        b.extend_from_slice(data);
        b
    }

    fn keys_pickle(keys: &[&str]) -> Vec<u8> {
        let mut p = Pk::default();
        p.proto(2).op(b']').op(b'(');
        for k in keys {
            p.s(k);
        }
        p.op(b'e').stop()
    }

    /// Root storage "r" of 8 f32 (values 0..8) with a view "v" = elements [2, 6); a
    /// storage "s" of 3 i64 first in the records; tensor `a` = view[1..3] = [3, 4],
    /// tensor `b` = the whole root.
    fn legacy_with_view(view: (usize, usize), a_offset: usize, count_r: u64) -> Vec<u8> {
        let mut b = legacy_header(true, 1001);
        let mut p = Pk::default();
        p.proto(2).ordered_dict().op(b'(');
        p.s("a");
        legacy_tensor(
            &mut p,
            "FloatStorage",
            "r",
            8,
            Some(("v", view.0, view.1)),
            a_offset,
            &[2],
            &[1],
        );
        p.s("b");
        legacy_tensor(&mut p, "FloatStorage", "r", 8, None, 0, &[2, 4], &[4, 1]);
        p.s("c");
        legacy_tensor(&mut p, "LongStorage", "s", 3, None, 2, &[], &[]);
        p.op(b'u');
        b.extend(p.stop());
        b.extend(keys_pickle(&["s", "r"]));
        let longs: Vec<u8> = [7i64, 8, 9].iter().flat_map(|x| x.to_le_bytes()).collect();
        b.extend(legacy_record(3, &longs));
        let floats = f32_bytes(&[0., 1., 2., 3., 4., 5., 6., 7.]);
        b.extend(legacy_record(count_r, &floats));
        b
    }

    #[test]
    fn legacy_storage_views_and_records() {
        let sd = read_bytes(&legacy_with_view((2, 4), 1, 8), None).unwrap();
        assert_eq!(sd.len(), 3);
        assert_eq!(f32s(&sd[0].1), [3., 4.]);
        assert_eq!(f32s(&sd[1].1), [0., 1., 2., 3., 4., 5., 6., 7.]);
        assert_eq!(sd[2].1.data, 9i64.to_le_bytes());
        // A tensor reaching past its view (but not past the root storage).
        let e = read_bytes(&legacy_with_view((2, 4), 3, 8), None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`a`") && e.contains("storage view of 4 elements"),
            "{e}"
        );
        // A view past the root storage.
        let e = read_bytes(&legacy_with_view((6, 4), 0, 8), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("exceeds storage `r` of 8 elements"), "{e}");
        // A record whose count disagrees with the persistent id.
        let e = read_bytes(&legacy_with_view((2, 4), 1, 7), None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("holds 7 elements, its persistent id says 8"),
            "{e}"
        );
        // Truncated records.
        let full = legacy_with_view((2, 4), 1, 8);
        let e = read_bytes(&full[..full.len() - 1], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("truncated: storage `r`"), "{e}");
        let e = read_bytes(&full[..full.len() - 36], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("truncated: the record of storage `r`"), "{e}");
    }

    #[test]
    fn legacy_header_checks() {
        let body = |header: Vec<u8>| {
            let mut b = header;
            let mut p = Pk::default();
            p.proto(2).op(b'}').op(b'(').s("w");
            legacy_tensor(&mut p, "FloatStorage", "k", 1, None, 0, &[1], &[1]);
            p.op(b'u');
            b.extend(p.stop());
            b.extend(keys_pickle(&["k"]));
            b.extend(legacy_record(1, &f32_bytes(&[2.5])));
            b
        };
        let sd = read_bytes(&body(legacy_header(true, 1001)), None).unwrap();
        assert_eq!(f32s(&sd[0].1), [2.5]);
        let e = read_bytes(&body(legacy_header(false, 1001)), None).unwrap_err();
        assert!(matches!(e, PthError::ByteOrder { .. }), "{e}");
        let e = read_bytes(&body(legacy_header(true, 1000)), None).unwrap_err();
        assert!(
            e.to_string()
                .contains("protocol version 1000, expected 1001"),
            "{e}"
        );
        // A storage listed in the key pickle that no persistent id declared.
        let mut b = legacy_header(true, 1001);
        let mut p = Pk::default();
        p.proto(2).op(b'}');
        b.extend(p.stop());
        b.extend(keys_pickle(&["zz"]));
        let e = read_bytes(&b, None).unwrap_err().to_string();
        assert!(e.contains("storage `zz` is listed"), "{e}");
        // A storage used by a tensor but missing from the key list.
        let mut b = legacy_header(true, 1001);
        let mut p = Pk::default();
        p.proto(2).op(b'}').op(b'(').s("w");
        legacy_tensor(&mut p, "FloatStorage", "k", 1, None, 0, &[1], &[1]);
        p.op(b'u');
        b.extend(p.stop());
        b.extend(keys_pickle(&[]));
        let e = read_bytes(&b, None).unwrap_err().to_string();
        assert!(
            e.contains("storage `k` of tensor `w` has no data record"),
            "{e}"
        );
    }

    #[test]
    fn dtype_sizes_and_f16() {
        assert_eq!(PthDType::BF16.size(), 2);
        assert_eq!(PthDType::Bool.name(), "BOOL");
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8);
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0xfc00), f32::NEG_INFINITY);
    }
}
