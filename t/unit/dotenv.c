/*
 * Unit tests of lib/dotenv.c: the grammar, its errors and limits, the three
 * writers, round trips of generated values, and sourcing the shell format
 * in sh and bash.
 *
 * Run with an argument it is a small filter for the peer test
 * (t/peers/dotenv.mjs) instead:
 *   --write-dotenv | --write-shell | --write-json
 *                    a JSON object {"KEY":"value",...} on stdin -> the format
 *   --parse          a dotenv file on stdin -> the JSON object (keys sorted);
 *                    exit 1 with "line N: why" on stderr when malformed
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../../lib/shush.h"
#include "tap.h"

/* ------------------------------------------------------------- helpers */

/* "KEY@LINE=<json value> ..." in file order, or "!LINE why". */
static const char *
parsed(struct arena *a, const char *text, size_t n)
{
	struct dotenv_pair *pairs = (struct dotenv_pair *)"x";
	size_t count = 99, i;
	int line = -5;
	const char *why = NULL;
	struct buf b;

	buf_init(&b, a);
	if (dotenv_parse(a, text, n, &pairs, &count, &line, &why) != 0) {
		if (pairs != NULL || count != 0 || why == NULL)
			return "(error returned pairs or no reason)";
		buf_printf(&b, "!%d %s", line, why);
		return b.data;
	}
	for (i = 0; i < count; i++) {
		if (pairs[i].value_len != strlen(pairs[i].value))
			return "(value_len is wrong)";
		buf_printf(&b, "%s%s@%d=", i ? " " : "", pairs[i].key, pairs[i].line);
		buf_json_string(&b, pairs[i].value, pairs[i].value_len);
	}
	return b.data;
}

static const char *
P(struct arena *a, const char *text)
{
	return parsed(a, text, strlen(text));
}

static const char *
written(struct arena *a, int (*fn)(struct buf *, const struct dotenv_pair *, size_t),
	const struct dotenv_pair *pairs, size_t count)
{
	struct buf b;

	buf_init(&b, a);
	if (fn(&b, pairs, count) != 0)
		return b.len == 0 ? "(-1)" : "(-1 with output)";
	return b.data;
}

/* xorshift64*, a fixed seed: the same values on every run. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ull) >> 33) % n;
}

static void
put_cp(struct buf *b, uint32_t u)
{
	char s[4];

	if (u < 0x80) {
		buf_putc(b, (char)u);
	} else if (u < 0x800) {
		s[0] = (char)(0xc0 | (u >> 6));
		s[1] = (char)(0x80 | (u & 63));
		buf_append(b, s, 2);
	} else if (u < 0x10000) {
		s[0] = (char)(0xe0 | (u >> 12));
		s[1] = (char)(0x80 | ((u >> 6) & 63));
		s[2] = (char)(0x80 | (u & 63));
		buf_append(b, s, 3);
	} else {
		s[0] = (char)(0xf0 | (u >> 18));
		s[1] = (char)(0x80 | ((u >> 12) & 63));
		s[2] = (char)(0x80 | ((u >> 6) & 63));
		s[3] = (char)(0x80 | (u & 63));
		buf_append(b, s, 4);
	}
}

/* A random value: valid UTF-8 without NUL, heavy on what quoting fears. */
static const char *
random_value(struct arena *a, size_t *len)
{
	static const char *const bits[] = {
		"'", "\"", "`", "\\", "\n", "\r", "\r\n", "#", " #", "$", "${X}", "$(touch x)", "=",
		" ", "\t", "\\n", "\\r", "\\t", "\\\"", "\\'", "'\\''", "export ", "B=1", "\nB=2\n",
		"\n#", "!", "*", ";", "&", "|", "<", ">", "(", ")", "{", "}", "~", "-", "%", "\xc2\xa0",
		"\xe2\x80\xa8", "\xe2\x80\xa9", "\xef\xbb\xbf", "\xc3\xa9", "\xf0\x9f\x94\x91", "\x7f",
		"\x01", "\v", "\f",
	};
	size_t n = rnd(8) == 0 ? rnd(300) : rnd(24);
	struct buf b;

	buf_init(&b, a);
	while (b.len < n) {
		uint32_t k = rnd(100);

		if (k < 45) {
			buf_puts(&b, bits[rnd(sizeof(bits) / sizeof(bits[0]))]);
		} else if (k < 80) {
			buf_putc(&b, (char)(0x20 + rnd(0x5f)));
		} else if (k < 85) {
			buf_putc(&b, (char)(1 + rnd(0x1f)));
		} else if (k < 92) {
			put_cp(&b, 0x80 + rnd(0x800 - 0x80));
		} else if (k < 97) {
			uint32_t u;

			do
				u = 0x800 + rnd(0x10000 - 0x800);
			while (u >= 0xd800 && u <= 0xdfff);
			put_cp(&b, u);
		} else {
			put_cp(&b, 0x10000 + rnd(0x110000 - 0x10000));
		}
	}
	*len = b.len;
	return b.data;
}

