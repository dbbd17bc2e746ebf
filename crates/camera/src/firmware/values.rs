//! The stored value of every feature at every selector index, with the
//! power-up defaults, and the snapshots user sets are made of.

use std::collections::BTreeMap;

use crate::features::{FeatureDef, FeatureTable, Kind, Limits, Value};
use crate::model::ModelSpec;

/// Values of every feature, indexed like the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Values {
    values: Vec<Vec<Value>>,
}

/// The power-up value of feature `d` on model `spec`.
fn default_value(d: &FeatureDef, spec: &ModelSpec) -> Value {
    let s = &spec.sensor;
    let int = |v: i64| Value::Int(v);
    let float = |v: f64| Value::Float(v);
    match d.name {
        "Width" | "WidthMax" | "SensorWidth" => int(i64::from(s.width)),
        "Height" | "HeightMax" | "SensorHeight" => int(i64::from(s.height)),
        "BinningHorizontal"
        | "BinningVertical"
        | "DecimationHorizontal"
        | "DecimationVertical"
        | "AcquisitionFrameCount" => int(1),
        "PixelFormat" => int(spec
            .pixel_formats
            .first()
            .map_or(0, |f| i64::from(f.code()))),
        "AdcBitDepth" => int(12),
        "SensorShutterMode" => {
            let e = match d.kind {
                Kind::Enumeration(ref e) => e.first().map_or(0, |e| e.value),
                _ => 0,
            };
            int(e)
        }
        "AcquisitionFrameRate" => float(30.0),
        "ExposureTime" => float(10_000.0),
        "AutoTargetBrightness" => int(110),
        "AutoExposureTimeLowerLimit" => float(100.0),
        "AutoExposureTimeUpperLimit" => float(100_000.0),
        "AutoGainLowerLimit" => float(0.0),
        "AutoGainUpperLimit" => float(f64::from(s.max_analog_gain_db)),
        "BalanceRatio" => float(1.0),
        "Gamma" => float(1.0),
        "Saturation" => float(1.0),
        "FFCFrameCount" => int(8),
        "DeviceLinkThroughputLimit" => int(400_000_000),
        "DeviceLinkSpeed" => int(400_000_000),
        "DeviceSFNCVersionMajor" => int(2),
        "DeviceSFNCVersionMinor" => int(7),
        "DeviceSFNCVersionSubMinor" => int(0),
        "DeviceTLType" => int(4),
        "LineFormat" => int(0),
        "SimulationUniformLevel" => float(0.5),
        "SimulationLightLevel" => float(1.5),
        "SimulationAmbientTemperature" => float(25.0),
        "SimulationLinePulseVoltage" => float(5.0),
        "SimulationLinePulseWidth" => float(1000.0),
        "SimulationPullUpVoltage" => int(12),
        "ColorInterpolation" => int(0),
        _ => match &d.kind {
            Kind::Float => float(match d.limits {
                Limits::Fixed { min, .. } if min > 0.0 => min,
                _ => 0.0,
            }),
            Kind::Integer => int(match d.limits {
                Limits::Fixed { min, .. } if min > 0.0 => min as i64,
                _ => 0,
            }),
            Kind::Enumeration(e) => int(e.first().map_or(0, |e| e.value)),
            Kind::Boolean | Kind::Command => int(0),
            Kind::String(_) => Value::Str(String::new()),
            Kind::Register(n) => Value::Bytes(vec![0; *n]),
        },
    }
}

/// Green's quantum efficiency over channel `c`'s, rounded to 0.01.
fn balance(spec: &ModelSpec, c: usize) -> f64 {
    let qe = spec.sensor.quantum_efficiency;
    let ratio = f64::from(qe[1]) / f64::from(qe[c].max(1e-3));
    (ratio * 100.0).round() / 100.0
}

/// Per-index defaults that differ between selector indices.
fn default_at(d: &FeatureDef, index: usize, spec: &ModelSpec) -> Value {
    match (d.name, index) {
        // Line0 is an output, Line1 an input, Line2 an input at power-up.
        ("LineMode", 0) => Value::Int(1),
        ("LineFormat", 2) => Value::Int(1),
        // The factory white balance: the green-to-red and green-to-blue
        // quantum efficiency ratios of the sensor, so that grey is grey.
        ("BalanceRatio", 0) => Value::Float(balance(spec, 0)),
        ("BalanceRatio", 2) => Value::Float(balance(spec, 2)),
        // The identity colour matrix: Gain00, Gain11, Gain22 are 1.
        ("ColorTransformationValue", 0 | 4 | 8) => Value::Float(1.0),
        // The identity LUT.
        ("LUTValue", i) => Value::Int(i as i64),
        _ => default_value(d, spec),
    }
}

