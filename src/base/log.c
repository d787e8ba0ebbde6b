#include "base.h"

static bool debug_on;

void sl_log_set_debug(bool on)
{
	debug_on = on;
}
static void emit(const char *symbol, const char *fmt, va_list ap)
{
	/* One fprintf per line so concurrent writers never interleave mid-line. */
	char line[SL_ERROR_MAX + 64];
	vsnprintf(line, sizeof(line), fmt, ap);
	/* Text from registries and artifacts passes through here: no terminal
	 * escape sequences or line tricks reach the user's screen. */
	for (char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	fprintf(stderr, "%s %s\n", symbol, line);
}

#define DEFINE_LOG(name, symbol, cond)                                                             \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		if (!(cond))                                                                       \
			return;                                                                    \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		emit(symbol, fmt, ap);                                                             \
		va_end(ap);                                                                        \
	}

DEFINE_LOG(sl_log_action, "►", true)
DEFINE_LOG(sl_log_success, "✔", true)
DEFINE_LOG(sl_log_failure, "✗", true)
DEFINE_LOG(sl_log_warning, "⚠️", true)
DEFINE_LOG(sl_log_debug, "…", debug_on)
