/// Runs `operation`, giving up after `timeout`: it is then cancelled and left to finish on its own, and nil
/// is returned. Returns on time even when the operation ignores cancellation; a cancelled caller cancels it and
/// waits for its answer.
package func withTimeout<T: Sendable>(
    _ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T? {
    let outcome = Completion<Result<T, any Error>>()
    let work = Task {
        do {
            outcome.complete(.success(try await operation()))
        } catch {
            outcome.complete(.failure(error))
        }
    }
    let result = await withTaskCancellationHandler {
        await outcome.wait(timeout: timeout, honoringCancellation: false)
    } onCancel: {
        work.cancel()
    }
    guard let result else {
        work.cancel()
        return nil
    }
    return try result.get()
}
