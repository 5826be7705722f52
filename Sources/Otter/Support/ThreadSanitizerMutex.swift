#if OTTER_THREAD_SANITIZER
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Only in `scripts/tsan.sh`'s build (`-D OTTER_THREAD_SANITIZER`): ThreadSanitizer does not see
/// `Synchronization.Mutex` on Linux (a futex it does not intercept), so it reports every access made under one as a
/// race. This pthread-backed lock with the same API shadows `Mutex` in Otter's own code there, so that what the
/// sanitizer reports is real. Normal builds never compile it.
final class Mutex<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init(_ value: Value) {
        self.value = value
        pthread_mutex_init(lock, nil)
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return try body(&value)
    }
}
#endif
