/* The FastCGI adapter, seen only by shushd.c. */
#ifndef SHUSH_FCGI_H
#define SHUSH_FCGI_H

#include <fcgiapp.h>

#include "../lib/shush.h"

/* Reads one accepted request, runs the pipeline, writes the answer. */
void fcgi_handle(FCGX_Request *fr, struct arena *a);

#endif
