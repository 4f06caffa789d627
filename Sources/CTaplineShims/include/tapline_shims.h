#ifndef TAPLINE_SHIMS_H
#define TAPLINE_SHIMS_H
// Real functions wrapping OpenSSL macros (and variadic functions) that Swift
// cannot import. Each one is a thin pass-through: no state, thread-safe as the
// wrapped call is.
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>

/// SSL_CTX_set_min_proto_version / max. Returns 1 on success.
int tapline_ssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version);
int tapline_ssl_ctx_set_max_proto_version(SSL_CTX *ctx, int version);

/// Options every Tapline context gets: no renegotiation, no TLS compression,
/// and SSL_MODE_RELEASE_BUFFERS (idle connections keep no record buffers).
void tapline_ssl_ctx_set_common_options(SSL_CTX *ctx);

/// SSL_CTX_add1_chain_cert: appends `cert` (reference taken) to the chain.
int tapline_ssl_ctx_add1_chain_cert(SSL_CTX *ctx, X509 *cert);

/// SSL_set_tlsext_host_name: the SNI a client sends. Returns 1 on success.
int tapline_ssl_set_tlsext_host_name(SSL *ssl, const char *name);

/// SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL): a new per-SSL slot, or -1.
int tapline_ssl_get_ex_new_index(void);

/// EVP_EC_gen("P-256"): a new EC P-256 key pair, or NULL.
EVP_PKEY *tapline_generate_ec_p256_key(void);

/// XN_FLAG_RFC2253 (not importable: it combines casts and shifts).
unsigned long tapline_xn_flag_rfc2253(void);

/// sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free): frees the stack and
/// its bags. NULL is fine.
void tapline_pkcs12_safebags_free(STACK_OF(PKCS12_SAFEBAG) *bags);

/// sk_PKCS7_pop_free(safes, PKCS7_free): frees the stack and its safes. NULL is fine.
void tapline_pkcs7_stack_free(STACK_OF(PKCS7) *safes);

#endif
