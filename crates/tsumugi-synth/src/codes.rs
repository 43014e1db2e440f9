//! Clinical code tables used by the generator. Sources are listed in `data/README.md`.

/// A 特定健診 / JLAC10 item: code, unit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Item {
    pub code: &'static str,
    pub unit: &'static str,
}

/// BMI.
pub(crate) const BMI: Item = Item {
    code: "9N011000000000001",
    unit: "kg/m2",
};
/// 収縮期血圧 (その他).
pub(crate) const SBP: Item = Item {
    code: "9A755000000000001",
    unit: "mmHg",
};
/// 拡張期血圧 (その他).
pub(crate) const DBP: Item = Item {
    code: "9A765000000000001",
    unit: "mmHg",
};
/// HbA1c (NGSP, 免疫学的方法).
pub(crate) const HBA1C: Item = Item {
    code: "3D046000001906202",
    unit: "%",
};
/// LDL コレステロール (可視吸光光度法).
pub(crate) const LDL: Item = Item {
    code: "3F077000002327101",
    unit: "mg/dL",
};
/// HDL コレステロール (可視吸光光度法).
pub(crate) const HDL: Item = Item {
    code: "3F070000002327101",
    unit: "mg/dL",
};
/// 中性脂肪 (可視吸光光度法).
pub(crate) const TG: Item = Item {
    code: "3F015000002327101",
    unit: "mg/dL",
};
/// AST (GOT, 紫外吸光光度法).
pub(crate) const AST: Item = Item {
    code: "3B035000002327201",
    unit: "U/L",
};
/// ALT (GPT, 紫外吸光光度法).
pub(crate) const ALT: Item = Item {
    code: "3B045000002327201",
    unit: "U/L",
};
/// γ-GT (可視吸光光度法).
pub(crate) const GGT: Item = Item {
    code: "3B090000002327101",
    unit: "U/L",
};

/// A chronic or acute condition the generator knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Condition {
    Hypertension,
    Diabetes,
    Dyslipidaemia,
    StomachCancer,
    ColonCancer,
    LungCancer,
    BreastCancer,
    ProstateCancer,
    Dementia,
    Als,
    Gaucher,
    Haemophilia,
    Asthma,
}

impl Condition {
    /// ICD-10 code as written in claims.
    pub(crate) fn icd10(self) -> &'static str {
        match self {
            Condition::Hypertension => "I10",
            Condition::Diabetes => "E11",
            Condition::Dyslipidaemia => "E78.5",
            Condition::StomachCancer => "C16",
            Condition::ColonCancer => "C18",
            Condition::LungCancer => "C34",
            Condition::BreastCancer => "C50",
            Condition::ProstateCancer => "C61",
            Condition::Dementia => "F00",
            Condition::Als => "G12.2",
            Condition::Gaucher => "E75.2",
            Condition::Haemophilia => "D66",
            Condition::Asthma => "J45.9",
        }
    }

    /// Treated at a hospital (rather than a clinic).
    pub(crate) fn hospital(self) -> bool {
        matches!(
            self,
            Condition::StomachCancer
                | Condition::ColonCancer
                | Condition::LungCancer
                | Condition::BreastCancer
                | Condition::ProstateCancer
                | Condition::Als
                | Condition::Gaucher
                | Condition::Haemophilia
        )
    }

    /// Cancers get an admission at diagnosis.
    pub(crate) fn cancer(self) -> bool {
        matches!(
            self,
            Condition::StomachCancer
                | Condition::ColonCancer
                | Condition::LungCancer
                | Condition::BreastCancer
                | Condition::ProstateCancer
        )
    }

    /// YJ codes prescribed for the condition (first is the usual one).
    pub(crate) fn drugs(self) -> &'static [&'static str] {
        match self {
            // アムロジピン (ノルバスク錠2.5mg), カンデサルタン.
            Condition::Hypertension => &["2171022F1029", "2149040F1093"],
            // メトホルミン, インスリン グラルギン (ランタス).
            Condition::Diabetes => &["3962002F1110", "2492416G2024"],
            // アトルバスタチン, ロスバスタチン.
            Condition::Dyslipidaemia => &["2189015F1082", "2189017F1154"],
            // ドネペジル.
            Condition::Dementia => &["1190012F1042"],
            _ => &[],
        }
    }
}

