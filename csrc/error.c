/* Thread-local last-error message and the library version string. */
#include <stdarg.h>
#include <stdio.h>

#include "tc_internal.h"

/* Invariant: always NUL-terminated; empty string when no error was recorded yet. */
static _Thread_local char tc_error_buffer[512];

const char *tc_version(void)
{
    return "0.1.0";
}

const char *tc_last_error(void)
{
    return tc_error_buffer;
}

int tc_set_error(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(tc_error_buffer, sizeof tc_error_buffer, fmt, args);
    va_end(args);
    return TC_ERR_INVALID;
}
