// Produces the better-auth vectors in t/unit/password.c and t/unit/crypto.c,
// and checks hashes made by shush against better-auth. Not run by the tests.
//
//   cd t/peers && npm ci
//   node vectors/password.mjs                   print fresh vectors
//   node vectors/password.mjs check <pw> <hash> does better-auth accept it?
//
// The hashes are salted, so fresh vectors differ from the ones in the tests;
// any of them must verify.
import { hashPassword, verifyPassword } from "better-auth/crypto";
import { serializeSignedCookie } from "better-call";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";

const version = JSON.parse(
	readFileSync(new URL("../node_modules/better-auth/package.json", import.meta.url)),
).version;

if (process.argv[2] === "check") {
	const [password, hash] = process.argv.slice(3);
	const ok = await verifyPassword({ hash, password });
	console.log(ok ? "accepted" : "rejected", `by better-auth ${version}`);
	process.exit(ok ? 0 : 1);
}

console.log(`# better-auth ${version}, node ${process.version}`);
const passwords = [
	"correct horse battery staple",
	"ｐａｓｓｗｏｒｄ１２３", // full-width: NFKC gives "password123"
	"pässwörd ﬁ Å",
	"x".repeat(128),
];
for (const p of passwords) {
	const hash = await hashPassword(p);
	if (!(await verifyPassword({ hash, password: p }))) throw new Error("round trip failed");
	console.log(JSON.stringify(p), hash);
}

const token = "AbCdEfGhIjKlMnOpQrStUvWxYz012345";
for (const secret of ["better-auth-secret-0123456789abcdefghij", "sécret✓"]) {
	const sig = createHmac("sha256", Buffer.from(secret, "utf8")).update(token).digest("base64");
	const cookie = await serializeSignedCookie("better-auth.session_token", token, secret);
	const signed = cookie.split(";")[0].split("=").slice(1).join("=");
	if (signed !== encodeURIComponent(`${token}.${sig}`)) throw new Error("signature mismatch");
	console.log(JSON.stringify(secret), token, sig, signed);
}
