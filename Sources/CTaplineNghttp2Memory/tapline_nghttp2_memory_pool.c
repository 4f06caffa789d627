#include "tapline_nghttp2_memory_pool.h"

#include <nghttp2/nghttp2.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// The callbacks must fit nghttp2_mem's members exactly (a mismatch is an error here).
static const nghttp2_malloc checked_malloc __attribute__((unused)) = tapline_nghttp2_memory_pool_malloc;
static const nghttp2_free checked_free __attribute__((unused)) = tapline_nghttp2_memory_pool_free;
static const nghttp2_calloc checked_calloc __attribute__((unused)) = tapline_nghttp2_memory_pool_calloc;
static const nghttp2_realloc checked_realloc __attribute__((unused)) = tapline_nghttp2_memory_pool_realloc;

enum {
    CLASS_STEP = 16,
    /// Classes 0...CLASS_COUNT hold blocks of class * 16 usable bytes (class 0: malloc(0)).
    CLASS_COUNT = TAPLINE_NGHTTP2_POOL_MAX_POOLED_SIZE / CLASS_STEP,
    /// The header class of a block glibc sized (larger than the biggest class).
    UNPOOLED_CLASS = CLASS_COUNT + 1,
};

/// The 16 bytes in front of every block. `next` links a cached block into its free
/// list (the header, not the block, so a class-0 block can be cached too).
typedef struct BlockHeader {
    size_t size_class;
    struct BlockHeader *next;
} BlockHeader;

_Static_assert(sizeof(BlockHeader) == TAPLINE_NGHTTP2_POOL_HEADER_SIZE, "header keeps 16-byte alignment");
_Static_assert(TAPLINE_NGHTTP2_POOL_HEADER_SIZE % alignof(max_align_t) == 0, "header keeps malloc's alignment");
_Static_assert(TAPLINE_NGHTTP2_POOL_MAX_POOLED_SIZE % CLASS_STEP == 0, "largest class is a whole step");

struct TaplineNghttp2MemoryPool {
    /// free_lists[c]: cached blocks of class c, most recently freed first.
    BlockHeader *free_lists[CLASS_COUNT + 1];
    /// Sum of the cached blocks' full sizes (header included); never above the limit.
    size_t cached_bytes;
    size_t cached_byte_limit;
    size_t outstanding_blocks;
};

static inline size_t block_bytes(size_t size_class) {
    return TAPLINE_NGHTTP2_POOL_HEADER_SIZE + size_class * CLASS_STEP;
}

static inline BlockHeader *header_of(const void *block) {
    return (BlockHeader *)((char *)block - TAPLINE_NGHTTP2_POOL_HEADER_SIZE);
}

TaplineNghttp2MemoryPool *tapline_nghttp2_memory_pool_create(size_t cached_byte_limit) {
    TaplineNghttp2MemoryPool *pool = calloc(1, sizeof *pool);
    if (pool != NULL) pool->cached_byte_limit = cached_byte_limit;
    return pool;
}

void tapline_nghttp2_memory_pool_destroy(TaplineNghttp2MemoryPool *pool) {
    if (pool == NULL) return;
    for (size_t c = 0; c <= CLASS_COUNT; c++) {
        BlockHeader *header = pool->free_lists[c];
        while (header != NULL) {
            BlockHeader *next = header->next;
            free(header);
            header = next;
        }
    }
    free(pool);
}

/// A block glibc sizes, with an unpooled header; `zeroed` asks glibc's calloc.
static void *allocate_unpooled(TaplineNghttp2MemoryPool *pool, size_t size, int zeroed) {
    if (size > SIZE_MAX - TAPLINE_NGHTTP2_POOL_HEADER_SIZE) return NULL;
    size_t bytes = size + TAPLINE_NGHTTP2_POOL_HEADER_SIZE;
    BlockHeader *header = zeroed ? calloc(1, bytes) : malloc(bytes);
    if (header == NULL) return NULL;
    header->size_class = UNPOOLED_CLASS;
    pool->outstanding_blocks++;
    return header + 1;
}

