import Logging
import Synchronization

/// The one file that a processor's calls to its exporter go through: exports run one at a time and in order (the
/// OpenTelemetry specification: `Export` is never called concurrently), each bounded by the export timeout, and
/// `shutdown` runs after the last of them and never under one.
///
/// An export that outlives its timeout is cancelled and then awaited: the next export waits for it, so an exporter
/// that ignores cancellation backs the queue up (spans are then dropped and counted) instead of piling up calls.
/// Exports run in a task of their own, so a processor whose task is cancelled (a `ServiceGroup` shutting down) still
/// delivers what it holds within its timeouts.
final class SpanExportLane: Sendable {
    private struct State {
        var isHeld = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var isExporterShutDown = false
    }

    let exporter: any SpanExporter
    /// Longest one export may run before it is cancelled; nil: no limit.
    let exportTimeout: Duration?
    /// Spans handed to the exporter so far, and whether they were delivered.
    let progress = ProgressTracker()
    private let state = Mutex(State())
    private let logger: Logger

    init(exporter: any SpanExporter, exportTimeout: Duration?, logger: Logger) {
        self.exporter = exporter
        self.exportTimeout = exportTimeout
        self.logger = logger
    }

    /// Exports the batches `nextBatch` gives, one at a time, until it gives an empty one. Callers take turns in the
    /// order they arrive; `nextBatch` runs inside the turn, so what one caller takes is exported before what the
    /// next takes. After the exporter has been shut down, batches are counted as failed without an export.
    func exportBatches(_ nextBatch: () -> [ReadOnlySpan]) async {
        await takeTurn()
        defer { endTurn() }
        while true {
            let batch = nextBatch()
            if batch.isEmpty { return }
            let exported = await export(batch.map(\.finishedSpan))
            progress.advance(by: batch.count, failed: !exported)
        }
    }

    /// Exports what `nextBatch` still gives, asks the exporter to flush what it buffers, then shuts it down; the
    /// task ends when all of that has. Later exports are counted as failed.
    func finish(_ nextBatch: @escaping @Sendable () -> [ReadOnlySpan]) -> Task<Void, Never> {
        Task {
            await exportBatches(nextBatch)
            await takeTurn()
            defer { endTurn() }
            let exporter = self.exporter
            do { try await exporter.forceFlush() } catch { logger.warning("Span exporter flush failed", metadata: ["error": "\(error)"]) }
            state.withLock { $0.isExporterShutDown = true }
            await exporter.shutdown()
        }
    }

    /// Asks the exporter to flush what it buffers, in turn with the exports.
    func flushExporter() async {
        await takeTurn()
        defer { endTurn() }
        guard !state.withLock({ $0.isExporterShutDown }) else { return }
        do { try await exporter.forceFlush() } catch { logger.warning("Span exporter flush failed", metadata: ["error": "\(error)"]) }
    }

    /// One export, in a task of its own, cancelled at the timeout and awaited to its end. True when it succeeded.
    private func export(_ batch: [FinishedSpan]) async -> Bool {
        guard !state.withLock({ $0.isExporterShutDown }) else { return false }
        let exporter = self.exporter
        let work = Task { try await exporter.export(batch) }
        let timer: Task<Bool, Never>? = exportTimeout.map { timeout in
            Task {
                do { try await Task.sleep(for: timeout) } catch { return false }
                work.cancel()
                return true
            }
        }
        let result = await work.result
        timer?.cancel()
        let timedOut = await timer?.value ?? false
        switch result {
        case .success where !timedOut:
            return true
        case .success:
            logger.warning(
                "Span export timed out",
                metadata: ["otter.spans": "\(batch.count)", "otter.timeout": "\(exportTimeout.map { "\($0)" } ?? "none")"])
        case .failure(let error):
            if timedOut {
                logger.warning(
                    "Span export timed out",
                    metadata: ["otter.spans": "\(batch.count)", "otter.timeout": "\(exportTimeout.map { "\($0)" } ?? "none")"])
            } else {
                logger.warning("Span export failed", metadata: ["otter.spans": "\(batch.count)", "error": "\(error)"])
            }
        }
        return false
    }

    private func takeTurn() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { state -> Bool in
                if state.isHeld {
                    state.waiters.append(continuation)
                    return false
                }
                state.isHeld = true
                return true
            }
            if acquired { continuation.resume() }
        }
    }

    private func endTurn() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.isHeld = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
