/* Unit tests of lib/jcs.c against RFC 8785's examples. */
#include <string.h>

#include <cjson/cJSON.h>

#include "../../lib/shush.h"
#include "tap.h"

static const char *
canon(struct arena *a, const char *json)
{
	cJSON *v = cJSON_Parse(json);
	struct buf b;
	int rc;

	buf_init(&b, a);
	rc = jcs_write(&b, v);
	cJSON_Delete(v);
	return rc == 0 ? b.data : "(error)";
}

int
main(void)
{
	struct arena *a = arena_new(4096);
	static const struct {
		const char *in, *want;
	} numbers[] = {
		{"0", "0"}, {"-0", "0"}, {"1", "1"}, {"-1", "-1"}, {"4.5", "4.5"},
		{"0.002", "0.002"}, {"1e30", "1e+30"}, {"1e21", "1e+21"}, {"1e20", "100000000000000000000"},
		{"1e-7", "1e-7"}, {"0.000001", "0.000001"}, {"333333333.3333333", "333333333.3333333"},
		{"9007199254740992", "9007199254740992"}, {"1.5e300", "1.5e+300"},
		{"5e-324", "5e-324"}, {"-1.7976931348623157e308", "-1.7976931348623157e+308"},
		{"123456789012", "123456789012"}, {"0.1", "0.1"}, {"100", "100"},
	};
	size_t i;

	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		is_str(canon(a, numbers[i].in), numbers[i].want, numbers[i].in);

	is_str(canon(a, "{ \"b\" : [ 1 , true , null ] , \"a\" : { \"d\" : false, \"c\" : \"x\" } }"),
	       "{\"a\":{\"c\":\"x\",\"d\":false},\"b\":[1,true,null]}", "sorted, no whitespace");
	/* RFC 8785 §3.2.3: sorting by UTF-16 code units. */
	is_str(canon(a, "{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew Letter "
			"Dalet With Dagesh\",\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning Face\","
			"\"\\u0080\":\"Control\",\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}"),
	       "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\",\"\xc3\xb6\":"
	       "\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\",\"\xf0\x9f"
	       "\x98\x80\":\"Emoji: Grinning Face\",\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}",
	       "UTF-16 ordering of member names");
	is_str(canon(a, "\"\\u0001\\b\\t\\n\\f\\r\\\"\\\\/\\u007f\\u00e9\""),
	       "\"\\u0001\\b\\t\\n\\f\\r\\\"\\\\/\x7f\xc3\xa9\"", "minimal string escapes");
	is_str(canon(a, "[]"), "[]", "empty array");
	is_str(canon(a, "{}"), "{}", "empty object");
	arena_free(a);
	return done_testing();
}
