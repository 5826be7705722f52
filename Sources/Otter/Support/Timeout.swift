import Synchronization

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
