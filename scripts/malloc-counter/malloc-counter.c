// Counts heap allocations of a process: LD_PRELOAD it, and at exit it writes `mallocs: N EXECUTABLE` to stderr
// (the executable's path tells the line of the measured program from those of any helper processes).
// Every allocating entry point of glibc is counted once (malloc, calloc, realloc, posix_memalign,
// aligned_alloc, memalign, valloc); frees are not counted. Used by scripts/callgrind.py.
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

static atomic_ulong allocations;

void *malloc(size_t size) {
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    return __libc_realloc(pointer, size);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL) return 12; // ENOMEM
    *result = pointer;
    return 0;
}

void *aligned_alloc(size_t alignment, size_t size) {
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    return __libc_memalign(alignment, size);
}

void *memalign(size_t alignment, size_t size) {
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    return __libc_memalign(alignment, size);
}

void *valloc(size_t size) {
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    return __libc_memalign((size_t)sysconf(_SC_PAGESIZE), size);
}

__attribute__((destructor)) static void report(void) {
    char executable[512];
    ssize_t executableLength = readlink("/proc/self/exe", executable, sizeof executable - 1);
    executable[executableLength > 0 ? executableLength : 0] = 0;
    char line[600];
    int length = snprintf(line, sizeof line, "mallocs: %lu %s\n", atomic_load(&allocations), executable);
    if (length > 0) (void)!write(2, line, (size_t)length);
}
