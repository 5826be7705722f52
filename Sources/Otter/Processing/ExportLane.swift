import Instrumentation
import Logging
import Synchronization

/// What tells the SDK's own work apart from the application's: the lanes' tasks run with no current span (an
/// instrumented HTTP client inside an exporter must not report into the application's trace) and marked as
/// exporting, so that ``OtterLogHandler`` drops what is logged there (an exporter's or the lane's own warning about a
/// failed export would otherwise become a record to export, and feed itself).
package enum ExportContext {
    @TaskLocal package static var isExporting = false

    static func outsideTheApplication<Result: Sendable>(_ work: () async -> Result) async -> Result {
        await InstrumentationContext.$current.withValue(nil) {
            await $isExporting.withValue(true) { await work() }
        }
    }
}

/// The calls a lane makes to one exporter (of spans or of log records), and how its log lines name what it exports.
struct ExportTarget<Item: Sendable>: Sendable {
    let export: @Sendable ([Item]) async throws -> Void
    let forceFlush: @Sendable () async throws -> Void
    let shutdown: @Sendable () async -> Void
    /// What is exported, capitalised for the start of a log line: "Span", "Log record".
    let itemName: String
    /// The metadata key that counts them in log lines: "otter.spans", "otter.log_records".
    let countKey: String
}

extension ExportTarget where Item == ReadOnlySpan {
    static func spans(_ exporter: any SpanExporter) -> Self {
        Self(
            export: { try await exporter.export($0.map(\.finishedSpan)) }, forceFlush: { try await exporter.forceFlush() },
            shutdown: { await exporter.shutdown() }, itemName: "Span", countKey: "otter.spans")
    }
}

/// The one file that a processor's calls to its exporter go through, for spans and log records alike: exports run
/// one at a time and in order (the OpenTelemetry specification: `Export` is never called concurrently), each bounded
/// by the export timeout, and `shutdown` runs after the last of them and never under one.
///
/// An export that outlives its timeout is cancelled and then awaited: the next export waits for it, so an exporter
/// that ignores cancellation backs the queue up (items are then dropped and counted) instead of piling up calls.
/// The lane's work runs in tasks of its own, with no current span (an instrumented HTTP client inside an exporter
/// must not report into the application's trace): a caller waits for them only as long as it wants to, and a
/// cancelled caller (a `ServiceGroup` shutting down) neither stops them nor waits for a stuck exporter.
final class ExportLane<Item: Sendable>: Sendable {
    private struct State {
        var isHeld = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var isExporterShutDown = false
        /// A flush waiting for its turn: later flushes join it (it exports everything queued when its turn comes),
        /// so flushes against a stuck exporter cost nothing each.
        var pendingFlush: Completion<Bool>?
        /// Set by the first shutdown; later ones wait for it too.
        var finished: Completion<Void>?
    }

    private let target: ExportTarget<Item>
    /// Longest one export may run before it is cancelled; nil: no limit.
    let exportTimeout: Duration?
    /// Items handed to the exporter so far, and whether they were delivered.
    let progress = ProgressTracker()
    private let state = Mutex(State())
    private let logger: Logger

    init(target: ExportTarget<Item>, exportTimeout: Duration?, logger: Logger) {
        self.target = target
        self.exportTimeout = exportTimeout
        self.logger = logger
    }

    /// In a task of the lane's, takes a turn (callers take turns in the order they arrive), calls `onTurn`, and
    /// exports the batches `nextBatch` gives, one at a time, until it gives an empty one. `nextBatch` runs inside
    /// the turn, so what one turn takes is exported before what the next takes. After the exporter has been shut
    /// down, batches count as failed without an export. The completion is set when the turn ends.
    @discardableResult
    func exportBatches(
        onTurn: @escaping @Sendable () -> Void = {}, _ nextBatch: @escaping @Sendable () -> [Item]
    ) -> Completion<Void> {
        let done = Completion<Void>()
        Task {
            await ExportContext.outsideTheApplication {
                await self.takeTurn()
                onTurn()
                await self.exportAll(nextBatch)
                self.endTurn()
            }
            done.complete(())
        }
        return done
    }

