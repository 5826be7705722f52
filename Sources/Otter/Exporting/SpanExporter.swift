/// Sends finished spans somewhere: the console, an OTLP endpoint, memory. Implement it to add a destination.
///
/// Processors never call `export` concurrently, and they bound each call by their export timeout (cancelling
/// the task), so an exporter should honour task cancellation.
public protocol SpanExporter: Sendable {
    /// Delivers one batch. Throw to report a failed delivery; the processor logs it and moves on.
    func export(_ batch: [FinishedSpan]) async throws
    /// Delivers anything the exporter itself buffers.
    func forceFlush() async throws
    /// Releases the exporter's resources; later exports may fail.
    func shutdown() async
}

extension SpanExporter {
    /// Returns at once: an exporter that buffers nothing leaves `forceFlush` out.
    public func forceFlush() async throws {}
    /// Does nothing: an exporter with nothing to release leaves `shutdown` out.
    public func shutdown() async {}
}

/// Keeps exported spans in memory, for tests and for reading spans back in-process.
public final class InMemorySpanExporter: SpanExporter {
    private let storage = LockedValue<[FinishedSpan]>([])
    private let shutdownState = LockedValue(false)

    /// Makes an empty exporter.
    public init() {}

    /// Appends the batch to ``exportedSpans``; never throws, and keeps accepting spans after ``shutdown()``.
    public func export(_ batch: [FinishedSpan]) async throws {
        storage.withValue { $0.append(contentsOf: batch) }
    }

    /// Sets ``isShutdown``; the spans exported so far stay readable.
    public func shutdown() async {
        shutdownState.withValue { $0 = true }
    }

    /// Every span exported so far, in export order.
    public var exportedSpans: [FinishedSpan] { storage.withValue { $0 } }

    /// True once `shutdown` was called.
    public var isShutdown: Bool { shutdownState.withValue { $0 } }

    /// Forgets the spans exported so far.
    public func reset() {
        storage.withValue { $0.removeAll() }
    }
}
