import Foundation
import Synchronization

/// What forwarding has done since the viewer started, per signal, for `/api/otter/status` and the status page. What
/// is still queued and what retention deleted before it was sent come from the store (``ForwardProgress``), so they
/// survive restarts.
package final class ForwardingStatus: Sendable {
    package struct Counters: Sendable, Equatable {
        /// Spans or log records upstream accepted.
        package var sent: Int64 = 0
        /// Refused by upstream in a partial success.
        package var rejected: Int64 = 0
        /// Given up on: upstream refused the request for good (a permanent error).
        package var dropped: Int64 = 0
        /// Not sent because their trace matched no filter.
        package var filteredOut: Int64 = 0
        /// Attempts that failed and were tried again.
        package var retries: Int64 = 0
        package var lastError: String?
        package var lastErrorAtNanoseconds: UInt64?
        package var lastSentAtNanoseconds: UInt64?
    }

    private let counters = Mutex([ForwardedSignal: Counters]())

    package init() {}

    package func update(_ signal: ForwardedSignal, _ change: (inout Counters) -> Void) {
        counters.withLock { change(&$0[signal, default: Counters()]) }
    }

    package func counters(_ signal: ForwardedSignal) -> Counters {
        counters.withLock { $0[signal] ?? Counters() }
    }
}