    /// Waits until the first `target` items ever queued have been handed to the exporter and the exporter has
    /// flushed what it buffers (a turn exports what `nextBatch` gives first), or `timeout` passes, or the calling task
    /// is cancelled. True when all of those items were delivered and the exporter's flush succeeded.
    func forceFlush(through target: UInt64, timeout: Duration, _ nextBatch: @escaping @Sendable () -> [Item]) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        let ticket = progress.ticket(through: target)
        let flush = state.withLock { state -> Completion<Bool> in
            if let pending = state.pendingFlush { return pending }
            let flush = self.flush(onTurn: { self.state.withLock { $0.pendingFlush = nil } }, nextBatch)
            state.pendingFlush = flush
            return flush
        }
        let exported = await progress.wait(for: ticket, timeout: timeout, honoringCancellation: true)
        guard exported else { return false }
        let remaining = ContinuousClock.now.duration(to: deadline)
        return await flush.wait(timeout: max(remaining, .zero), honoringCancellation: true) ?? false
    }

    /// Exports what `nextBatch` still gives, flushes the exporter, then shuts it down, in one turn; the first call
    /// starts that, every call waits for it at most `timeout`, even when the calling task is cancelled. False when
    /// the timeout passed first (the work then finishes in the background).
    func shutDown(timeout: Duration, _ nextBatch: @escaping @Sendable () -> [Item]) async -> Bool {
        let finished = state.withLock { state -> Completion<Void> in
            if let finished = state.finished { return finished }
            let finished = finish(nextBatch)
            state.finished = finished
            return finished
        }
        return await finished.wait(timeout: timeout, honoringCancellation: false) != nil
    }

    /// In a task of the lane's: exports what `nextBatch` still gives, flushes the exporter, then shuts it down, all
    /// in one turn. The completion is set when that is done.
    private func finish(_ nextBatch: @escaping @Sendable () -> [Item]) -> Completion<Void> {
        let done = Completion<Void>()
        Task {
            await ExportContext.outsideTheApplication {
                await self.takeTurn()
                await self.exportAll(nextBatch)
                _ = await self.flushExporterInTurn()
                await self.shutDownExporterInTurn()
                self.endTurn()
            }
            done.complete(())
        }
        return done
    }

    /// In a task of the lane's: exports what `nextBatch` gives, then asks the exporter to flush what it buffers, in
    /// one turn. The completion says whether the exporter's flush succeeded; `onTurn` runs when the turn begins.
    private func flush(
        onTurn: @escaping @Sendable () -> Void = {}, _ nextBatch: @escaping @Sendable () -> [Item]
    ) -> Completion<Bool> {
        let done = Completion<Bool>()
        Task {
            let flushed = await ExportContext.outsideTheApplication {
                await self.takeTurn()
                onTurn()
                await self.exportAll(nextBatch)
                let flushed = await self.flushExporterInTurn()
                self.endTurn()
                return flushed
            }
            done.complete(flushed)
        }
        return done
    }

    private func exportAll(_ nextBatch: () -> [Item]) async {
        while true {
            let batch = nextBatch()
            if batch.isEmpty { return }
            let exported = await export(batch)
            progress.advance(by: batch.count, failed: !exported)
        }
    }

    /// The exporter's own flush, bounded like an export; false when it threw, timed out, or the exporter is shut
    /// down.
    private func flushExporterInTurn() async -> Bool {
        guard !state.withLock({ $0.isExporterShutDown }) else { return false }
        let flush = target.forceFlush
        let (result, timedOut) = await bounded { try await flush() }
        switch result {
        case .success where !timedOut:
            return true
        case .success, .failure:
            logger.warning("\(target.itemName) exporter flush failed", metadata: ["error": "\(timedOut ? "timed out" : "\(result)")"])
            return false
        }
    }

    /// The exporter's shutdown, after the last export, bounded like an export (and cancelled at the bound).
    private func shutDownExporterInTurn() async {
        state.withLock { $0.isExporterShutDown = true }
        let shutdown = target.shutdown
        _ = await bounded { await shutdown() }
    }

    /// One export, bounded. True when it succeeded in time.
    private func export(_ batch: [Item]) async -> Bool {
        guard !state.withLock({ $0.isExporterShutDown }) else { return false }
        let export = target.export
        let (result, timedOut) = await bounded { try await export(batch) }
        switch result {
        case .success where !timedOut:
            return true
        case .success, .failure:
            // An export that outlived its timeout counts as failed, whatever it returned in the end.
            if timedOut {
                logger.warning(
                    "\(target.itemName) export timed out",
                    metadata: [target.countKey: "\(batch.count)", "otter.timeout": "\(exportTimeout.map { "\($0)" } ?? "none")"])
            } else if case .failure(let error) = result {
                logger.warning("\(target.itemName) export failed", metadata: [target.countKey: "\(batch.count)", "error": "\(error)"])
            }
            return false
        }
    }

    /// Runs `operation` in a task of its own, cancels it at the export timeout, and waits for it to end whatever
    /// happens (the exporter is never called twice at once). Returns its result and whether the timeout passed.
    private func bounded(_ operation: @escaping @Sendable () async throws -> Void) async -> (Result<Void, any Error>, Bool) {
        let work = Task { try await operation() }
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
        return (result, timedOut)
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
