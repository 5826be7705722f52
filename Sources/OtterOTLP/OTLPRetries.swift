import Logging
import Otter

/// What one delivery attempt came to, for ``OTLPRetryPolicy/run(timeout:_:)``.
enum OTLPAttemptOutcome {
    case delivered
    /// A transient failure: retry after `retryAfter` (the server's wish) or the policy's backoff.
    case retryable(reason: String, retryAfter: Duration?)
}

extension OTLPRetryPolicy {
    /// Calls `attempt` until it delivers, throws (a failure that must not be retried), or the attempts or the
    /// timeout run out (`OTLPExportError.gaveUp`). `attempt` receives the deadline of the whole export.
    func run(
        timeout: Duration, _ attempt: (_ deadline: ContinuousClock.Instant) async throws -> OTLPAttemptOutcome
    ) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var attempts = 0
        while true {
            attempts += 1
            guard case .retryable(let reason, let retryAfter) = try await attempt(deadline) else { return }
            guard attempts < maximumAttempts else { throw OTLPExportError.gaveUp(attempts: attempts, lastError: reason) }
            let delay = retryAfter ?? backoff(beforeRetry: attempts)
            guard clock.now.advanced(by: delay) < deadline else {
                throw OTLPExportError.gaveUp(attempts: attempts, lastError: "\(reason); next retry would pass the export timeout")
            }
            try await Task.sleep(for: delay)
        }
    }
}

/// Logs a partial success (OTLP: the receiver rejected some spans, or warns); full successes log nothing.
func logPartialSuccess(_ response: OTLPExportTraceServiceResponse, batchSize: Int, logger: Logger) {
    guard response.hasPartialSuccess else { return }
    let partial = response.partialSuccess
    guard partial.rejectedSpans > 0 || !partial.errorMessage.isEmpty else { return }
    logger.warning(
        "OTLP receiver accepted the export partially",
        metadata: [
            "otter.spans": "\(batchSize)", "otter.spans.rejected": "\(partial.rejectedSpans)",
            "message": "\(partial.errorMessage)",
        ])
}

/// Logs a partial success of a log export (the receiver rejected some records, or warns); full successes log nothing.
func logPartialSuccess(_ response: OTLPExportLogsServiceResponse, batchSize: Int, logger: Logger) {
    guard response.hasPartialSuccess else { return }
    let partial = response.partialSuccess
    guard partial.rejectedLogRecords > 0 || !partial.errorMessage.isEmpty else { return }
    logger.warning(
        "OTLP receiver accepted the log records partially",
        metadata: [
            "otter.log_records": "\(batchSize)", "otter.log_records.rejected": "\(partial.rejectedLogRecords)",
            "message": "\(partial.errorMessage)",
        ])
}
