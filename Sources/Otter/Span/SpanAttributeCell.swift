import Synchronization
import Tracing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A span's attributes behind a lock that can be held across a `yield` (a spin lock that its holding thread may
/// take again), so `span.attributes[key] = value`
/// changes them in place: no copy of the dictionary, and a coroutine frame small enough that `any Span` does not
/// allocate one (a `Mutex` can only be held inside a closure, which cannot yield).
///
/// A recording span's storage is a cell; an unsampled ``OtterSpan`` made through the typed API gets a frozen cell
/// of its own, which drops what is written to it. Once frozen (the span ended), the attributes are final:
/// ``attributes`` reads them, and writes land in a scratch value that is dropped when the write ends.
///
/// Do not pass `span.attributes` `inout` to an `async` function: the lock would be held across the suspension.
class SpanAttributeCell: @unchecked Sendable {
    /// The thread holding the lock (its `pthread_self`), or 0.
    private let owner = Atomic<UInt>(0)
    /// How many times the owner holds the lock: a thread that comes back to the same span while it changes the
    /// attributes (a `SpanAttributeConvertible` that reads the span, or ends it) goes on instead of waiting for
    /// itself forever.
    @exclusivity(unchecked) private final var depth = 0
    /// The attributes while the span records; after ``freeze()``, scratch for writes that come too late.
    @exclusivity(unchecked) final var liveAttributes: SpanAttributes
    @exclusivity(unchecked) private final var finalAttributes = SpanAttributes()
    @exclusivity(unchecked) private(set) final var isFrozen: Bool
    @exclusivity(unchecked) final var droppedAttributesCount = 0

    init(attributes: SpanAttributes, frozen: Bool) {
        liveAttributes = attributes
        isFrozen = frozen
    }

    @inline(__always)
    private static var currentThread: UInt {
        #if canImport(Darwin)
        UInt(bitPattern: pthread_self())
        #else
        UInt(pthread_self())
        #endif
    }

    @inline(__always)
    final func lock() {
        let me = Self.currentThread
        if owner.load(ordering: .relaxed) == me {
            depth += 1
            return
        }
        while !owner.compareExchange(expected: 0, desired: me, ordering: .acquiring).exchanged {
            sched_yield()
        }
        depth = 1
    }

    @inline(__always)
    final func unlock() {
        depth -= 1
        if depth == 0 { owner.store(0, ordering: .releasing) }
    }

    /// Takes the lock for a change through ``liveAttributes``; the first change makes room for a few attributes
    /// (one allocation instead of one per growth step).
    final func beginChange() {
        lock()
        if liveAttributes.isEmpty, !isFrozen {
            liveAttributes = SpanAttributes([String: SpanAttribute](minimumCapacity: 8))
        }
    }

    /// Ends a change begun with ``beginChange()``: applies the limits, or drops the change if the cell is frozen.
    final func endChange() {
        if depth == 1 {
            if isFrozen {
                liveAttributes = SpanAttributes()
            } else {
                droppedAttributesCount += limitAttributes(&liveAttributes)
            }
        }
        unlock()
    }

    /// Cuts `attributes` to the span limits; returns how many were dropped. A frozen cell has no limits to apply.
    func limitAttributes(_ attributes: inout SpanAttributes) -> Int { 0 }

    /// The attributes: final once frozen.
    final var attributes: SpanAttributes {
        lock()
        defer { unlock() }
        return isFrozen ? finalAttributes : liveAttributes
    }

    /// Replaces the attributes, unless frozen.
    final func replaceAttributes(_ newValue: SpanAttributes) {
        lock()
        defer { unlock() }
        guard !isFrozen else { return }
        var attributes = newValue
        droppedAttributesCount += limitAttributes(&attributes)
        liveAttributes = attributes
    }

    /// Makes the attributes final.
    final func freeze() {
        lock()
        defer { unlock() }
        guard !isFrozen else { return }
        isFrozen = true
        swap(&finalAttributes, &liveAttributes)
    }

    /// The final attributes and how many were dropped, for a frozen cell.
    final var frozenAttributes: (SpanAttributes, dropped: Int) {
        lock()
        defer { unlock() }
        return (isFrozen ? finalAttributes : liveAttributes, droppedAttributesCount)
    }
}
