#ifndef TAPLINE_SHIMS_H
#define TAPLINE_SHIMS_H
// Real functions wrapping C macros that Swift cannot import.
#include <openssl/ssl.h>

/// SSL_CTX_set_min_proto_version / max.
int tapline_ssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version);
int tapline_ssl_ctx_set_max_proto_version(SSL_CTX *ctx, int version);

#endif
