//! The original engine's candle records, made in Rust when first read.
//!
//! `omega_pl.engine` hands strategies sequences of candles that behave like
//! the original's lists of `Candle` dataclasses. A million Python objects
//! built up front would cost seconds, and a Python-level record costs about
//! a microsecond to make, so the records and the sequences are Rust classes:
//! [`CandleStore`] keeps a timeframe's bars as columns and makes a
//! [`Candle`] the first time its row is read (about 0.1 µs), keeping it so
//! that a repeated read returns the *same* object, and a higher-timeframe bar
//! the same object on every row it is carried to (engine code detects a new
//! bar with `c is not prev`). The Python subclass `omega_pl.engine.CandleSeq`
//! adds the Polars side (building from frames, columns back out).

use arrow::array::Array;
use polars::prelude::*;
use pyo3::exceptions::{PyIndexError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PySlice, PyTuple};
use pyo3_polars::PySeries;

/// `functools.partial(pandas.Timestamp, unit="us", tz="UTC")`, made once.
static TIMESTAMP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn timestamp_from_us(py: Python<'_>, us: i64) -> PyResult<Py<PyAny>> {
    let make = TIMESTAMP.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        let timestamp = py.import("pandas")?.getattr("Timestamp")?;
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("unit", "us")?;
        kwargs.set_item("tz", "UTC")?;
        let partial = py.import("functools")?.getattr("partial")?;
        Ok(partial.call((timestamp,), Some(&kwargs))?.unbind())
    })?;
    Ok(make.bind(py).call1((us,))?.unbind())
}

/// One bid or ask bar: `timestamp, open, high, low, close, volume, candle_type`.
///
/// Built like the original engine's dataclass, `Candle(timestamp, open, high,
/// low, close, volume, candle_type="bid")`; every field can be read and set,
/// candles compare equal by value, pickle, and work with
/// `dataclasses.asdict`/`replace`. Candles from a loaded sequence get their
/// `timestamp` (a tz-aware UTC `pandas.Timestamp`) when it is first read.
///
/// Examples
/// --------
/// >>> import dataclasses, pickle
/// >>> import pandas as pd
/// >>> from omega_pl.engine import Candle
/// >>> c = Candle(pd.Timestamp("2025-03-03 09:00", tz="UTC"), 1.1, 1.2, 1.0, 1.15, 10.0)
/// >>> c.close, c.candle_type, c.timestamp.tz_convert(None)
/// (1.15, 'bid', Timestamp('2025-03-03 09:00:00'))
/// >>> c == dataclasses.replace(c) == pickle.loads(pickle.dumps(c)), dataclasses.asdict(c)["high"]
/// (True, 1.2)
#[pyclass(module = "omega_pl.engine", name = "Candle")]
pub struct Candle {
    #[pyo3(get, set)]
    open: f64,
    #[pyo3(get, set)]
    high: f64,
    #[pyo3(get, set)]
    low: f64,
    #[pyo3(get, set)]
    close: f64,
    #[pyo3(get, set)]
    volume: f64,
    #[pyo3(get, set)]
    candle_type: Py<PyAny>,
    /// The bar's open time in epoch microseconds (loaded candles).
    time_us: i64,
    /// The timestamp once made, or as given to the constructor.
    stamp: Option<Py<PyAny>>,
}

impl Candle {
    fn stamp(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        if let Some(stamp) = &self.stamp {
            return Ok(stamp.clone_ref(py));
        }
        let stamp = timestamp_from_us(py, self.time_us)?;
        self.stamp = Some(stamp.clone_ref(py));
        Ok(stamp)
    }
}

#[pymethods]
impl Candle {
    #[new]
    #[pyo3(signature = (timestamp, open, high, low, close, volume, candle_type = None))]
    #[allow(clippy::too_many_arguments)]
    fn py_new(
        py: Python<'_>,
        timestamp: Py<PyAny>,
        open: f64,
        high: f64,
        low: f64,
        close: f64,
        volume: f64,
        candle_type: Option<Py<PyAny>>,
    ) -> Self {
        let candle_type =
            candle_type.unwrap_or_else(|| pyo3::intern!(py, "bid").clone().into_any().unbind());
        Candle {
            open,
            high,
            low,
            close,
            volume,
            candle_type,
            time_us: 0,
            stamp: Some(timestamp),
        }
    }

    /// The bar's open time: a tz-aware UTC `pandas.Timestamp` for loaded candles.
    #[getter]
    fn timestamp(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.stamp(py)
    }

    #[setter]
    fn set_timestamp(&mut self, value: Py<PyAny>) {
        self.stamp = Some(value);
    }