void *tapline_nghttp2_memory_pool_malloc(size_t size, void *opaque_pool) {
    TaplineNghttp2MemoryPool *pool = opaque_pool;
    if (size > TAPLINE_NGHTTP2_POOL_MAX_POOLED_SIZE) return allocate_unpooled(pool, size, 0);
    size_t size_class = (size + CLASS_STEP - 1) / CLASS_STEP;
    BlockHeader *header = pool->free_lists[size_class];
    if (header != NULL) {
        pool->free_lists[size_class] = header->next;
        pool->cached_bytes -= block_bytes(size_class);
    } else {
        header = malloc(block_bytes(size_class));
        if (header == NULL) return NULL;
        header->size_class = size_class;
    }
    pool->outstanding_blocks++;
    return header + 1;
}

void tapline_nghttp2_memory_pool_free(void *block, void *opaque_pool) {
    if (block == NULL) return;
    TaplineNghttp2MemoryPool *pool = opaque_pool;
    BlockHeader *header = header_of(block);
    size_t size_class = header->size_class;
    pool->outstanding_blocks--;
    if (size_class <= CLASS_COUNT) {
        size_t bytes = block_bytes(size_class);
        if (pool->cached_bytes + bytes <= pool->cached_byte_limit) {
            header->next = pool->free_lists[size_class];
            pool->free_lists[size_class] = header;
            pool->cached_bytes += bytes;
            return;
        }
    }
    free(header);
}

void *tapline_nghttp2_memory_pool_calloc(size_t count, size_t size, void *opaque_pool) {
    if (count != 0 && size > SIZE_MAX / count) return NULL;
    size_t total = count * size;
    if (total > TAPLINE_NGHTTP2_POOL_MAX_POOLED_SIZE) return allocate_unpooled(opaque_pool, total, 1);
    void *block = tapline_nghttp2_memory_pool_malloc(total, opaque_pool);
    if (block != NULL) memset(block, 0, total);
    return block;
}

void *tapline_nghttp2_memory_pool_realloc(void *block, size_t size, void *opaque_pool) {
    if (block == NULL) return tapline_nghttp2_memory_pool_malloc(size, opaque_pool);
    if (size == 0) {
        tapline_nghttp2_memory_pool_free(block, opaque_pool);
        return NULL;
    }
    size_t size_class = header_of(block)->size_class;
    size_t kept;
    if (size_class == UNPOOLED_CLASS) {
        if (size > TAPLINE_NGHTTP2_POOL_MAX_POOLED_SIZE) {
            // Stays a glibc block (the header moves with it): glibc may resize in place.
            if (size > SIZE_MAX - TAPLINE_NGHTTP2_POOL_HEADER_SIZE) return NULL;
            BlockHeader *header = realloc(header_of(block), size + TAPLINE_NGHTTP2_POOL_HEADER_SIZE);
            return header == NULL ? NULL : header + 1;
        }
        kept = size;  // shrinks into a class; the old block is larger than any class
    } else {
        size_t capacity = size_class * CLASS_STEP;
        if (size <= capacity) return block;  // a class block serves any size up to its class
        kept = capacity;
    }
    void *moved = tapline_nghttp2_memory_pool_malloc(size, opaque_pool);
    if (moved == NULL) return NULL;
    memcpy(moved, block, kept);
    tapline_nghttp2_memory_pool_free(block, opaque_pool);
    return moved;
}

size_t tapline_nghttp2_memory_pool_cached_bytes(const TaplineNghttp2MemoryPool *pool) {
    return pool->cached_bytes;
}

size_t tapline_nghttp2_memory_pool_outstanding_blocks(const TaplineNghttp2MemoryPool *pool) {
    return pool->outstanding_blocks;
}

size_t tapline_nghttp2_memory_pool_block_class_size(const void *block) {
    size_t size_class = header_of(block)->size_class;
    return size_class == UNPOOLED_CLASS ? 0 : size_class * CLASS_STEP;
}
