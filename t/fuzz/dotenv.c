/* libFuzzer: the dotenv import grammar on arbitrary input. Whatever parses
 * must write back (write_dotenv) into text that parses to the very same
 * pairs; write_shell and write_json must take it too. */
#include <stdlib.h>
#include <string.h>

#include "../../lib/shush.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int
by_key(const void *x, const void *y)
{
	return strcmp(((const struct dotenv_pair *)x)->key, ((const struct dotenv_pair *)y)->key);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static struct arena *a;
	struct dotenv_pair *pairs, *back;
	size_t count, count2, i;
	int line;
	const char *why;
	struct buf b, s, j;

	if (a == NULL)
		a = arena_new(1 << 16);
	arena_reset(a);
	if (dotenv_parse(a, (const char *)data, size, &pairs, &count, &line, &why) != 0) {
		if (line < 1 || why == NULL || pairs != NULL || count != 0)
			abort();
		return 0;
	}
	buf_init(&b, a);
	buf_init(&s, a);
	buf_init(&j, a);
	if (dotenv_write_dotenv(&b, pairs, count) != 0 || dotenv_write_shell(&s, pairs, count) != 0 ||
	    dotenv_write_json(&j, pairs, count) != 0)
		abort();
	if (dotenv_parse(a, b.data, b.len, &back, &count2, &line, &why) != 0 || count2 != count)
		abort();
	/* the writer sorts; the parser keeps the file's order */
	if (count > 1)
		qsort(pairs, count, sizeof(*pairs), by_key);
	for (i = 0; i < count; i++) {
		if (strcmp(pairs[i].key, back[i].key) != 0 || pairs[i].value_len != back[i].value_len ||
		    memcmp(pairs[i].value, back[i].value, pairs[i].value_len) != 0 ||
		    pairs[i].value[pairs[i].value_len] != '\0')
			abort();
	}
	return 0;
}
