// Peer test: shush's dotenv export (lib/dotenv.c) read by the npm `dotenv`
// package (18.0.10, its default parse), API.md §5: every value that package
// can represent comes back exactly; a value it cannot represent never changes
// how it reads any other line; and shush's own import reads every value back.
// Needs no stack: the writer and parser are reached through the unit test
// binary's filter modes, $SHUSH_BIN_DIR/t/unit/dotenv (default build/san).
// Prints TAP.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import dotenv from "dotenv";
import { tap, show } from "./lib.mjs";

const t = tap();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const binDir = process.env.SHUSH_BIN_DIR || "build/san";
const bin = [path.resolve(binDir, "t/unit/dotenv"), path.resolve(root, binDir, "t/unit/dotenv")]
  .find((p) => existsSync(p));
if (!bin) {
  t.ok(false, `${binDir}/t/unit/dotenv exists (make units, or SHUSH_BIN_DIR)`);
  process.exit(t.done());
}

const run = (mode, input) => execFileSync(bin, [mode], { input, maxBuffer: 1 << 28 });
const writeDotenv = (obj) => run("--write-dotenv", JSON.stringify(obj));
const ourParse = (text) => JSON.parse(run("--parse", text).toString("utf8"));

// What the npm package can represent at all, whatever the writer does:
// unquoted (one line, no '#', nothing its trim() would drop, no opening
// quote), '…' (no ', no CR: it turns CR into LF), `…` (likewise), or "…"
// (no ", and no backslash it would read as \n, \r or an escaped quote).
function npmCan(v) {
  const bare = v.length > 0 && !/[\n\r#\u2028\u2029]/.test(v) && !/^['"`]/.test(v) && v.trim() === v;
  const single = !/['\r]/.test(v);
  const back = !/[`\r]/.test(v);
  const double = !v.includes('"') && !/\\(?:[nrt"\\$\n\r]|$)/.test(v);
  return bare || single || back || double;
}

function whyNot(v) {
  if (/\r/.test(v)) return "a CR, with a \" or a backslash escape (only \"…\" can carry a CR)";
  if (/\n/.test(v)) return "', \", ` and a newline";
  return "', \", ` and a '#', surrounding space or an opening quote";
}

// --- values -----------------------------------------------------------------
// mulberry32, fixed seed: the same values on every run.
let seed = 0x5eed1234;
function rnd(n) {
  seed = (seed + 0x6d2b79f5) | 0;
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
  return ((x ^ (x >>> 14)) >>> 0) % n;
}

const BITS = ["'", '"', "`", "\\", "\n", "\r", "\r\n", "#", " #", "$", "${X}", "$(touch x)", "=",
  " ", "\t", "\\n", "\\r", "\\t", '\\"', "\\'", "'\\''", "export ", "B=1", "\nB=2\n", "\n#",
  "\nINJECTED=1\n", "\nexport INJECTED=1\n", "\n INJECTED='x'\n", "!", ";", "&", "|", "(", ")",
  "{", "}", "\u00a0", "\u2028", "\u2029", "\ufeff", "\u00e9", "\u{1f511}", "\u007f", "\u0001",
  "\v", "\f"];

function randomValue() {
  const n = rnd(8) === 0 ? rnd(300) : rnd(24);
  let s = "";
  while (s.length < n) {
    const k = rnd(100);
    if (k < 45) s += BITS[rnd(BITS.length)];
    else if (k < 80) s += String.fromCharCode(0x20 + rnd(0x5f));
    else if (k < 85) s += String.fromCharCode(1 + rnd(0x1f));
    else if (k < 92) s += String.fromCodePoint(0x80 + rnd(0x800 - 0x80));
    else if (k < 97) {
      let u;
      do u = 0x800 + rnd(0x10000 - 0x800); while (u >= 0xd800 && u <= 0xdfff);
      s += String.fromCodePoint(u);
    } else s += String.fromCodePoint(0x10000 + rnd(0x110000 - 0x10000));
  }
  return s;
}

const TRICKY = ["", "plain", "two words", "  lead and trail  ", "\t", " ", "'", '"', "`", "'\"`",
  "'\\''", "it's", 'say "hi"', "`uname`", "$(touch /tmp/x)", "${HOME}", "$HOME", "\\", "a\\",
  "C:\\dir\\", "\\n", "\\\\n", 'a\\nb\\rc\\td\\"e\\\\f\\$g', "line1\nline2", "trailing newline\n",
  "\n", "\n\n\n", "\r\n", "cr\ronly", "-n", "# not a comment", "a #b", "a#b", "=", "a=b=c",
  "x \\", "emoji \u{1f511}", "caf\u00e9", "\u2028sep\u2029", "\u00a0nbsp\u00a0", "\ufeffbom",
  "'\"`\nall three and a newline", "'\"` # all three, hash", "'\"`\\", "\"'`\r\n\\",
  "multi\nline 'single'\nand \"double\"\n", "export B=1", "x\nB=injected\n", "'\nB=injected\n'",
  '"\nB=injected\n"', "`\nB=injected\n`", "\\'\nB=2\n'", "a\\\nB='\n", "#\\", "'\n", "\"\n",
  "`\n", "\n'", "\n\"", "\n`", "'\"`\n#\\", "\nINJECTED='x'\n'\"`\\", "tab\there"];

// --- 1. random and tricky values in one file ---------------------------------
function check(obj, label) {
  const text = writeDotenv(obj);
  const npm = dotenv.parse(text);
  const keys = Object.keys(obj).sort();
  const extra = Object.keys(npm).filter((k) => !Object.hasOwn(obj, k));
  t.ok(extra.length === 0, `${label}: the package reads no key we did not write`, extra);
  const missing = keys.filter((k) => !Object.hasOwn(npm, k));
  t.ok(missing.length === 0, `${label}: the package reads every key we wrote`, missing);
  const wrong = [];
  const cannot = [];
  for (const k of keys) {
    if (!npmCan(obj[k])) cannot.push(k);
    else if (npm[k] !== obj[k]) wrong.push({ key: k, want: obj[k], got: npm[k] });
  }
  t.ok(wrong.length === 0, `${label}: ${keys.length - cannot.length} representable values read back exactly`,
    wrong.slice(0, 5).map((w) => ({ ...w, line: lineOf(text.toString("utf8"), w.key) })));
  // the package's optional fast parser ({fast: true}) reads it alike
  const fast = dotenv.parse(text, { fast: true });
  const fastWrong = Object.keys(fast).filter((k) => !Object.hasOwn(obj, k))
    .concat(keys.filter((k) => !Object.hasOwn(fast, k) || (npmCan(obj[k]) && fast[k] !== obj[k])));
  t.ok(fastWrong.length === 0, `${label}: the package's fast parser reads the same`,
    fastWrong.slice(0, 5).map((k) => ({ key: k, want: obj[k], got: fast[k] })));
  const ours = ourParse(text);
  const ourWrong = keys.filter((k) => ours[k] !== obj[k]);
  t.ok(ourWrong.length === 0 && Object.keys(ours).length === keys.length,
    `${label}: shush's import reads all ${keys.length} back exactly`, ourWrong.slice(0, 5));
  return { text, npm, cannot };
}

function lineOf(text, key) {
  const i = text.indexOf(`\n${key}=`);
  return text.slice(i + 1, text.indexOf("\n", i + 1 + key.length + 1) + 60);
}

const all = {};
TRICKY.forEach((v, i) => { all[`T${String(i).padStart(3, "0")}`] = v; });
for (let i = 0; i < 3000; i++) all[`R${String(i).padStart(4, "0")}`] = randomValue();
const res = check(all, `${Object.keys(all).length} values in one file`);

const reasons = {};
for (const k of res.cannot) reasons[whyNot(all[k])] = (reasons[whyNot(all[k])] || 0) + 1;
t.diag(`the package cannot represent ${res.cannot.length} of ${Object.keys(all).length} values:`);
for (const [why, n] of Object.entries(reasons)) t.diag(`  ${n}: ${why}`);
const tricky = res.cannot.filter((k) => k.startsWith("T")).map((k) => show(all[k]));
t.diag(`  of the fixed ones: ${tricky.join(" ")}`);

// --- 2. every value alone ------------------------------------------------------
{
  const wrong = [];
  for (const [k, v] of Object.entries(all).slice(0, 200)) {
    const text = writeDotenv({ [k]: v });
    const npm = dotenv.parse(text);
    if (Object.keys(npm).length !== 1 || (npmCan(v) && npm[k] !== v)) wrong.push({ k, v, npm });
  }
  t.ok(wrong.length === 0, "200 values, each alone in a file, read back by the package", wrong.slice(0, 5));
}

// --- 3. each unrepresentable or tricky value between dangerous neighbours ------
{
  const neighbours = TRICKY.filter((v) => npmCan(v) && /[\n'"`\\]/.test(v));
  const middles = [...TRICKY, ...res.cannot.map((k) => all[k])];
  const obj = {};
  let n = 0;
  for (const m of middles) {
    const a = neighbours[n % neighbours.length];
    const c = neighbours[(n * 7 + 3) % neighbours.length];
    obj[`N${n}_A`] = a;
    obj[`N${n}_B`] = m;
    obj[`N${n}_C`] = c;
    n++;
  }
  check(obj, `${n} values between neighbours that quote across lines`);
}

// --- 4. the grammar both read alike ------------------------------------------
{
  const sample = [
    "# a comment",
    "export A=1",
    "B = two words   # a comment",
    "C='single # not a comment'",
    'D="double\\nnewline"',
    "E=`back 'q' \"d\"`",
    "F=",
    "G='multi",
    "line'",
    'H="x"  # c',
    "I=caf\u00e9",
    "",
    "J='$NOT expanded'",
  ].join("\n") + "\n";
  for (const [name, text] of [["LF", sample], ["CRLF", sample.replace(/\n/g, "\r\n")]]) {
    const npm = dotenv.parse(Buffer.from(text));
    const ours = ourParse(text);
    t.ok(JSON.stringify(Object.entries(npm).sort()) === JSON.stringify(Object.entries(ours).sort()),
      `a hand-written file (${name}): shush's import reads what the package reads`, { npm, ours });
  }
}

process.exit(t.done());
