#!/usr/bin/env python3
"""Regenerate data/municipality_mergers.csv: former municipality code -> current code.

Source: PyPI pygeonlp==1.2.5 (BSD-2-Clause), file base_data/geoshape-city.csv, the GeoNLP
dictionary 「歴史的行政区域データセットβ版地名辞書」 of ROIS-DS CODH (CC BY 4.0): every
municipality that appears in 国土数値情報「行政区域データ」 1920-2020, with its code, the dates it
was valid (valid_from / valid_to) and, in `source`, the representative point it was placed at:
`kind/facility/address/source-file`, where the address of a point from 国土数値情報 P34
(市区町村役場等, 2014) is written from the municipality name on, in today's terms
("常陸大宮市野口3195" for the former 御前山村's branch office).

Rules (nothing is guessed; a row that no rule settles is left out and printed):
  * Only entries with a code of their own (entry_id `NNNNNA<year>`, i.e. listed in the JIS
    municipality code table since 1968) whose 6-digit code (check digit added) is not a code in
    data/municipalities.csv today.
  * rule `successor` (tried first): an entry of the same prefecture with the same body name
    (町→市 promotions, a city becoming a designated city) whose validity starts on the day the
    old one ended and whose code is current: the same body under a new code, whole area.
    `successor+office` when the office rule below lands in the same city; when the two land in
    different cities the office rule wins (a body name can be shared by chance).
  * rule `office`: if the point's source is P34 and its address starts with the name of a current
    municipality of the same prefecture in data/municipalities.csv, or with the name a current
    code had in 2014 (篠山市, now 丹波篠山市) (longest name wins, so a ward of a designated city
    beats the city). P05 (public facilities) addresses carry no municipality
    name and are not used.
  * one row per old code: the code's last period of validity.

Usage:
  python3 scripts/refdata/mergers.py             # pip download pygeonlp==1.2.5 into a temp dir
  python3 scripts/refdata/mergers.py --from DIR  # DIR holds pygeonlp-1.2.5.tar.gz

pygeonlp is published as an sdist only, and pip builds its metadata even for `pip download`,
which needs the Boost headers and libraries: `apt-get install libboost-regex-dev
libboost-filesystem-dev libboost-system-dev` first (or use --from with the tarball).
"""
import csv
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import defaultdict

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(ROOT, "data")
PKG, VER = "pygeonlp", "1.2.5"
TARBALL = f"pygeonlp-{VER}.tar.gz"
MEMBER = f"pygeonlp-{VER}/base_data/geoshape-city.csv"


def check_digit(c5):
    s = sum(int(d) * w for d, w in zip(c5, (6, 5, 4, 3, 2)))
    return c5 + str((11 - s % 11) % 10)


def main():
    src = None
    if len(sys.argv) == 3 and sys.argv[1] == "--from":
        src = sys.argv[2]
    elif len(sys.argv) != 1:
        sys.exit(__doc__)
    tmp = src or tempfile.mkdtemp(prefix="refdata-")
    try:
        if not src:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp,
                            f"{PKG}=={VER}"], check=True)
        with tarfile.open(os.path.join(tmp, TARBALL)) as t:
            text = t.extractfile(MEMBER).read().decode("utf-8")
    finally:
        if not src:
            shutil.rmtree(tmp, ignore_errors=True)
    rows = list(csv.DictReader(io.StringIO(text)))

    with open(os.path.join(DATA, "municipalities.csv"), encoding="utf-8") as f:
        mun = {r["code"]: r for r in csv.DictReader(f)}
    by_pref = defaultdict(list)
    for code, r in mun.items():
        by_pref[code[:2]].append((r["name"], code))
    cities = {(r["prefecture_code"], r["name"]): c for c, r in mun.items()
              if r["kind"] == "designated_city"}

    def city_of(code):
        r = mun[code]
        if r["kind"] != "ward":
            return code
        for (pref, name), c in cities.items():
            if pref == code[:2] and r["name"].startswith(name):
                return c
        raise AssertionError(code)

    def current(r):
        return [check_digit(c) for c in r["code"].split("/") if re.fullmatch(r"\d{5}", c)
                and check_digit(c) in mun]

    def name_of(r):
        n = r["body"] + r["suffix"]
        if r["suffix"] == "区" and r["countyname"].endswith("市"):
            n = r["countyname"] + n
        return n

    # Names a current code had when the P34 office addresses were written (2014): 篠山市 is
    # 丹波篠山市 since 2019 under the same code.
    names = {n for n, _ in (x for v in by_pref.values() for x in v)}
    for r in rows:
        if not r["valid_to"] or r["valid_to"] < "2014-04-01":
            continue
        for code in current(r):
            if name_of(r) not in names:
                by_pref[code[:2]].append((name_of(r), code))
                names.add(name_of(r))
                print(f"former name of a current code used for office addresses: {name_of(r)} -> {code} {mun[code]['name']}")

    by_body = defaultdict(list)
    for r in rows:
        by_body[(r["entry_id"][:2], r["body"])].append(r)

    out, unmapped = {}, []
    for r in rows:
        m = re.fullmatch(r"(\d{5})A\d{4}", r["entry_id"])
        if not m:
            continue
        old = check_digit(m.group(1))
        if old in mun or r["ne_class"].endswith("特別区部"):  # 13100 東京都特別区部 is no municipality
            continue
        if not r["valid_to"] and r["valid_from"] and not r["source"]:
            continue
        parts = r["source"].split("/")
        new, rule = None, None
        if r["valid_to"]:
            succ = {c for s in by_body[(old[:2], r["body"])]
                    if s["valid_from"] == r["valid_to"] for c in current(s)}
            if len(succ) == 1:
                new, rule = succ.pop(), "successor"
        office = None
        if len(parts) > 3 and parts[3].startswith("P34"):
            best = None
            for name, code in by_pref[old[:2]]:
                if parts[2].startswith(name) and (best is None or len(name) > len(best[0])):
                    best = (name, code)
            if best:
                office = best[1]
        if new and office:
            if city_of(office) == city_of(new):
                rule = "successor+office"
            else:
                # A body name shared by chance (徳島県三好町 went to 東みよし町 on the day 三好市
                # was formed): the office point decides.
                print(f"rules disagree for {old} {name_of(r)}: successor {new}, office {office}; "
                      "office kept")
                new, rule = office, "office"
        elif office:
            new, rule = office, "office"
        if not new:
            unmapped.append(f"{old} {r['prefname']} {name_of(r)} {r['valid_from']}..{r['valid_to']}"
                            f" [{r['source'][:60]}]")
            continue
        prev = out.get(old)
        if prev and prev[2] >= r["valid_to"]:
            continue
        out[old] = [old, name_of(r), r["valid_to"], new, mun[new]["name"], city_of(new), rule]

    rows_out = sorted(out.values())
    with open(os.path.join(DATA, "municipality_mergers.csv"), "w", encoding="utf-8",
              newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["old_code", "old_name", "date", "new_code", "new_name", "new_city_code", "rule"])
        w.writerows(rows_out)
    rules = defaultdict(int)
    for r in rows_out:
        rules[r[6]] += 1
    print(f"municipality_mergers.csv: {len(rows_out)} rows ({dict(rules)})")
    mapped = set(out)
    left = [u for u in unmapped if u.split()[0] not in mapped]
    print(f"left out, no rule settles them ({len({u.split()[0] for u in left})} codes):")
    for u in left:
        print("  " + u)


if __name__ == "__main__":
    main()
