// The functions of tapline_json_bytes.h are static inline (Swift inlines them into
// its callers); this file only makes the target a library.
#include "tapline_json_bytes.h"
