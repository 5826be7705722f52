import Foundation
import Hummingbird
import NIOCore
import Otter

/// `GET /api/otter/status`: what the viewer holds and, with forwarding, what it has sent on: per signal queued (stored,
/// not yet acknowledged upstream), sent, rejected (in a partial success), dropped (refused for good), filtered out,
/// retries, lost (deleted by retention or the size bound before it was sent) and the last error.
struct StatusAPI: Sendable {
    let queue: (any ForwardingQueue)?
    let forwarding: ForwardingConfiguration?
    let status: ForwardingStatus

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/api/otter/status") { _, _ -> Response in
            let json = try await report()
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json.text)))
        }
    }

    func report() async throws -> JSONValue {
        guard let forwarding, let queue else { return ["forwarding": .null] }
        var signals: [String: JSONValue] = [:]
        for signal in ForwardedSignal.allCases {
            let progress = try await queue.forwardProgress(signal)
            let counters = status.counters(signal)
            signals[signal.rawValue] = [
                "queued": .integer(progress.pendingItems), "sent": .integer(counters.sent), "rejected": .integer(counters.rejected),
                "dropped": .integer(counters.dropped), "filteredOut": .integer(counters.filteredOut), "retries": .integer(counters.retries),
                "lost": .integer(progress.lostItems), "lastError": JSONValue(counters.lastError),
                "lastErrorAt": JSONValue(counters.lastErrorAtNanoseconds.map(TimestampFormatting.iso8601Microseconds)),
                "lastSentAt": JSONValue(counters.lastSentAtNanoseconds.map(TimestampFormatting.iso8601Microseconds)),
            ]
        }
        let upstream = forwarding.upstream
        return [
            "forwarding": [
                "upstream": .string(forwarding.upstreamDescription), "protocol": .string(upstream.transportProtocol.rawValue),
                "filters": .array(forwarding.filters.map { .string($0.description) }),
                "spans": signals["spans"] ?? .null, "logs": signals["logs"] ?? .null,
            ]
        ]
    }
}
