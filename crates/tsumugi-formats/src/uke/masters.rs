//! The レセプト電算処理システム 基本マスター (s_ 診療行為, y_ 医薬品, b_ 傷病名, z_ 修飾語,
//! t_ 特定器材): CP932, quoted CSV, one file per kind.
//!
//! Column positions (0-based) follow the master layouts as the fixtures from
//! yokenzan/receiptisan (`spec/resource/csv/master/2022/*.csv`) carry them: the code is column 2
//! in every kind; the name is column 4 (s, y, t: 省略名称), 5 (b: 基本名称) or 6 (z: 修飾語名称);
//! the 傷病名 master carries ICD-10-1 (2013) in column 15 and the older ICD-10-1 in column 13.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use encoding_rs::SHIFT_JIS;

use crate::uke::error::MasterError;

/// One 傷病名 master entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiseaseEntry {
    /// 傷病名基本名称.
    pub name: String,
    /// ICD-10 code (2013 edition when the master carries it), without the dot.
    pub icd10: Option<String>,
}

/// Names (and ICD-10 for diseases) by receipt code, loaded from the 基本マスター CSVs.
#[derive(Debug, Clone, Default)]
pub struct Masters {
    procedures: HashMap<String, String>,
    drugs: HashMap<String, String>,
    diseases: HashMap<String, DiseaseEntry>,
    modifiers: HashMap<String, String>,
    devices: HashMap<String, String>,
}

impl Masters {
    /// Loads every `s_*.csv`, `y_*.csv`, `b_*.csv`, `z_*.csv` and `t_*.csv` in `dir` (other
    /// files are ignored; a missing kind leaves that table empty).
    ///
    /// # Errors
    /// [`MasterError`] when a file cannot be read, is not CP932 or is not CSV.
    pub fn load_dir(dir: &Path) -> Result<Masters, MasterError> {
        let io = |source| MasterError::Io {
            file: dir.display().to_string(),
            source,
        };
        let mut paths: Vec<_> = fs::read_dir(dir)
            .map_err(io)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(io)?;
        paths.sort();
        let mut masters = Masters::default();
        for path in paths {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !name.to_ascii_lowercase().ends_with(".csv") {
                continue;
            }
            let kind = match name.get(..2) {
                Some("s_") => Kind::Procedure,
                Some("y_") => Kind::Drug,
                Some("b_") => Kind::Disease,
                Some("z_") => Kind::Modifier,
                Some("t_") => Kind::Device,
                _ => continue,
            };
            let bytes = fs::read(&path).map_err(|source| MasterError::Io {
                file: name.to_owned(),
                source,
            })?;
            masters.add_csv(name, kind, &bytes)?;
        }
        Ok(masters)
    }

    /// The 診療行為 name (省略名称) of a 9-digit procedure code.
    pub fn procedure_name(&self, code: &str) -> Option<&str> {
        self.procedures.get(code).map(String::as_str)
    }

    /// The 医薬品 name of a 9-digit drug code.
    pub fn drug_name(&self, code: &str) -> Option<&str> {
        self.drugs.get(code).map(String::as_str)
    }

    /// The 傷病名 entry of a 7-digit disease code.
    pub fn disease(&self, code: &str) -> Option<&DiseaseEntry> {
        self.diseases.get(code)
    }

    /// The 修飾語 name of a 4-digit modifier code.
    pub fn modifier_name(&self, code: &str) -> Option<&str> {
        self.modifiers.get(code).map(String::as_str)
    }

    /// The 特定器材 name of a 9-digit device code.
    pub fn device_name(&self, code: &str) -> Option<&str> {
        self.devices.get(code).map(String::as_str)
    }

    /// Number of entries per kind: procedures, drugs, diseases, modifiers, devices.
    pub fn counts(&self) -> [usize; 5] {
        [
            self.procedures.len(),
            self.drugs.len(),
            self.diseases.len(),
            self.modifiers.len(),
            self.devices.len(),
        ]
    }

    fn add_csv(&mut self, file: &str, kind: Kind, bytes: &[u8]) -> Result<(), MasterError> {
        let text = SHIFT_JIS
            .decode_without_bom_handling_and_without_replacement(bytes)
            .ok_or_else(|| MasterError::InvalidEncoding {
                file: file.to_owned(),
            })?;
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        for (idx, row) in rdr.records().enumerate() {
            let row = row.map_err(|_| MasterError::InvalidCsv {
                file: file.to_owned(),
                line: idx as u64 + 1,
            })?;
            let field = |i: usize| row.get(i).map(str::trim).filter(|s| !s.is_empty());
            let Some(code) = field(2) else { continue };
            let code = code.to_owned();
            match kind {
                Kind::Procedure => insert(&mut self.procedures, code, field(4)),
                Kind::Drug => insert(&mut self.drugs, code, field(4)),
                Kind::Device => insert(&mut self.devices, code, field(4)),
                Kind::Modifier => insert(&mut self.modifiers, code, field(6)),
                Kind::Disease => {
                    let name = field(5).unwrap_or_default().to_owned();
                    let icd10 = field(15).or_else(|| field(13)).map(str::to_owned);
                    self.diseases.insert(code, DiseaseEntry { name, icd10 });
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Procedure,
    Drug,
    Disease,
    Modifier,
    Device,
}

fn insert(map: &mut HashMap<String, String>, code: String, name: Option<&str>) {
    map.insert(code, name.unwrap_or_default().to_owned());
}
