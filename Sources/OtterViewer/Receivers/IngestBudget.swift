import Synchronization

/// Bounds the request bytes the receivers hold at once (bodies being read, decompressed and decoded), so that a burst
/// of requests is pushed back instead of growing memory without bound: past the budget, OTLP/HTTP answers 429 with
/// `Retry-After` and OTLP/gRPC UNAVAILABLE, which OTLP exporters retry. A request is always admitted when nothing
/// else is in flight, so one as large as the request limit still gets through.
package final class IngestBudget: Sendable {
    /// What a request is reserved for, per byte of its (decompressed) size: decoded, a span takes up to about 20 times
    /// its protobuf bytes (a minimal span of 51 bytes about 1 KB), and a request's spans stay decoded until the store
    /// has committed them. Measured with `scripts/overload.py`: 200 concurrent 2 MB requests of minimal spans peaked
    /// at 7.8 GB when the budget counted wire bytes.
    package static let reservedBytesPerRequestByte = 16

    package let limitBytes: Int
    private let used = Atomic<Int>(0)

    package init(limitBytes: Int) {
        self.limitBytes = max(1, limitBytes)
    }

    /// Bytes held now, for tests and diagnostics.
    package var usedBytes: Int { used.load(ordering: .relaxed) }

    /// A reservation of `bytes`, released when it is deinitialized; nil when the budget has no room.
    package func reserve(_ bytes: Int) -> Reservation? {
        let bytes = max(0, bytes)
        var current = used.load(ordering: .relaxed)
        while true {
            guard current == 0 || current <= limitBytes - min(bytes, limitBytes) else { return nil }
            let (exchanged, original) = used.compareExchange(
                expected: current, desired: current + bytes, ordering: .acquiringAndReleasing)
            if exchanged { return Reservation(budget: self, bytes: bytes) }
            current = original
        }
    }

    /// Held bytes; released when the last reference goes away (whatever path the request took).
    package final class Reservation: Sendable {
        let budget: IngestBudget
        let bytes: Int

        init(budget: IngestBudget, bytes: Int) {
            self.budget = budget
            self.bytes = bytes
        }

        deinit { budget.used.subtract(bytes, ordering: .acquiringAndReleasing) }
    }
}
