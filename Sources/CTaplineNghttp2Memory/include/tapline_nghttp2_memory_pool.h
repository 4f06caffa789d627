#ifndef TAPLINE_NGHTTP2_MEMORY_POOL_H
#define TAPLINE_NGHTTP2_MEMORY_POOL_H
// A pooled heap for one nghttp2 session, with the four callbacks of nghttp2_mem.
//
// nghttp2 allocates for every stream, outbound frame and HPACK field: nine blocks of
// 48-512 bytes per proxied request across our two sessions, each a glibc malloc and
// free of ~100 instructions. The pool keeps freed small blocks on per-size free
// lists, so a connection's steady traffic reuses them in ~20 instructions.
//
// Layout: every block the pool hands out is preceded by a 16-byte header recording
// its size class (so `free` needs no size). Blocks of at most
// TAPLINE_NGHTTP2_POOL_MAX_POOLED_SIZE bytes are rounded up to a multiple of 16
// (a size class); larger ones are plain malloc blocks with the same header, marked
// unpooled. Every returned pointer is 16-byte aligned (glibc's malloc alignment
// plus a 16-byte header).
//
// Invariants:
// - A block is returned to the pool it came from, or handed to realloc of that pool.
// - The free lists hold at most the pool's cached-byte limit (block sizes with
//   headers); a free that would exceed it gives the block back to glibc. So an idle
//   connection that once had many streams keeps at most that much.
// - Destroying the pool gives every cached block back to glibc. Blocks still handed
//   out are not tracked (see `outstanding_blocks`) and must not be used or freed
//   afterwards: destroy the pool only after nghttp2_session_del, which frees into it.
//
// Thread ownership: none of these functions lock. A pool belongs to one session,
// and a session is confined to one event-loop thread; every call on a pool (and
// every nghttp2 call on its session) must come from that thread.
//
// The callbacks have nghttp2's nghttp2_malloc / nghttp2_free / nghttp2_calloc /
// nghttp2_realloc signatures (checked in the .c file) with the pool as
// mem_user_data; this header does not include nghttp2.h, so Swift sees nghttp2's
// types only through CNghttp2.
#include <stddef.h>

/// Blocks of up to this many bytes come from the free lists (16-byte classes).
#define TAPLINE_NGHTTP2_POOL_MAX_POOLED_SIZE 512
/// Bytes of header in front of every block.
#define TAPLINE_NGHTTP2_POOL_HEADER_SIZE 16

typedef struct TaplineNghttp2MemoryPool TaplineNghttp2MemoryPool;

/// A new, empty pool whose free lists keep at most `cached_byte_limit` bytes, or
/// NULL when out of memory.
TaplineNghttp2MemoryPool *tapline_nghttp2_memory_pool_create(size_t cached_byte_limit);

/// Frees the cached blocks and the pool. NULL is ignored.
void tapline_nghttp2_memory_pool_destroy(TaplineNghttp2MemoryPool *pool);

/// malloc: a block of at least `size` bytes (size 0 gives a unique pointer), or NULL.
void *tapline_nghttp2_memory_pool_malloc(size_t size, void *pool);
/// free: gives `block` (NULL is ignored) back to the free lists or to glibc.
void tapline_nghttp2_memory_pool_free(void *block, void *pool);
/// calloc: `count * size` zeroed bytes, or NULL (also when the product overflows).
void *tapline_nghttp2_memory_pool_calloc(size_t count, size_t size, void *pool);
/// realloc: `block` resized to `size` bytes, keeping the first min(old, new) bytes;
/// NULL `block` is malloc; size 0 frees `block` and returns NULL (as glibc's realloc).
/// On failure returns NULL and `block` is untouched.
void *tapline_nghttp2_memory_pool_realloc(void *block, size_t size, void *pool);

/// Bytes (headers included) now on the free lists.
size_t tapline_nghttp2_memory_pool_cached_bytes(const TaplineNghttp2MemoryPool *pool);
/// Blocks handed out and not yet freed (pooled and unpooled).
size_t tapline_nghttp2_memory_pool_outstanding_blocks(const TaplineNghttp2MemoryPool *pool);
/// The usable size of a block from this pool: its class size, or 0 for an unpooled
/// block (whose size glibc keeps).
size_t tapline_nghttp2_memory_pool_block_class_size(const void *block);

#endif
