/// Runs one call on each of several processors at once: what ``MultiSpanProcessor`` and ``MultiLogRecordProcessor``
/// do with `run`, `forceFlush` and `shutdown`.
enum ProcessorFanOut {
    /// Runs every operation concurrently and waits for all of them.
    static func all(_ operations: [@Sendable () async -> Void]) async {
        await withTaskGroup(of: Void.self) { group in
            for operation in operations { group.addTask { await operation() } }
        }
    }

    /// Runs every operation concurrently; true when every one returned true.
    static func allSucceed(_ operations: [@Sendable () async -> Bool]) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            for operation in operations { group.addTask { await operation() } }
            var allSucceeded = true
            for await succeeded in group where !succeeded { allSucceeded = false }
            return allSucceeded
        }
    }
}