/// The レセプト電算 医薬品コード of a YJ code above, where verified: the receipt master fixture
/// (`y_ALL00000000.csv`, which gives each drug's YJ code in its 32nd column) holds only
/// ガスター散2%. Pharmacies' dispensings of the other drugs keep their YJ code, which a 調剤
/// UKE claim cannot carry (they go to the pharmacy's FHIR file, like clinics' YJ prescriptions).
pub(crate) fn receipt_drug(yj: &str) -> Option<&'static str> {
    match yj {
        "2325003B2029" => Some("610406079"),
        _ => None,
    }
}

/// Acute episodes seen at clinics: ICD-10 and an optional YJ code.
pub(crate) const ACUTE: [(&str, Option<&str>, f64); 5] = [
    ("J06.9", None, 5.0),                 // 急性上気道炎
    ("K29.7", Some("2325003B2029"), 2.0), // 胃炎 → ファモチジン (ガスター散2%)
    ("A09", None, 1.5),                   // 感染性胃腸炎
    ("M54.5", None, 1.5),                 // 腰痛症
    ("H10.9", None, 0.8),                 // 結膜炎
];

/// レセプト電算 診療行為コード (verified in the receipt master fixture).
pub(crate) mod procedure {
    /// 初診料.
    pub(crate) const FIRST_VISIT: &str = "111000110";
    /// 処方箋料.
    pub(crate) const PRESCRIPTION_FEE: &str = "120002910";
    /// 単純撮影 (イ) の写真診断.
    pub(crate) const XRAY: &str = "170000410";
}

/// 介護サービスコード (6 digits; illustrative, see data/README.md) with typical monthly units.
pub(crate) const CARE_SERVICES: [(&str, f64); 4] = [
    ("111111", 2500.0), // 訪問介護 身体介護
    ("151111", 6000.0), // 通所介護
    ("131111", 3000.0), // 訪問看護
    ("211111", 8000.0), // 短期入所生活介護
];

/// 要介護状態区分 codes by severity.
pub(crate) const CARE_LEVELS: [&str; 7] = ["S1", "S2", "K1", "K2", "K3", "K4", "K5"];

/// Code system of the 乳幼児健診 items, as the `nyuyouji_kenshin` mapping names it.
pub(crate) const INFANT_ITEM_SYSTEM: &str = "infant_checkup_item";
/// 乳幼児健診 身長 (cm), the mapping's fixed code.
pub(crate) const INFANT_HEIGHT: &str = "body_height";
/// 乳幼児健診 体重 (kg), the mapping's fixed code.
pub(crate) const INFANT_WEIGHT: &str = "body_weight";

/// Code system of the 妊婦健診 items, as the `ninpu_kenshin` mapping names it (the
/// municipality's own item codes).
pub(crate) const NINPU_ITEM_SYSTEM: &str = "ninpu_kenshin_item";
/// 妊婦健診 item: 妊娠週数 (weeks), an illustrative municipal item code.
pub(crate) const NINPU_GESTATION_WEEKS: &str = "GW";

/// Routine infant vaccinations (定期接種) by illustrative municipal ワクチンコード, with the age in
/// months of each dose (the standard schedule: 五種混合 2, 3, 4 months and a booster at 12; BCG
/// at 5; MR at 12 months and in the year before school).
pub(crate) const INFANT_VACCINES: [(&str, &[u32]); 3] = [
    ("DPT-IPV-HIB", &[2, 3, 4, 12]),
    ("BCG", &[5]),
    ("MR", &[12, 66]),
];
/// 高齢者肺炎球菌 (PPSV23), offered once at 65.
pub(crate) const PPSV23: &str = "PPSV23";