    fn __eq__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let Ok(other) = other.cast::<Candle>() else {
            return Ok(py.NotImplemented());
        };
        if slf.is(other) {
            return Ok(true.into_pyobject(py)?.to_owned().into_any().unbind());
        }
        let equal = {
            let (a, b) = (slf.borrow(), other.borrow());
            let values = a.open == b.open
                && a.high == b.high
                && a.low == b.low
                && a.close == b.close
                && a.volume == b.volume;
            values && a.candle_type.bind(py).eq(b.candle_type.bind(py))?
        };
        let equal = equal && {
            let (mut a, mut b) = (slf.borrow_mut(), other.borrow_mut());
            if a.stamp.is_none() && b.stamp.is_none() {
                a.time_us == b.time_us
            } else {
                let (sa, sb) = (a.stamp(py)?, b.stamp(py)?);
                sa.bind(py).eq(sb.bind(py))?
            }
        };
        Ok(equal.into_pyobject(py)?.to_owned().into_any().unbind())
    }

    /// Unhashable, like a dataclass with `eq` that is not frozen.
    #[classattr]
    const __hash__: Option<Py<PyAny>> = None;

    /// The original dataclass's fields (`dataclasses.fields`, `asdict`, `replace`).
    #[classattr]
    fn __dataclass_fields__(py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(py
            .import("omega_pl._candle_fields")?
            .getattr("FIELDS")?
            .unbind())
    }

    #[classattr]
    fn __dataclass_params__(py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(py
            .import("omega_pl._candle_fields")?
            .getattr("PARAMS")?
            .unbind())
    }

    fn __reduce__(slf: &Bound<'_, Self>) -> PyResult<(Py<PyAny>, Py<PyTuple>)> {
        let py = slf.py();
        let args = slf.borrow_mut().fields(py)?;
        Ok((slf.get_type().into_any().unbind(), args))
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let py = slf.py();
        let fields = slf.borrow_mut().fields(py)?;
        let names = [
            "timestamp",
            "open",
            "high",
            "low",
            "close",
            "volume",
            "candle_type",
        ];
        let mut parts = Vec::with_capacity(names.len());
        for (name, value) in names.iter().zip(fields.bind(py).iter()) {
            parts.push(format!("{name}={}", value.repr()?));
        }
        Ok(format!("Candle({})", parts.join(", ")))
    }
}

impl Candle {
    fn fields(&mut self, py: Python<'_>) -> PyResult<Py<PyTuple>> {
        let stamp = self.stamp(py)?;
        let values = (
            stamp,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            self.candle_type.clone_ref(py),
        );
        Ok(values.into_pyobject(py)?.unbind())
    }
}

/// A timeframe's bars as columns, and the candles made from them so far.
///
/// `CandleStore()` is empty until `_load(...)` fills it (the Python subclass
/// `omega_pl.engine.CandleSeq` does that). Row `i` shows bar `rows[i]`
/// (`-1`: no bar, `None`), or bar `i` when there is no row map.
#[pyclass(module = "omega_pl._plugins", subclass)]
pub struct CandleStore {
    time_us: Vec<i64>,
    columns: [Vec<f64>; 5],
    rows: Option<Vec<i64>>,
    side: Option<Py<PyAny>>,
    made: Vec<Option<Py<Candle>>>,
}

fn polars_error(name: &str, e: &PolarsError) -> PyErr {
    PyTypeError::new_err(format!("{name}: {e}"))
}

/// A column as float64 values, nulls as `NaN` (one copy, chunk by chunk).
fn floats(series: &Series, name: &str) -> PyResult<Vec<f64>> {
    let cast = series
        .cast(&DataType::Float64)
        .map_err(|e| polars_error(name, &e))?;
    let ca = cast.f64().map_err(|e| polars_error(name, &e))?;
    let mut out = Vec::with_capacity(ca.len());
    for arr in ca.downcast_iter() {
        if arr.null_count() == 0 {
            out.extend_from_slice(arr.values().as_slice());
        } else {
            out.extend(arr.iter().map(|v| v.copied().unwrap_or(f64::NAN)));
        }
    }
    Ok(out)
}

/// A column's physical values as int64 (a Datetime's epoch units), nulls as `null`.
fn ints(series: &Series, name: &str, null: i64) -> PyResult<Vec<i64>> {
    let cast = series
        .to_physical_repr()
        .cast(&DataType::Int64)
        .map_err(|e| polars_error(name, &e))?;
    let ca = cast.i64().map_err(|e| polars_error(name, &e))?;
    let mut out = Vec::with_capacity(ca.len());
    for arr in ca.downcast_iter() {
        if arr.null_count() == 0 {
            out.extend_from_slice(arr.values().as_slice());
        } else {
            out.extend(arr.iter().map(|v| v.copied().unwrap_or(null)));
        }
    }
    Ok(out)
}

impl CandleStore {
    fn len(&self) -> usize {
        self.rows.as_ref().map_or(self.time_us.len(), Vec::len)
    }

    /// The bar shown on row `i` (`None`: no bar); `i` is in range.
    fn bar_of(&self, i: usize) -> Option<usize> {
        match &self.rows {
            None => Some(i),
            Some(rows) => rows.get(i).and_then(|&k| usize::try_from(k).ok()),
        }
    }