static int
same_value(const struct dotenv_pair *p, const char *v, size_t n)
{
	return p->value_len == n && memcmp(p->value, v, n) == 0 && p->value[n] == '\0';
}

/* The tricky values every format is tried with. */
static const char *const tricky[] = {
	"", "plain", "two words", "  lead and trail  ", "\t", " ", "'", "\"", "`", "'\"`",
	"'\\''", "it's", "say \"hi\"", "`uname`", "$(touch /tmp/x)", "${HOME}", "$HOME", "\\",
	"a\\", "C:\\dir\\", "\\n", "\\\\n", "a\\nb\\rc\\td\\\"e\\\\f\\$g", "line1\nline2",
	"trailing newline\n", "\n", "\n\n\n", "\r\n", "cr\ronly", "-n", "--help", "-e \\t",
	"# not a comment", "a #b", "a#b", "=", "==", "a=b=c", "x \\", "emoji \xf0\x9f\x94\x91",
	"caf\xc3\xa9", "\xe2\x80\xa8sep\xe2\x80\xa9", "\xc2\xa0nbsp\xc2\xa0", "\xef\xbb\xbf" "bom",
	"'\"`\nall three and a newline", "'\"` # all three, hash", "'\"`\\", "\"'`\r\n\\",
	"multi\nline 'single'\nand \"double\"\n", "export B=1", "x\nB=injected\n",
	"'\nB=injected\n'", "\"\nB=injected\n\"", "`\nB=injected\n`", "\\'\nB=2\n'", "a\\\nB='\n",
	"%s%n", "tab\there", "ctl\x01\x1f\x7f", "* ? [a] ~ ! & ; | < >",
};
#define NTRICKY (sizeof(tricky) / sizeof(tricky[0]))

/* ------------------------------------------------------------- grammar */

