import Synchronization

/// Makes new trace and span ids. Implement it to control ids (tests, X-Ray style time-prefixed ids).
public protocol IDGenerator: Sendable {
    /// A new, valid (non-zero) trace id.
    func newTraceID() -> TraceID
    /// A new, valid (non-zero) span id.
    func newSpanID() -> SpanID
    /// True when at least the right-most 7 bytes of every trace id are random: root spans then carry W3C Trace
    /// Context level 2's random-trace-id flag. False unless a generator says so.
    var makesRandomTraceIDs: Bool { get }
}

extension IDGenerator {
    /// False: a generator claims random trace ids only by implementing this itself.
    public var makesRandomTraceIDs: Bool { false }
}

/// Random non-zero ids from a lock-free SplitMix64 stream seeded by the system's secure generator.
///
/// Ids are random enough for sampling and uniqueness (W3C's "random trace id" flag), not for secrets.
public final class RandomIDGenerator: IDGenerator {
    private let state: Atomic<UInt64>

    /// Seeds the stream from `SystemRandomNumberGenerator`.
    public init() {
        var system = SystemRandomNumberGenerator()
        state = Atomic(system.next())
    }

    /// Seeds the stream with a fixed value, for reproducible tests.
    public init(seed: UInt64) {
        state = Atomic(seed)
    }

    @inline(__always)
    private func next() -> UInt64 {
        while true {
            let increment: UInt64 = 0x9E37_79B9_7F4A_7C15
            var z = state.wrappingAdd(increment, ordering: .relaxed).newValue
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z = z ^ (z >> 31)
            if z != 0 { return z }
        }
    }

    /// A trace id of two random, non-zero 8-byte halves; safe to call from any thread.
    public func newTraceID() -> TraceID {
        TraceID(high: next(), low: next())
    }

    /// Its trace ids are random (seeded from the system's secure generator, or a seed given for tests).
    public var makesRandomTraceIDs: Bool { true }

    /// A random, non-zero span id; safe to call from any thread.
    public func newSpanID() -> SpanID {
        SpanID(next())
    }
}
