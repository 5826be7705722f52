import Synchronization

/// Bounds what requests hold in memory at once, in a unit each user chooses, so that a burst is pushed back instead of
/// growing memory without bound. The receivers count request bytes (past the budget OTLP/HTTP answers 429 with
/// `Retry-After` and OTLP/gRPC UNAVAILABLE, which OTLP exporters retry); `/api/otter/traces/{id}` counts the
/// estimated bytes of the models' spans it is writing (past it, 503 with `Retry-After`). A request is always admitted
/// when nothing else is in flight, so one as large as its own limit still gets through.
package final class MemoryBudget: Sendable {
    package let limit: Int
    private let held = Atomic<Int>(0)

    package init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// What is held now, for tests and diagnostics.
    package var used: Int { held.load(ordering: .relaxed) }

    /// A reservation of `amount`, released when it is deinitialized; nil when the budget has no room.
    package func reserve(_ amount: Int) -> Reservation? {
        let amount = max(0, amount)
        var current = held.load(ordering: .relaxed)
        while true {
            guard current == 0 || current <= limit - min(amount, limit) else { return nil }
            let (exchanged, original) = held.compareExchange(
                expected: current, desired: current + amount, ordering: .acquiringAndReleasing)
            if exchanged { return Reservation(budget: self, amount: amount) }
            current = original
        }
    }

    /// A held amount; released when the last reference goes away (whatever path the request took).
    package final class Reservation: Sendable {
        let budget: MemoryBudget
        let amount: Int

        init(budget: MemoryBudget, amount: Int) {
            self.budget = budget
            self.amount = amount
        }

        deinit { budget.held.subtract(amount, ordering: .acquiringAndReleasing) }
    }
}