static void
test_grammar(struct arena *a)
{
	static const struct {
		const char *in, *want, *name;
	} cases[] = {
		{"", "", "empty file"},
		{"A=1", "A@1=\"1\"", "no final newline"},
		{"A=1\nB=2\n", "A@1=\"1\" B@2=\"2\"", "two lines"},
		{"export A=1\n", "A@1=\"1\"", "export prefix"},
		{"export \t A=1\n", "A@1=\"1\"", "export, spaces and a tab"},
		{"  export A=1\n", "A@1=\"1\"", "indented export"},
		{"export=1\n", "export@1=\"1\"", "a key named export"},
		{"export = 1\n", "export@1=\"1\"", "a key named export, spaces"},
		{"exportA=1\n", "exportA@1=\"1\"", "a key starting with export"},
		{"# c\n\n   \n\t\n  # c2\nA=1\n#\n", "A@6=\"1\"", "comments and blank lines"},
		{"A=1\r\nB=2\r\n\r\n# c\r\nC='x'\r\n", "A@1=\"1\" B@2=\"2\" C@5=\"x\"", "CRLF"},
		{"A = 1\n", "A@1=\"1\"", "spaces around ="},
		{"A\t=\t1\t\n", "A@1=\"1\"", "tabs around ="},
		{"A=  x y  \n", "A@1=\"x y\"", "unquoted trimmed"},
		{"A=x # c\n", "A@1=\"x\"", "comment after an unquoted value"},
		{"A=x\t# c\n", "A@1=\"x\"", "tab before a comment"},
		{"A=x#c\n", "A@1=\"x#c\"", "# inside an unquoted value"},
		{"A=#c\n", "A@1=\"\"", "# starting the value is a comment"},
		{"A= # c\n", "A@1=\"\"", "spaces, then a comment"},
		{"A=\n", "A@1=\"\"", "empty value"},
		{"A=\nB=2\n", "A@1=\"\" B@2=\"2\"", "empty value, next line untouched"},
		{"A=   \n", "A@1=\"\"", "spaces only"},
		{"A=''\nB=\"\"\nC=``\n", "A@1=\"\" B@2=\"\" C@3=\"\"", "empty quotes"},
		{"A=x'y\"z`\n", "A@1=\"x'y\\\"z`\"", "quotes inside an unquoted value"},
		{"A=a\\nb\n", "A@1=\"a\\\\nb\"", "no escapes unquoted"},
		{"A='a\\nb $X \"q\" `c` #h'\n", "A@1=\"a\\\\nb $X \\\"q\\\" `c` #h\"", "single quotes are literal"},
		{"A='l1\nl2\n'\nB=2\n", "A@1=\"l1\\nl2\\n\" B@4=\"2\"", "single quotes span lines"},
		{"A='l1\r\nl2'\r\n", "A@1=\"l1\\nl2\"", "CRLF inside quotes reads as LF"},
		{"A='x\ry'\n", "A@1=\"x\\ry\"", "a lone CR inside quotes is kept"},
		{"A='x' # c\n", "A@1=\"x\"", "comment after single quotes"},
		{"A='x'#c\n", "A@1=\"x\"", "comment right after the quote"},
		{"A='  x  '  \n", "A@1=\"  x  \"", "spaces inside quotes kept"},
		{"A=\"a\\nb\\rc\\td\\\"e\\\\f\\$g\"\n", "A@1=\"a\\nb\\rc\\td\\\"e\\\\f$g\"", "double-quote escapes"},
		{"A=\"\\a\\x\\'\\\xc3\xa9\"\n", "A@1=\"\\\\a\\\\x\\\\'\\\\\xc3\xa9\"", "other backslashes are themselves"},
		{"A=\"$HOME ${X}\"\n", "A@1=\"$HOME ${X}\"", "nothing is expanded"},
		{"A=\"l1\nl2\"\nB=2\n", "A@1=\"l1\\nl2\" B@3=\"2\"", "double quotes span lines"},
		{"A=\"l1\r\nl2\\n\"\r\n", "A@1=\"l1\\nl2\\n\"", "CRLF in double quotes"},
		{"A=\"it's # not\" # but this\n", "A@1=\"it's # not\"", "# inside quotes"},
		{"A=`it's \"x\" \\n`\n", "A@1=\"it's \\\"x\\\" \\\\n\"", "backquotes are literal"},
		{"A=`a\nb`\n", "A@1=\"a\\nb\"", "backquotes span lines"},
		{"A=caf\xc3\xa9 \xf0\x9f\x94\x91\n", "A@1=\"caf\xc3\xa9 \xf0\x9f\x94\x91\"", "UTF-8"},
		{"\xef\xbb\xbf" "A=1\n", "A@1=\"1\"", "a BOM is skipped"},
		{"A=1\nB=2\nA=3\n", "A@3=\"3\" B@2=\"2\"", "last wins, first place kept"},
		{"A='x\ny'\nB=2\nC=\"p\n\nq\"\nD=4\n", "A@1=\"x\\ny\" B@3=\"2\" C@4=\"p\\n\\nq\" D@7=\"4\"",
		 "line numbers after multi-line values"},
		{"_=1\n_a9=2\nZ_=3\n", "_@1=\"1\" _a9@2=\"2\" Z_@3=\"3\"", "key characters"},
		{"A=a=b=c\n", "A@1=\"a=b=c\"", "= in a value"},
		{"A='\\'\n", "A@1=\"\\\\\"", "a backslash before the closing single quote"},
		/* malformed */
		{"A\n", "!1 missing '='", "no ="},
		{"A=1\nB\n", "!2 missing '='", "no = on line 2"},
		{"A=1\nexport B\n", "!2 missing '='", "export without ="},
		{"A=1\n\nexport\n", "!3 missing '='", "export alone"},
		{"A B=1\n", "!1 missing '='", "a space in a key"},
		{"1A=x\n", "!1 invalid key", "key starting with a digit"},
		{"A-B=x\n", "!1 invalid key", "dash in a key"},
		{"A.B=x\n", "!1 invalid key", "dot in a key"},
		{"=x\n", "!1 invalid key", "no key"},
		{"\xc3\xa9=x\n", "!1 invalid key", "non-ASCII key"},
		{"A=1\nB='x\n\nC=3\n", "!2 unterminated single quote", "unterminated single quote"},
		{"A=\"x\\\"\n", "!1 unterminated double quote", "escaped closing quote"},
		{"A=1\n\n\nB=`x", "!4 unterminated backquote", "unterminated backquote"},
		{"A='x' y\n", "!1 text after the closing quote", "text after single quotes"},
		{"A='x\ny'z\n", "!2 text after the closing quote", "text after a multi-line value"},
		{"A=\"x\"\"y\"\n", "!1 text after the closing quote", "two quoted strings"},
		{"A=1\nB=x\ry\n", "!2 carriage return without line feed", "lone CR unquoted"},
		{"A=1\r", "!1 carriage return without line feed", "lone CR at the end"},
		{"# c\rA=1\n", "!1 carriage return without line feed", "lone CR in a comment"},
		{"A='x'\r", "!1 carriage return without line feed", "lone CR after quotes"},
		{"A=1\nB=\xff\n", "!2 invalid UTF-8", "invalid UTF-8"},
		{"A=1\n\nB=\xed\xa0\x80\n", "!3 invalid UTF-8", "a surrogate"},
		{"A=1\n# \xc0\xaf\n", "!2 invalid UTF-8", "overlong, in a comment"},
		{"\xef\xbb\xbf\xef\xbb\xbf" "A=1\n", "!1 invalid key", "a second BOM"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_str(P(a, cases[i].in), cases[i].want, cases[i].name);
	is_str(parsed(a, "A=1\nB=x\0y\n", 10), "!2 NUL byte", "NUL byte");
	is_str(parsed(a, "A='\0'", 5), "!1 NUL byte", "NUL byte in quotes");
	is_str(parsed(a, "A=1\nB=2\n", 6), "A@1=\"1\" B@2=\"\"", "the length is honoured");
	{
		struct dotenv_pair *pairs = NULL;
		size_t count = 7;
		int line = 7;
		const char *why = "x";

		ok(dotenv_parse(a, NULL, 0, &pairs, &count, &line, &why) == 0 && pairs != NULL &&
			   count == 0 && line == 0 && why == NULL,
		   "no text: success, no pairs, a non-NULL array");
	}
}

static void
test_limits(struct arena *a)
{
	struct buf b;
	size_t i;
	char *big;
	struct dotenv_pair *pairs;
	size_t count;
	int line;
	const char *why;

	/* keys */
	buf_init(&b, a);
	for (i = 0; i < 256; i++)
		buf_putc(&b, i == 0 ? 'K' : (char)('a' + i % 26));
	buf_puts(&b, "=1\n");
	ok(dotenv_parse(a, b.data, b.len, &pairs, &count, &line, &why) == 0 && count == 1 &&
		   strlen(pairs[0].key) == 256,
	   "a 256-character key");
	ok(dotenv_key_valid(pairs[0].key), "dotenv_key_valid: 256 characters");
	buf_init(&b, a);
	buf_puts(&b, "A=1\n");
	for (i = 0; i < 257; i++)
		buf_putc(&b, 'K');
	buf_puts(&b, "=1\n");
	is_str(parsed(a, b.data, b.len), "!2 key longer than 256 characters", "a 257-character key");
	ok(!dotenv_key_valid(b.data + 4) && !dotenv_key_valid("") && !dotenv_key_valid("1A") &&
		   !dotenv_key_valid("A-B") && !dotenv_key_valid(NULL) && dotenv_key_valid("_") &&
		   dotenv_key_valid("a_1"),
	   "dotenv_key_valid");

	/* values: 64 KiB, unquoted, quoted and escaped */
	{
		static const char *const forms[][2] = {{"", ""}, {"'", "'"}, {"\"", "\""},
						       {"\"\\n", "\""}};
		size_t f;

		for (f = 0; f < 4; f++) {
			size_t extra = f == 3 ? 1 : 0; /* the escape is one byte */
			size_t len;

			for (len = DOTENV_MAX_VALUE; len <= DOTENV_MAX_VALUE + 1; len++) {
				buf_init(&b, a);
				buf_puts(&b, "# x\nA=");
				buf_puts(&b, forms[f][0]);
				for (i = extra; i < len; i++)
					buf_putc(&b, 'v');
				buf_puts(&b, forms[f][1]);
				buf_puts(&b, "\n");
				if (len == DOTENV_MAX_VALUE)
					ok(dotenv_parse(a, b.data, b.len, &pairs, &count, &line, &why) == 0 &&
						   count == 1 && pairs[0].value_len == len,
					   "a 64 KiB value (form %zu)", f);
				else
					is_str(parsed(a, b.data, b.len), "!2 value longer than 64 KiB",
					       "a value of 64 KiB + 1 is refused");
			}
		}
	}

	/* pairs */
	buf_init(&b, a);
	for (i = 0; i < DOTENV_MAX_PAIRS; i++)
		buf_printf(&b, "K%zu=%zu\n", i, i);
	buf_puts(&b, "K0=again\n");
	ok(dotenv_parse(a, b.data, b.len, &pairs, &count, &line, &why) == 0 &&
		   count == DOTENV_MAX_PAIRS && strcmp(pairs[0].value, "again") == 0 &&
		   pairs[0].line == DOTENV_MAX_PAIRS + 1 && strcmp(pairs[9999].key, "K9999") == 0,
	   "10000 keys, and a repeated one does not count");
	buf_puts(&b, "# c\nK10000=x\n");
	is_str(parsed(a, b.data, b.len), "!10003 more than 10000 keys", "10001 keys are refused");

	/* the whole text */
	big = malloc(DOTENV_MAX_TEXT + 2);
	if (big != NULL) {
		memset(big, 'x', DOTENV_MAX_TEXT + 2);
		memcpy(big, "A=1\nB=2\n# ", 10);
		is_str(parsed(a, big, DOTENV_MAX_TEXT + 1), "!3 file larger than 16 MiB",
		       "more than 16 MiB is refused");
		big[DOTENV_MAX_TEXT - 1] = '\n';
		ok(dotenv_parse(a, big, DOTENV_MAX_TEXT, &pairs, &count, &line, &why) == 0 &&
			   count == 2,
		   "16 MiB exactly is read");
		free(big);
	}
}

/* -------------------------------------------------------------- writers */

static void
test_writers(struct arena *a)
{
	const struct dotenv_pair in[] = {
		{"Z", "last", 4, 0}, {"A", "it's", 4, 0}, {"M", "", 0, 0}, {"B", "a\nb\"c\\", 6, 0},
	};
	const struct dotenv_pair dup[] = {{"A", "1", 1, 0}, {"B", "2", 1, 0}, {"A", "3", 1, 0}};
	const struct dotenv_pair badkey[] = {{"A-B", "1", 1, 0}};
	const struct dotenv_pair nul[] = {{"A", "a\0b", 3, 0}};
	const struct dotenv_pair badutf[] = {{"A", "\xc3", 1, 0}};
	const struct dotenv_pair nullvalue[] = {{"A", NULL, 0, 0}};
	int (*const fns[])(struct buf *, const struct dotenv_pair *, size_t) = {
		dotenv_write_json, dotenv_write_shell, dotenv_write_dotenv};
	static const char *const names[] = {"json", "shell", "dotenv"};
	size_t f;

	is_str(written(a, dotenv_write_json, in, 4),
	       "{\"A\":\"it's\",\"B\":\"a\\nb\\\"c\\\\\",\"M\":\"\",\"Z\":\"last\"}", "json, sorted");
	is_str(written(a, dotenv_write_json, in, 0), "{}", "json, empty");
	is_str(written(a, dotenv_write_json, (const struct dotenv_pair[]){{"A", "\x01\x7f\xc3\xa9\t", 5, 0}}, 1),
	       "{\"A\":\"\\u0001\\u007f\xc3\xa9\\t\"}", "json escapes");
	is_str(written(a, dotenv_write_shell, in, 4),
	       "export A='it'\\''s'\nexport B='a\nb\"c\\'\nexport M=''\nexport Z='last'\n",
	       "shell, sorted");
	is_str(written(a, dotenv_write_shell, in, 0), "", "shell, empty");
	is_str(written(a, dotenv_write_dotenv, in, 4),
	       "A=\"it's\"\nB='a\nb\"c\\' #'.\nM=''\nZ=last\n", "dotenv, sorted");
	is_str(written(a, dotenv_write_dotenv, nullvalue, 1), "A=''\n", "a NULL value is empty");
	for (f = 0; f < 3; f++) {
		is_str(written(a, fns[f], dup, 3), "(-1)", arena_printf(a, "%s: a repeated key", names[f]));
		is_str(written(a, fns[f], badkey, 1), "(-1)", arena_printf(a, "%s: an invalid key", names[f]));
		is_str(written(a, fns[f], nul, 1), "(-1)", arena_printf(a, "%s: a NUL in a value", names[f]));
		is_str(written(a, fns[f], badutf, 1), "(-1)", arena_printf(a, "%s: invalid UTF-8", names[f]));
	}

	/* the quoting chosen per value */
	{
		static const struct {
			const char *value, *line;
		} q[] = {
			{"", "K=''"},
			{"postgres://u@h:5432/db?x=1%20", "K='postgres://u@h:5432/db?x=1%20'"},
			{"abc-DEF_1.2/3:4@5%6+7,8=9", "K=abc-DEF_1.2/3:4@5%6+7,8=9"},
			{"two words", "K='two words'"},
			{" # $X \"q\" `b` \\n ", "K=' # $X \"q\" `b` \\n '"},
			{"it's", "K=\"it's\""},
			{"l1\nl2\r\n", "K=\"l1\\nl2\\r\\n\""},
			{"it's\n$X", "K=\"it's\\n$X\""},
			{"C:\\dir\\x'\n", "K=\"C:\\dir\\x'\\n\""},
			{"a\\nb\nc", "K='a\\nb\nc'"},
			{"say \"hi\"\nbye\\", "K='say \"hi\"\nbye\\' #'."},
			{"it's \"x\"\n", "K=`it's \"x\"\n`"},
			{"'\"`", "K=\"'\\\"`\""},
			{"a'\"`", "K=a'\"`"},
			{"C:\\dir\\", "K=C:\\dir\\"},
			{"a b\\", "K=a b\\"},
			{"#\\", "K='#\\' #'."},
			{"'\"` #", "K=\"'\\\"` #\""},
			{"'\"`\n", "K=\"'\\\"`\\n\""},
			{"'\"`\\", "K=\"'\\\"`\\\\\" #\"."},
			{" '\"`\\", "K=\" '\\\"`\\\\\" #\"."},
			{"x\r", "K=\"x\\r\""},
			{"x\r\\", "K=\"x\\r\\\\\" #\"."},
		};
		size_t i;

		for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
			struct dotenv_pair p = {"K", q[i].value, strlen(q[i].value), 0};
			const char *w = written(a, dotenv_write_dotenv, &p, 1);
			struct buf want, name;
			struct dotenv_pair *back;
			size_t count;
			int line;
			const char *why;

			buf_init(&want, a);
			buf_printf(&want, "%s\n", q[i].line);
			buf_init(&name, a);
			buf_puts(&name, "dotenv quoting of ");
			buf_json_string(&name, p.value, p.value_len);
			is_str(w, want.data, name.data);
			ok(dotenv_parse(a, w, strlen(w), &back, &count, &line, &why) == 0 && count == 1 &&
				   same_value(&back[0], p.value, p.value_len),
			   "  ...and it reads back");
		}
	}
}

/* Every tricky value, and hundreds of random ones, through write_dotenv
 * and back, alone and all in one file; and through write_json and cJSON. */
static void
test_round_trips(struct arena *a)
{
	enum { NRANDOM = 3000, PERFILE = 500 };
	struct dotenv_pair *in = arena_alloc(a, (NRANDOM + NTRICKY) * sizeof(*in));
	size_t n = 0, i, bad_alone = 0, bad_json = 0;
	size_t from;

	for (i = 0; i < NTRICKY; i++, n++) {
		in[n].key = arena_printf(a, "T%03zu", i);
		in[n].value = tricky[i];
		in[n].value_len = strlen(tricky[i]);
	}
	for (i = 0; i < NRANDOM; i++, n++) {
		in[n].key = arena_printf(a, "R%04zu", i);
		in[n].value = random_value(a, &in[n].value_len);
	}

	/* one value a file */
	for (i = 0; i < n; i++) {
		struct buf b;
		struct dotenv_pair *back;
		size_t count;
		int line;
		const char *why;

		buf_init(&b, a);
		if (dotenv_write_dotenv(&b, &in[i], 1) != 0 ||
		    dotenv_parse(a, b.data, b.len, &back, &count, &line, &why) != 0 || count != 1 ||
		    strcmp(back[0].key, in[i].key) != 0 || !same_value(&back[0], in[i].value, in[i].value_len)) {
			if (bad_alone++ < 5) {
				struct buf j;

				buf_init(&j, a);
				buf_json_string(&j, in[i].value, in[i].value_len);
				diag("%s: %s does not round-trip (written %s)", in[i].key, j.data, b.data);
			}
		}
	}
	ok(bad_alone == 0, "%zu values, each alone: write_dotenv -> parse is exact", n);

	/* many a file (sorted by the writer, so compare by key) */
	for (from = 0; from < n; from += PERFILE) {
		size_t m = n - from < PERFILE ? n - from : PERFILE, bad = 0, k;
		struct buf b;
		struct dotenv_pair *back;
		size_t count;
		int line;
		const char *why;

		buf_init(&b, a);
		if (dotenv_write_dotenv(&b, in + from, m) != 0 ||
		    dotenv_parse(a, b.data, b.len, &back, &count, &line, &why) != 0 || count != m) {
			ok(0, "values %zu..%zu in one file", from, from + m - 1);
			continue;
		}
		for (k = 0; k < m; k++) {
			size_t j;

			for (j = 0; j < count; j++)
				if (strcmp(back[j].key, in[from + k].key) == 0)
					break;
			if (j == count || !same_value(&back[j], in[from + k].value, in[from + k].value_len))
				bad++;
			if (k > 0 && strcmp(back[k - 1].key, back[k].key) >= 0)
				bad++;
		}
		ok(bad == 0, "values %zu..%zu in one file: exact, keys sorted", from, from + m - 1);
	}

	/* json */
	for (i = 0; i < n; i++) {
		struct buf b;
		cJSON *o, *v;

		buf_init(&b, a);
		if (dotenv_write_json(&b, &in[i], 1) != 0 || (o = cJSON_ParseWithLength(b.data, b.len)) == NULL) {
			bad_json++;
			continue;
		}
		v = cJSON_GetObjectItemCaseSensitive(o, in[i].key);
		if (!cJSON_IsString(v) || cJSON_GetArraySize(o) != 1 || strlen(v->valuestring) != in[i].value_len ||
		    memcmp(v->valuestring, in[i].value, in[i].value_len) != 0)
			bad_json++;
		cJSON_Delete(o);
	}
	ok(bad_json == 0, "%zu values: write_json is a flat object cJSON reads back exactly", n);
}

/* ---------------------------------------------------------------- shell */

static int
write_file(const char *path, const char *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	int rc;

	if (f == NULL)
		return -1;
	rc = fwrite(data, 1, n, f) == n ? 0 : -1;
	return fclose(f) == 0 ? rc : -1;
}

/* Sources the shell export of pairs in shell, prints every value NUL-
 * terminated in the order given; returns how many values came back wrong,
 * or -1 when the shell could not be run. */
static long
source_in(struct arena *a, const char *shell, const char *dir, const struct dotenv_pair *pairs,
	  size_t n)
{
	struct buf env, script, out;
	const char *envpath = arena_printf(a, "%s/export.sh", dir);
	const char *scriptpath = arena_printf(a, "%s/print.sh", dir);
	char chunk[4096];
	size_t i, got, at = 0;
	long bad = 0;
	FILE *p;
	int rc;

	buf_init(&env, a);
	buf_init(&script, a);
	buf_init(&out, a);
	if (dotenv_write_shell(&env, pairs, n) != 0 || write_file(envpath, env.data, env.len) != 0)
		return -1;
	buf_printf(&script, ". '%s'\n", envpath);
	for (i = 0; i < n; i++)
		buf_printf(&script, "printf '%%s\\0' \"$%s\"\n", pairs[i].key);
	if (write_file(scriptpath, script.data, script.len) != 0)
		return -1;
	p = popen(arena_printf(a, "cd '%s' && %s '%s'", dir, shell, scriptpath), "r");
	if (p == NULL)
		return -1;
	while ((got = fread(chunk, 1, sizeof(chunk), p)) > 0)
		buf_append(&out, chunk, got);
	rc = pclose(p);
	if (rc != 0)
		return -1;
	for (i = 0; i < n; i++) {
		const char *end = at < out.len ? memchr(out.data + at, '\0', out.len - at) : NULL;
		size_t len = end ? (size_t)(end - (out.data + at)) : 0;

		if (end == NULL || len != pairs[i].value_len ||
		    memcmp(out.data + at, pairs[i].value, len) != 0) {
			if (bad < 3) {
				struct buf j;

				buf_init(&j, a);
				buf_json_string(&j, pairs[i].value, pairs[i].value_len);
				diag("%s: %s came back wrong", shell, j.data);
			}
			bad++;
		}
		if (end == NULL)
			break;
		at += len + 1;
	}
	return bad + (long)(n - (i < n ? i : n));
}

static void
test_shell(struct arena *a)
{
	char dir[] = "/tmp/shush-dotenv-XXXXXX";
	static const char *const shells[] = {"sh", "bash"};
	enum { NRANDOM = 400 };
	struct dotenv_pair *pairs = arena_alloc(a, (NTRICKY + 12 + NRANDOM) * sizeof(*pairs));
	size_t n = 0, i, s;
	DIR *d;
	struct dirent *e;
	int pwned = 0;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	for (i = 0; i < NTRICKY; i++, n++) {
		pairs[n].key = arena_printf(a, "T%03zu", i);
		pairs[n].value = tricky[i];
		pairs[n].value_len = strlen(tricky[i]);
	}
	{
		/* each around the directory's path: prefix, suffix */
		static const char *const attacks[][2] = {
			{"$(touch ", "/pwned1)"}, {"`touch ", "/pwned2`"}, {"'; touch ", "/pwned3; '"},
			{"\"; touch ", "/pwned4; \""}, {"$(touch ", "/pwned5)\n"},
			{"${X:=$(touch ", "/pwned6)}"}, {"'\n touch ", "/pwned7\n'"},
			{"\\'; touch ", "/pwned8 #"}, {"'\\''$(touch ", "/pwned9)'\\''"},
			{"\n`touch ", "/pwned10`\n"}, {"x'`touch ", "/pwned11`'"},
			{"$((1))$(touch ", "/pwned12)"},
		};

		for (i = 0; i < 12; i++, n++) {
			pairs[n].key = arena_printf(a, "ATTACK%zu", i);
			pairs[n].value = arena_printf(a, "%s%s%s", attacks[i][0], dir, attacks[i][1]);
			pairs[n].value_len = strlen(pairs[n].value);
		}
	}
	for (i = 0; i < NRANDOM; i++, n++) {
		pairs[n].key = arena_printf(a, "R%04zu", i);
		pairs[n].value = random_value(a, &pairs[n].value_len);
	}
	for (s = 0; s < 2; s++) {
		long bad;

		if (system(arena_printf(a, "command -v %s >/dev/null 2>&1", shells[s])) != 0) {
			ok(1, "# SKIP %s is not installed", shells[s]);
			continue;
		}
		bad = source_in(a, shells[s], dir, pairs, n);
		ok(bad == 0, "%s: sourcing export KEY='...' yields %zu values byte for byte (%ld wrong)",
		   shells[s], n, bad);
	}
	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strncmp(e->d_name, "pwned", 5) == 0) {
				diag("%s/%s exists: something was executed", dir, e->d_name);
				pwned++;
			}
			if (e->d_name[0] != '.')
				unlink(arena_printf(a, "%s/%s", dir, e->d_name));
		}
		closedir(d);
	}
	rmdir(dir);
	ok(pwned == 0, "sourcing executed nothing");
}

