import Logging
import Synchronization

/// Exports each sampled span as it ends, one at a time and in order. Meant for the console and for tests;
/// use ``BatchSpanProcessor`` for network exporters.
///
/// `onEnd` does not wait for the export: spans go to a bounded list that one task at a time drains, so the
/// caller never blocks. ``forceFlush(timeout:)`` waits until every span ended before the call is exported.
public final class SimpleSpanProcessor: SpanProcessor {
    private struct State {
        var pending: [ReadOnlySpan] = []
        var enqueuedCount: UInt64 = 0
        var droppedCount: UInt64 = 0
        var isExporting = false
        var isShutdown = false
    }

    public let exporter: any SpanExporter
    /// Most spans waiting for export; more are dropped and counted.
    public let maximumPendingCount: Int
    private let state = Mutex(State())
    private let progress = ProgressTracker()
    private let logger: Logger

    public init(
        exporter: any SpanExporter,
        maximumPendingCount: Int = 2048,
        logger: Logger = Logger(label: "otter.simple-span-processor")
    ) {
        self.exporter = exporter
        self.maximumPendingCount = maximumPendingCount
        self.logger = logger
    }

    /// Spans dropped because too many were waiting or the processor was shut down.
    public var droppedSpanCount: UInt64 { state.withLock { $0.droppedCount } }

    public func onEnd(_ span: ReadOnlySpan) {
        guard span.isSampled else { return }
        let startExporting = state.withLock { state -> Bool in
            guard !state.isShutdown, state.pending.count < maximumPendingCount else {
                state.droppedCount += 1
                return false
            }
            state.pending.append(span)
            state.enqueuedCount += 1
            guard !state.isExporting else { return false }
            state.isExporting = true
            return true
        }
        if startExporting {
            Task { await self.exportPending() }
        }
    }

    private func exportPending() async {
        while true {
            let batch = state.withLock { state -> [ReadOnlySpan] in
                if state.pending.isEmpty {
                    state.isExporting = false
                    return []
                }
                defer { state.pending.removeAll(keepingCapacity: true) }
                return state.pending
            }
            if batch.isEmpty { return }
            for span in batch {
                do {
                    try await exporter.export([span.finishedSpan])
                } catch {
                    logger.warning("Span export failed", metadata: ["error": "\(error)"])
                }
                progress.advance(by: 1)
            }
        }
    }

    @discardableResult
    public func forceFlush(timeout: Duration) async -> Bool {
        let target = state.withLock { $0.enqueuedCount }
        let flushed = await progress.wait(until: target, timeout: timeout)
        try? await exporter.forceFlush()
        return flushed
    }

    public func shutdown(timeout: Duration) async {
        let alreadyShutdown = state.withLock { state -> Bool in
            defer { state.isShutdown = true }
            return state.isShutdown
        }
        guard !alreadyShutdown else { return }
        await forceFlush(timeout: timeout)
        await exporter.shutdown()
    }
}
