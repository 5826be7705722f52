import Foundation
import Logging
import Otter
import OtterOTLP
import ServiceLifecycle
import Tracing

/// Sends on, after the local commit and never in the ingest path, every span and log record the viewer stores: it
/// reads the store's blocks in arrival order after the last one upstream acknowledged and sends them as OTLP
/// requests. Retryable failures (an upstream that is down, busy or slow) are retried with exponential backoff and
/// jitter for as long as it takes, the data waiting in the store; a request upstream refuses for good is skipped with
/// a log line and counted. Delivery is at least once: blocks sent but not yet marked when the viewer stopped are sent
/// again after a restart.
package struct ForwardingService: Service {
    let queue: any ForwardingQueue
    let configuration: ForwardingConfiguration
    let status: ForwardingStatus
    let logger: Logger
    /// How often an idle forwarder looks for new blocks.
    let pollInterval: Duration
    /// The longest wait between retries.
    let maximumBackoff: Duration

    package init(
        queue: any ForwardingQueue, configuration: ForwardingConfiguration, status: ForwardingStatus, logger: Logger,
        pollInterval: Duration = .milliseconds(100), maximumBackoff: Duration = .seconds(30)
    ) {
        self.queue = queue
        self.configuration = configuration
        self.status = status
        self.logger = logger
        self.pollInterval = pollInterval
        self.maximumBackoff = maximumBackoff
    }

    package func run() async throws {
        let forwarder = try OTLPRequestForwarder(configuration: configuration.upstream)
        await withTaskGroup(of: Void.self) { group in
            for signal in ForwardedSignal.allCases {
                group.addTask { await forward(signal, with: forwarder) }
            }
            await group.waitForAll()
        }
        await forwarder.shutdown()
    }

    /// Whether the service should stop: at shutdown it stops after the request in flight (the rest waits in the store).
    var isStopping: Bool { Task.isCancelled || Task.isShuttingDownGracefully }

    func pause(_ duration: Duration) async {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    }

    func forward(_ signal: ForwardedSignal, with forwarder: OTLPRequestForwarder) async {
        var mark: Int64?
        var backoff = Duration.milliseconds(500)
        var decisions = FilterDecisions(wait: configuration.decisionWait)
        while !isStopping {
            do {
                let acknowledged: Int64
                if let mark {
                    acknowledged = mark
                } else {
                    acknowledged = try await queue.startForwarding(signal).acknowledgedBlockID
                    mark = acknowledged
                }
                let filtering = signal == .spans && !configuration.filters.isEmpty
                // Every block is seen (its decision wait starts) within a poll of its arrival, not when a batch reaches it:
                // a backlog is decided as it ages, so filtered forwarding keeps up with ingest.
                if filtering { decisions.saw(try await queue.newestBlockID(signal)) }
                guard var batch = try await queue.forwardBatch(signal, after: acknowledged, maximumBytes: configuration.maximumRequestBytes)
                else {
                    await pause(pollInterval)
                    continue
                }
                if filtering {
                    guard let ready = decisions.ready(batch) else {
                        await pause(pollInterval)
                        continue
                    }
                    batch = ready
                }
                // A block that could not be read back (damaged on disk) cannot be sent: its items are counted as dropped.
                let unreadable = batch.blocks.filter(\.request.isEmpty).reduce(0) { $0 + $1.itemCount }
                var requests = batch.requests
                var itemCount = batch.itemCount - unreadable
                var filteredOut = 0
                if filtering {
                    (requests, itemCount) = try await filtered(batch)
                    filteredOut = batch.itemCount - unreadable - itemCount
                }
                let delivered: Bool
                do {
                    // At shutdown the request in flight is abandoned rather than awaited (up to --forward-timeout): its
                    // blocks are not marked, so they go again after the restart (at least once).
                    delivered = try await cancelWhenGracefulShutdown { [requests, itemCount] in
                        try await send(requests, itemCount: itemCount, signal: signal, with: forwarder)
                    }
                } catch is CancellationError {
                    break
                }
                if delivered {
                    status.update(signal) { [filteredOut] in
                        $0.filteredOut += Int64(filteredOut)
                        if unreadable > 0 {
                            $0.dropped += Int64(unreadable)
                            $0.lastError = "\(unreadable) stored \(signal.rawValue) could not be read back (a damaged block); skipped"
                            $0.lastErrorAtNanoseconds = DefaultTracerClock.now.nanosecondsSinceEpoch
                        }
                    }
                    // The mark is written even when the service is being stopped: upstream has the batch, and a mark
                    // lost here would send it again after the restart.
                    let queue = queue
                    let last = batch.lastBlockID
                    try await Task { try await queue.acknowledgeForwarded(signal, through: last) }.value
                    mark = batch.lastBlockID
                    backoff = .milliseconds(500)
                } else {
                    status.update(signal) { $0.retries += 1 }
                    // Exponential backoff with full jitter: many viewers coming back at once do not retry in step.
                    await pause(backoff * Double.random(in: 0.5...1.0))
                    backoff = min(backoff * 2, maximumBackoff)
                }
            } catch {
                // The store could not be read (or the mark written): try again shortly.
                logger.warning("forwarding: cannot read the store", metadata: ["error": "\(error)"])
                await pause(.seconds(1))
            }
        }
    }

    /// Sends the batch; true when it is done with (delivered, or refused for good and counted), false to retry it.
    func send(_ requests: [[UInt8]], itemCount: Int, signal: ForwardedSignal, with forwarder: OTLPRequestForwarder) async throws -> Bool {
        guard itemCount > 0 else { return true }
        let request = requests.flatMap { $0 }  // Concatenated requests are one request with all their resources.
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch
        do {
            let receipt = try await forwarder.send(request, signal: signal == .spans ? .traces : .logs)
            // The count is the upstream's word: one outside 0...itemCount (negative, or more than was sent) is clamped.
            let rejected = min(max(receipt.rejected, 0), Int64(itemCount))
            status.update(signal) {
                $0.sent += Int64(itemCount) - rejected
                $0.rejected += rejected
                $0.lastSentAtNanoseconds = now
            }
            if receipt.rejected > 0 || !receipt.message.isEmpty {
                logger.warning(
                    "forwarding: upstream accepted the \(signal.rawValue) partially",
                    metadata: ["rejected": "\(receipt.rejected)", "of": "\(itemCount)", "message": "\(receipt.message)"])
            }
            return true
        } catch is OTLPExportError where isStopping {
            // The request was cancelled by the shutdown (an HTTP client reports that as a refusal): not delivered, not
            // refused; its blocks stay unmarked and go again after the restart.
            return false
        } catch let error as OTLPExportError where ForwardRequestSplit.isTooLarge(error) && itemCount > 1 {
            // Too large for the upstream as a whole: sent in halves (recursively), so only an item that is too large on
            // its own is dropped. A half that must be retried retries the batch: the halves sent before it go again.
            guard let halves = ForwardRequestSplit.halves(request, signal: signal) else {
                return drop(itemCount, signal, error, at: now)
            }
            logger.notice(
                "forwarding: upstream refused \(itemCount) \(signal.rawValue) as too large; sending them in halves",
                metadata: ["error": "\(error)"])
            for half in halves {
                guard try await send([half.bytes], itemCount: half.itemCount, signal: signal, with: forwarder) else { return false }
            }
            return true
        } catch let error as OTLPExportError {
            switch error {
            case .gaveUp:
                status.update(signal) {
                    $0.lastError = error.description
                    $0.lastErrorAtNanoseconds = now
                }
                logger.warning("forwarding: upstream unreachable, retrying", metadata: ["error": "\(error)"])
                return false
            case _ where Self.isConfigurationError(error):
                // Credentials or the URL are wrong, not the data: it waits in the store until the viewer is started right.
                status.update(signal) {
                    $0.lastError = error.description + " (check --forward and --forward-header; the data waits in the store)"
                    $0.lastErrorAtNanoseconds = now
                }
                logger.error("forwarding: upstream refuses the credentials or the URL; retrying", metadata: ["error": "\(error)"])
                return false
            case .rejected, .rejectedRPC, .requestTooLarge:
                return drop(itemCount, signal, error, at: now)
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            status.update(signal) {
                $0.lastError = "\(error)"
                $0.lastErrorAtNanoseconds = now
            }
            return false
        }
    }

    /// Counts and logs items the upstream refused for good; they are skipped (true: done with).
    func drop(_ itemCount: Int, _ signal: ForwardedSignal, _ error: OTLPExportError, at now: UInt64) -> Bool {
        status.update(signal) {
            $0.dropped += Int64(itemCount)
            $0.lastError = error.description
            $0.lastErrorAtNanoseconds = now
        }
        logger.error("forwarding: upstream refused \(itemCount) \(signal.rawValue) for good; skipped", metadata: ["error": "\(error)"])
        return true
    }

    /// A refusal that says the forwarding is set up wrong (authentication, permission, no such endpoint), not that the
    /// data is bad: retried instead of dropped.
    static func isConfigurationError(_ error: OTLPExportError) -> Bool {
        switch error {
        case .rejected(let status, _): [401, 403, 404, 405].contains(status)
        case .rejectedRPC(let code, _):
            ["unauthenticated", "permissiondenied", "permission denied", "unimplemented"].contains { code.lowercased().contains($0) }
        default: false
        }
    }

    /// The requests of the batch with only the spans of traces that match a filter (whole traces: decided on every
    /// stored span of the trace), and how many spans they hold.
    func filtered(_ batch: ForwardBatch) async throws -> (requests: [[UInt8]], itemCount: Int) {
        var requests: [OTLPExportTraceServiceRequest] = []
        var traceIDs = Set<TraceID>()
        for bytes in batch.requests {
            guard let request = try? OTLPExportTraceServiceRequest(serializedBytes: bytes) else { continue }
            for resource in request.resourceSpans {
                for scope in resource.scopeSpans {
                    for span in scope.spans { if let id = TraceID(bytes: span.traceID) { traceIDs.insert(id) } }
                }
            }
            requests.append(request)
        }
        let summaries = try await queue.summaries(Array(traceIDs))
        let kept = Set(summaries.filter(matches).map(\.traceID))
        var result: [[UInt8]] = []
        var count = 0
        for var request in requests {
            for resourceIndex in request.resourceSpans.indices {
                for scopeIndex in request.resourceSpans[resourceIndex].scopeSpans.indices {
                    request.resourceSpans[resourceIndex].scopeSpans[scopeIndex].spans.removeAll { span in
                        TraceID(bytes: span.traceID).map { !kept.contains($0) } ?? true
                    }
                    count += request.resourceSpans[resourceIndex].scopeSpans[scopeIndex].spans.count
                }
                request.resourceSpans[resourceIndex].scopeSpans.removeAll { $0.spans.isEmpty }
            }
            request.resourceSpans.removeAll { $0.scopeSpans.isEmpty }
            if !request.resourceSpans.isEmpty, let bytes = try? request.serializedBytes() as [UInt8] { result.append(bytes) }
        }
        return (result, count)
    }

    func matches(_ summary: TraceSummary) -> Bool {
        configuration.filters.contains { filter in
            switch filter {
            case .errors: summary.errorSpanCount > 0
            case .slowerThan(let limit): Duration.nanoseconds(Int64(clamping: summary.durationNanoseconds)) > limit
            }
        }
    }
}

/// When blocks are old enough to decide their traces: a block is decided once `wait` has passed since the forwarder
/// first saw it stored (it looks at the newest block id every poll; after a restart, the wait starts again). As with
/// the Collector's tail sampling (`decision_wait` from a trace's first span), spans that arrive after their trace was
/// decided are decided on their own: a late error sends the late spans, not the earlier ones.
struct FilterDecisions {
    let wait: Duration
    private var seen: [(blockID: Int64, at: ContinuousClock.Instant)] = []

    init(wait: Duration) {
        self.wait = wait
    }

    /// Notes that every block up to `blockID` exists at `now`.
    mutating func saw(_ blockID: Int64, at now: ContinuousClock.Instant = .now) {
        if seen.last.map({ blockID > $0.blockID }) ?? true { seen.append((blockID, now)) }
    }

    /// The leading part of `batch` whose blocks are old enough at `now`; nil when none is.
    mutating func ready(_ batch: ForwardBatch, at now: ContinuousClock.Instant = .now) -> ForwardBatch? {
        let oldEnough = seen.last { $0.at.advanced(by: wait) <= now }?.blockID ?? 0
        // Marks at or below the decided point are no longer needed, except the newest of them.
        if let last = seen.lastIndex(where: { $0.blockID <= oldEnough }), last > 0 { seen.removeFirst(last) }
        let count = batch.blocks.prefix { $0.id <= oldEnough }.count
        guard count > 0 else { return nil }
        return ForwardBatch(blocks: Array(batch.blocks.prefix(count)))
    }
}
