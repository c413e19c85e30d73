//! Values in and out of statements: what both engines store (integers, reals, text, bytes,
//! NULL), and the conversions from and to Rust types.

use crate::error::{Error, ErrorKind, Result};

/// One value of a column or parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit integer (a boolean is 0 or 1).
    Integer(i64),
    /// A floating-point number.
    Real(f64),
    /// UTF-8 text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl Value {
    fn what(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Integer(_) => "an integer",
            Value::Real(_) => "a real",
            Value::Text(_) => "text",
            Value::Blob(_) => "bytes",
        }
    }
}

/// A Rust value given as a statement parameter.
pub trait ToValue {
    /// The value.
    fn to_value(&self) -> Value;
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl<T: ToValue + ?Sized> ToValue for Box<T> {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl<const N: usize> ToValue for [u8; N] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Integer(i64::from(*self))
    }
}
impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}
macro_rules! int_to_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Integer(i64::from(*self))
            }
        }
    )*};
}
int_to_value!(i8, i16, i32, i64, u8, u16, u32);
impl ToValue for u64 {
    fn to_value(&self) -> Value {
        // Above i64::MAX cannot be stored; saturating keeps a bound check in SQL failing.
        Value::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}
impl ToValue for usize {
    fn to_value(&self) -> Value {
        Value::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

/// A Rust value read from a column.
pub trait FromValue: Sized {
    /// Convert `v`, or say why it cannot be.
    fn from_value(v: &Value) -> Result<Self>;
}

fn mismatch(v: &Value, want: &str) -> Error {
    Error::new(
        ErrorKind::Conversion,
        format!("expected {want}, the store holds {}", v.what()),
    )
}

impl FromValue for Value {
    fn from_value(v: &Value) -> Result<Self> {
        Ok(v.clone())
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Result<Self> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}
impl FromValue for i64 {
    fn from_value(v: &Value) -> Result<Self> {
        match v {
            Value::Integer(i) => Ok(*i),
            v => Err(mismatch(v, "an integer")),
        }
    }
}
macro_rules! int_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: &Value) -> Result<Self> {
                let i = i64::from_value(v)?;
                <$t>::try_from(i).map_err(|_| {
                    Error::new(
                        ErrorKind::Conversion,
                        format!("{i} is out of range for {}", stringify!($t)),
                    )
                })
            }
        }
    )*};
}
int_from_value!(i32, u32, u64, usize, u16, u8);
impl FromValue for bool {
    fn from_value(v: &Value) -> Result<Self> {
        Ok(i64::from_value(v)? != 0)
    }
}
impl FromValue for f64 {
    fn from_value(v: &Value) -> Result<Self> {
        match v {
            Value::Real(r) => Ok(*r),
            // An integer is exact in a real up to 2^53, as the engines convert it.
            #[allow(clippy::cast_precision_loss)]
            Value::Integer(i) => Ok(*i as f64),
            v => Err(mismatch(v, "a number")),
        }
    }
}
impl FromValue for String {
    fn from_value(v: &Value) -> Result<Self> {
        match v {
            Value::Text(s) => Ok(s.clone()),
            v => Err(mismatch(v, "text")),
        }
    }
}
impl FromValue for Vec<u8> {
    fn from_value(v: &Value) -> Result<Self> {
        match v {
            Value::Blob(b) => Ok(b.clone()),
            v => Err(mismatch(v, "bytes")),
        }
    }
}

/// One row of a query's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    values: Vec<Value>,
}

impl Row {
    /// A row of these values (engines build rows; tests too).
    pub fn new(values: Vec<Value>) -> Row {
        Row { values }
    }
    /// Column `i` (from 0) as a `T`.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T> {
        let v = self.values.get(i).ok_or_else(|| {
            Error::new(
                ErrorKind::Conversion,
                format!("no column {i}: the row has {}", self.values.len()),
            )
        })?;
        T::from_value(v).map_err(|e| Error::new(e.kind(), format!("column {i}: {e}")))
    }
    /// Column `i` as it is stored.
    pub fn value(&self, i: usize) -> Option<&Value> {
        self.values.get(i)
    }
    /// How many columns it has.
    pub fn len(&self) -> usize {
        self.values.len()
    }
    /// Whether it has no column.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// A statement's parameters: `[]`, an array of one type, or [`crate::params!`] for mixed types.
pub trait Params {
    /// The values, in order (`?1` is the first).
    fn values(&self) -> Vec<Value>;
}

impl Params for [&dyn ToValue; 0] {
    fn values(&self) -> Vec<Value> {
        Vec::new()
    }
}
impl Params for &[&dyn ToValue] {
    fn values(&self) -> Vec<Value> {
        self.iter().map(|v| v.to_value()).collect()
    }
}
impl Params for Vec<Value> {
    fn values(&self) -> Vec<Value> {
        self.clone()
    }
}
impl Params for &[Value] {
    fn values(&self) -> Vec<Value> {
        self.to_vec()
    }
}
macro_rules! array_params {
    ($($n:literal),*) => {$(
        impl<T: ToValue> Params for [T; $n] {
            fn values(&self) -> Vec<Value> {
                self.iter().map(ToValue::to_value).collect()
            }
        }
        impl<T: ToValue> Params for &[T; $n] {
            fn values(&self) -> Vec<Value> {
                self.iter().map(ToValue::to_value).collect()
            }
        }
    )*};
}
array_params!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);

/// Parameters of mixed types: `params![id, name, bytes.as_slice()]`.
#[macro_export]
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::ToValue]
    };
    ($($p:expr),+ $(,)?) => {
        &[$(&$p as &dyn $crate::ToValue),+] as &[&dyn $crate::ToValue]
    };
}