    /// The candle of bar `k`, made now if it was not yet.
    fn candle(&mut self, py: Python<'_>, k: usize) -> PyResult<Py<Candle>> {
        if let Some(Some(made)) = self.made.get(k) {
            return Ok(made.clone_ref(py));
        }
        let value = |col: usize| {
            self.columns
                .get(col)
                .and_then(|c| c.get(k))
                .copied()
                .unwrap_or(f64::NAN)
        };
        let candle = Candle {
            open: value(0),
            high: value(1),
            low: value(2),
            close: value(3),
            volume: value(4),
            candle_type: match &self.side {
                Some(side) => side.clone_ref(py),
                None => pyo3::intern!(py, "bid").clone().into_any().unbind(),
            },
            time_us: self.time_us.get(k).copied().unwrap_or(0),
            stamp: None,
        };
        let made = Py::new(py, candle)?;
        if let Some(slot) = self.made.get_mut(k) {
            *slot = Some(made.clone_ref(py));
        }
        Ok(made)
    }

    /// Row `i`'s candle or `None` (row in range).
    fn row(&mut self, py: Python<'_>, i: usize) -> PyResult<Py<PyAny>> {
        match self.bar_of(i) {
            Some(k) => Ok(self.candle(py, k)?.into_any()),
            None => Ok(py.None()),
        }
    }
}

#[pymethods]
impl CandleStore {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn py_new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        CandleStore {
            time_us: Vec::new(),
            columns: Default::default(),
            rows: None,
            side: None,
            made: Vec::new(),
        }
    }

    /// Fills the store from Polars columns: `time` (Datetime µs), `open` …
    /// `volume`, one length; the side's name; and an optional row map (Int64,
    /// null or -1 where a row has no bar).
    #[pyo3(signature = (time, open, high, low, close, volume, side, rows = None))]
    #[allow(clippy::too_many_arguments)]
    fn _load(
        &mut self,
        time: PySeries,
        open: PySeries,
        high: PySeries,
        low: PySeries,
        close: PySeries,
        volume: PySeries,
        side: Py<PyAny>,
        rows: Option<PySeries>,
    ) -> PyResult<()> {
        let time_us = ints(&time.0, "time", 0)?;
        let columns = [
            floats(&open.0, "open")?,
            floats(&high.0, "high")?,
            floats(&low.0, "low")?,
            floats(&close.0, "close")?,
            floats(&volume.0, "volume")?,
        ];
        let n = time_us.len();
        if columns.iter().any(|c| c.len() != n) {
            return Err(PyValueError::new_err(
                "the bar columns must have one length",
            ));
        }
        let rows = rows.map(|r| ints(&r.0, "rows", -1)).transpose()?;
        if let Some(rows) = &rows {
            if rows
                .iter()
                .any(|&k| k < -1 || usize::try_from(k).is_ok_and(|k| k >= n))
            {
                return Err(PyValueError::new_err(
                    "rows refer to bars that do not exist",
                ));
            }
        }
        self.made = (0..n).map(|_| None).collect();
        self.time_us = time_us;
        self.columns = columns;
        self.rows = rows;
        self.side = Some(side);
        Ok(())
    }

    fn __len__(&self) -> usize {
        self.len()
    }

    fn __bool__(&self) -> bool {
        self.len() > 0
    }

    fn __getitem__(&mut self, py: Python<'_>, index: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let n = self.len();
        if let Ok(slice) = index.cast::<PySlice>() {
            let idx = slice.indices(isize::try_from(n).unwrap_or(isize::MAX))?;
            let list = PyList::empty(py);
            let mut i = idx.start;
            for _ in 0..idx.slicelength {
                let row = usize::try_from(i)
                    .map_err(|_| PyIndexError::new_err("candle index out of range"))?;
                list.append(self.row(py, row)?)?;
                i += idx.step;
            }
            return Ok(list.into_any().unbind());
        }
        let i: isize = index.extract()?;
        let i = if i < 0 {
            i + isize::try_from(n).unwrap_or(isize::MAX)
        } else {
            i
        };
        match usize::try_from(i) {
            Ok(i) if i < n => self.row(py, i),
            _ => Err(PyIndexError::new_err("candle index out of range")),
        }
    }

    /// Iterating reads every row: the candles are made in one pass here and
    /// handed out by a list iterator (no Python-level step per candle).
    fn __iter__(mut slf: PyRefMut<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let n = slf.len();
        let mut rows = Vec::with_capacity(n);
        for i in 0..n {
            rows.push(slf.row(py, i)?);
        }
        let list = PyList::new(py, rows)?;
        Ok(list.as_any().try_iter()?.into_any().unbind())
    }

    /// How many distinct candles have been made so far.
    fn _made(&self) -> usize {
        self.made.iter().filter(|m| m.is_some()).count()
    }
}