/* ---------------------------------------------------------------- tools */

static char *
read_all(FILE *f, size_t *n)
{
	size_t cap = 65536, len = 0, got;
	char *p = malloc(cap + 1);

	while (p != NULL && (got = fread(p + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap) {
			char *np = realloc(p, 2 * cap + 1);

			if (np == NULL) {
				free(p);
				return NULL;
			}
			p = np;
			cap *= 2;
		}
	}
	if (p != NULL)
		p[len] = '\0';
	*n = len;
	return p;
}

static int
tool(const char *mode)
{
	struct arena *a = arena_new(1 << 16);
	size_t n, count = 0;
	char *in = read_all(stdin, &n);
	struct dotenv_pair *pairs = NULL;
	struct buf out;
	int rc = 2, line;
	const char *why;

	buf_init(&out, a);
	if (in == NULL)
		goto done;
	if (strcmp(mode, "--parse") == 0) {
		if (dotenv_parse(a, in, n, &pairs, &count, &line, &why) != 0) {
			fprintf(stderr, "line %d: %s\n", line, why);
			rc = 1;
			goto done;
		}
		dotenv_write_json(&out, pairs, count);
	} else {
		cJSON *o = cJSON_ParseWithLength(in, n), *v;
		int (*fn)(struct buf *, const struct dotenv_pair *, size_t) =
			strcmp(mode, "--write-dotenv") == 0  ? dotenv_write_dotenv
			: strcmp(mode, "--write-shell") == 0 ? dotenv_write_shell
			: strcmp(mode, "--write-json") == 0  ? dotenv_write_json : NULL;

		if (fn == NULL || !cJSON_IsObject(o)) {
			fprintf(stderr, "usage: dotenv [--write-dotenv|--write-shell|--write-json|--parse] < input\n");
			cJSON_Delete(o);
			goto done;
		}
		pairs = arena_alloc(a, ((size_t)cJSON_GetArraySize(o) + 1) * sizeof(*pairs));
		cJSON_ArrayForEach(v, o) {
			if (!cJSON_IsString(v)) {
				fprintf(stderr, "%s: not a string\n", v->string);
				cJSON_Delete(o);
				goto done;
			}
			pairs[count].key = arena_strdup(a, v->string);
			pairs[count].value = arena_strdup(a, v->valuestring);
			pairs[count].value_len = strlen(v->valuestring);
			count++;
		}
		cJSON_Delete(o);
		if (fn(&out, pairs, count) != 0) {
			fprintf(stderr, "invalid key or value\n");
			goto done;
		}
	}
	rc = fwrite(out.data, 1, out.len, stdout) == out.len && fflush(stdout) == 0 ? 0 : 2;
done:
	free(in);
	arena_free(a);
	return rc;
}

int
main(int argc, char **argv)
{
	struct arena *a;

	if (argc > 1)
		return tool(argv[1]);
	a = arena_new(1 << 16);
	test_grammar(a);
	test_limits(a);
	arena_reset(a);
	test_writers(a);
	test_round_trips(a);
	arena_reset(a);
	test_shell(a);
	arena_free(a);
	return done_testing();
}