impl Values {
    /// The power-up values of `table` on model `spec`.
    pub fn defaults(table: &FeatureTable, spec: &ModelSpec) -> Values {
        let values = table
            .defs()
            .iter()
            .map(|d| (0..d.count).map(|i| default_at(d, i, spec)).collect())
            .collect();
        Values { values }
    }

    /// The value of feature `id` at `index`.
    pub fn get(&self, id: usize, index: usize) -> Option<&Value> {
        self.values.get(id)?.get(index)
    }

    /// Sets it; false when there is no such slot.
    pub fn set(&mut self, id: usize, index: usize, value: Value) -> bool {
        match self.values.get_mut(id).and_then(|v| v.get_mut(index)) {
            Some(slot) => {
                *slot = value;
                true
            }
            None => false,
        }
    }

    /// The streamable values (what a user set holds), by feature name and
    /// index.
    pub fn snapshot(&self, table: &FeatureTable) -> UserSetData {
        let mut map = BTreeMap::new();
        for (id, d) in table.defs().iter().enumerate() {
            if !d.streamable {
                continue;
            }
            if let Some(vals) = self.values.get(id) {
                map.insert(d.name.to_owned(), vals.clone());
            }
        }
        UserSetData(map)
    }
}

/// The contents of a user set: feature name → value per selector index.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserSetData(pub BTreeMap<String, Vec<Value>>);

impl UserSetData {
    /// As JSON: `{"Feature": [v0, v1, ...]}` with numbers and strings.
    pub fn to_json(&self) -> serde_json::Value {
        let mut obj = serde_json::Map::new();
        for (k, vals) in &self.0 {
            let arr = vals
                .iter()
                .map(|v| match v {
                    Value::Int(i) => serde_json::Value::from(*i),
                    Value::Float(f) => serde_json::Value::from(*f),
                    Value::Str(s) => serde_json::Value::from(s.clone()),
                    Value::Bytes(b) => serde_json::Value::from(b.clone()),
                })
                .collect();
            obj.insert(k.clone(), serde_json::Value::Array(arr));
        }
        serde_json::Value::Object(obj)
    }

    /// From JSON written by [`to_json`](Self::to_json), checked against
    /// `table`: unknown features and values of the wrong type are skipped
    /// and named in the returned list of problems.
    pub fn from_json(json: &serde_json::Value, table: &FeatureTable) -> (UserSetData, Vec<String>) {
        let mut map = BTreeMap::new();
        let mut problems = Vec::new();
        let Some(obj) = json.as_object() else {
            problems.push("a user set is not a JSON object".to_owned());
            return (UserSetData(map), problems);
        };
        for (name, arr) in obj {
            let Some(d) = table.def(name) else {
                problems.push(format!("{name}: no such feature"));
                continue;
            };
            let Some(arr) = arr.as_array() else {
                problems.push(format!("{name}: not a list of values"));
                continue;
            };
            let mut vals = Vec::with_capacity(arr.len());
            for v in arr {
                let parsed = match &d.kind {
                    Kind::Float => v.as_f64().map(Value::Float),
                    Kind::String(_) => v.as_str().map(|s| Value::Str(s.to_owned())),
                    Kind::Register(_) => v.as_array().map(|a| {
                        Value::Bytes(
                            a.iter()
                                .filter_map(|b| b.as_u64())
                                .map(|b| b as u8)
                                .collect(),
                        )
                    }),
                    _ => v.as_i64().map(Value::Int),
                };
                match parsed {
                    Some(p) => vals.push(p),
                    None => {
                        problems.push(format!("{name}: value {v} has the wrong type"));
                        vals.clear();
                        break;
                    }
                }
            }
            if vals.len() == d.count {
                map.insert(name.clone(), vals);
            } else if !vals.is_empty() {
                problems.push(format!(
                    "{name}: {} values, expected {}",
                    vals.len(),
                    d.count
                ));
            }
        }
        (UserSetData(map), problems)
    }
}
