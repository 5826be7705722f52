import Synchronization

/// Counts how many queued spans have been handled and lets callers wait, with a timeout, until a given count
/// is reached. This is what makes `forceFlush` and `shutdown` wait for real.
package final class ProgressTracker: Sendable {
    private struct Waiter {
        var target: UInt64
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var processed: UInt64 = 0
        var nextWaiterID: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]
        var cancelledWaiterIDs: Set<UInt64> = []
    }

    private let state = Mutex(State())

    package init() {}

    package var processed: UInt64 { state.withLock { $0.processed } }

    /// Records `count` more handled spans and wakes the waiters whose target is reached.
    package func advance(by count: Int) {
        let ready: [CheckedContinuation<Void, Never>] = state.withLock { state in
            state.processed += UInt64(count)
            let processed = state.processed
            let readyIDs = state.waiters.filter { $0.value.target <= processed }.map(\.key)
            return readyIDs.compactMap { state.waiters.removeValue(forKey: $0)?.continuation }
        }
        for continuation in ready { continuation.resume() }
    }

    /// Waits until `target` spans have been handled or `timeout` passes; true if the target was reached.
    package func wait(until target: UInt64, timeout: Duration) async -> Bool {
        if processed >= target { return true }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.waitUntilProcessed(target)
                return !Task.isCancelled || self.processed >= target
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first || processed >= target
        }
    }

    private func waitUntilProcessed(_ target: UInt64) async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.processed >= target || state.cancelledWaiterIDs.remove(id) != nil { return true }
                    state.waiters[id] = Waiter(target: target, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if let waiter = state.waiters.removeValue(forKey: id) { return waiter.continuation }
                if state.processed < target { state.cancelledWaiterIDs.insert(id) }
                return nil
            }
            continuation?.resume()
        }
    }
}

/// A first-in, first-out lock for async code: only one holder at a time, even across suspension points.
/// Exporters are never called concurrently, as the OpenTelemetry specification requires.
final class AsyncExclusiveAccess: Sendable {
    private struct State {
        var isHeld = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func withExclusiveAccess<T>(_ body: () async throws -> T) async rethrows -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { state -> Bool in
                if state.isHeld {
                    state.waiters.append(continuation)
                    return false
                }
                state.isHeld = true
                return true
            }
            if acquired { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.isHeld = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}

/// Runs `operation`, giving up after `timeout`: it is then cancelled and left to finish on its own, and nil
/// is returned. Returns on time even when the operation ignores cancellation.
package func withTimeout<T: Sendable>(
    _ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T? {
    let outcome = OneShotOutcome<T>()
    let work = Task {
        do {
            outcome.resolve(.success(try await operation()))
        } catch {
            outcome.resolve(.failure(error))
        }
    }
    let timer = Task {
        try await Task.sleep(for: timeout)
        if outcome.resolve(.success(nil)) { work.cancel() }
    }
    defer { timer.cancel() }
    return try await withTaskCancellationHandler {
        try await outcome.value()
    } onCancel: {
        work.cancel()
    }
}

/// A result that the first of several racing tasks sets, and one waiter reads.
final class OneShotOutcome<T: Sendable>: Sendable {
    private struct State {
        var result: Result<T?, any Error>?
        var waiter: CheckedContinuation<T?, any Error>?
    }

    private let state = Mutex(State())

    /// Sets the result if none is set yet; returns whether this call set it.
    @discardableResult
    func resolve(_ result: Result<T?, any Error>) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<T?, any Error>?) in
            guard state.result == nil else { return (false, nil) }
            state.result = result
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume(with: result)
        return accepted
    }

    func value() async throws -> T? {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<T?, any Error>? in
                if let result = state.result { return result }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
