import Synchronization

/// A value that one party sets once and any number of others wait for, each with a timeout and, if it asks, giving
/// up when its task is cancelled. A waiter that gives up leaves nothing behind: no task waits on its behalf.
package final class Completion<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var nextWaiterID: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Value?, Never>] = [:]
        /// Waiters that gave up before they started waiting.
        var givenUp: Set<UInt64> = []
    }

    private let state = Mutex(State())

    package init() {}

    /// The value, if it has been set.
    package var value: Value? { state.withLock { $0.value } }

    /// Sets the value (the first call wins) and wakes every waiter.
    package func complete(_ value: Value) {
        let waiters = state.withLock { state -> [CheckedContinuation<Value?, Never>] in
            guard state.value == nil else { return [] }
            state.value = value
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    /// The value once set; nil when `timeout` (nil: none) passes first, or when the calling task is cancelled
    /// and `honoringCancellation`.
    package func wait(timeout: Duration?, honoringCancellation: Bool) async -> Value? {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        let timer = timeout.map { timeout in
            Task<Void, Never> {
                do { try await ContinuousClock().sleep(for: timeout) } catch { return }
                self.giveUp(id)
            }
        }
        defer { timer?.cancel() }
        guard honoringCancellation else { return await waitForValue(id) }
        return await withTaskCancellationHandler {
            await waitForValue(id)
        } onCancel: {
            self.giveUp(id)
        }
    }

    private func waitForValue(_ id: UInt64) async -> Value? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
            let registration = state.withLock { state -> Registration in
                if let value = state.value {
                    state.givenUp.remove(id)
                    return .ready(value)
                }
                if state.givenUp.remove(id) != nil { return .givenUp }
                state.waiters[id] = continuation
                return .waiting
            }
            switch registration {
            case .ready(let value): continuation.resume(returning: value)
            case .givenUp: continuation.resume(returning: nil)
            case .waiting: break
            }
        }
    }

    private enum Registration {
        case ready(Value)
        case givenUp
        case waiting
    }

    private func giveUp(_ id: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Value?, Never>? in
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            if state.value == nil { state.givenUp.insert(id) }
            return nil
        }
        waiter?.resume(returning: nil)
    }
}
