//! Values to and from the server: a parameter takes whatever type the server inferred for
//! its placeholder, and a column of any type the store uses comes back as a [`Value`].

use bytes::BytesMut;
use postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use store::{Error, ErrorKind, Value};

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// A parameter value the server cannot take as the type it inferred (an integer out of range,
/// text for a bytea column): a conversion error, not the server's.
#[derive(Debug)]
pub(crate) struct ParamError(pub(crate) String);

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ParamError {}

fn refuse(what: &str, ty: &Type) -> BoxError {
    Box::new(ParamError(format!(
        "{what} cannot be given where the server expects {}",
        ty.name()
    )))
}

/// A statement parameter.
#[derive(Debug)]
pub(crate) struct Param<'a>(pub(crate) &'a Value);

fn int_to<T: TryFrom<i64> + ToSql>(
    i: i64,
    ty: &Type,
    out: &mut BytesMut,
) -> Result<IsNull, BoxError> {
    let v = T::try_from(i).map_err(|_| {
        Box::new(ParamError(format!("{i} is out of range for {}", ty.name()))) as BoxError
    })?;
    v.to_sql(ty, out)
}

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => int_to::<i32>(*i, ty, out),
                Type::INT2 => int_to::<i16>(*i, ty, out),
                Type::OID => int_to::<u32>(*i, ty, out),
                Type::BOOL => match i {
                    0 => false.to_sql(ty, out),
                    1 => true.to_sql(ty, out),
                    _ => Err(Box::new(ParamError(format!(
                        "{i} is not a boolean (0 or 1)"
                    )))),
                },
                // Exact up to 2^53, as SQLite converts.
                #[allow(clippy::cast_precision_loss)]
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                #[allow(clippy::cast_precision_loss)]
                Type::FLOAT4 => (*i as f32).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    i.to_string().as_str().to_sql(&Type::TEXT, out)
                }
                _ => Err(refuse("an integer", ty)),
            },
            Value::Real(r) => match *ty {
                Type::FLOAT8 => r.to_sql(ty, out),
                #[allow(clippy::cast_possible_truncation)]
                Type::FLOAT4 => (*r as f32).to_sql(ty, out),
                _ => Err(refuse("a real", ty)),
            },
            Value::Text(s) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    s.as_str().to_sql(&Type::TEXT, out)
                }
                _ => Err(refuse("text", ty)),
            },
            Value::Blob(b) => match *ty {
                Type::BYTEA => b.as_slice().to_sql(ty, out),
                _ => Err(refuse("bytes", ty)),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A column value as the store reads it.
pub(crate) struct Column(pub(crate) Value);

impl<'a> FromSql<'a> for Column {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let v = match *ty {
            Type::INT8 => Value::Integer(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Integer(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Value::Integer(i16::from_sql(ty, raw)?.into()),
            Type::OID => Value::Integer(u32::from_sql(ty, raw)?.into()),
            Type::BOOL => Value::Integer(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)?.into()),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                Value::Text(<&str>::from_sql(&Type::TEXT, raw)?.to_owned())
            }
            Type::BYTEA => Value::Blob(raw.to_vec()),
            _ => return Err(Box::new(ParamError(unreadable(ty)))),
        };
        Ok(Column(v))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Column(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Why a column of type `ty` cannot be read, and what to write instead.
pub(crate) fn unreadable(ty: &Type) -> String {
    if *ty == Type::NUMERIC {
        "the column is numeric (SUM over a BIGINT gives one): cast it, CAST(SUM(x) AS BIGINT)"
            .to_owned()
    } else {
        format!(
            "the column is of type {}, which the store does not read: cast it to BIGINT, TEXT or BYTEA",
            ty.name()
        )
    }
}

/// Read every column of `row`.
pub(crate) fn row(row: &postgres::Row) -> store::Result<store::Row> {
    let mut values = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let v = row.try_get::<_, Column>(i).map_err(|e| {
            let why = match std::error::Error::source(&e) {
                Some(cause) => cause.to_string(),
                None => e.to_string(),
            };
            Error::new(
                ErrorKind::Conversion,
                format!("column {i} ({}): {why}", col.name()),
            )
        })?;
        values.push(v.0);
    }
    Ok(store::Row::new(values))
}
