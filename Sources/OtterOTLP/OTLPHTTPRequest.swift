import AsyncHTTPClient
import CompressNIO
import Foundation
import GRPCProtobuf
import NIOCore
import NIOHTTP1

/// One OTLP/HTTP export of an encoded request, for every signal: `POST` to the configured endpoint with the content
/// type, user agent, headers and compression configured, and the OTLP specification's retries (429, 502, 503, 504
/// and connection failures, with exponential backoff and jitter or after `Retry-After`) within the export timeout.
struct OTLPHTTPRequest {
    let configuration: OTLPExporterConfiguration
    let httpClient: HTTPClient

    /// Sends `encoded` (protobuf or JSON, as configured, before compression); `delivered` gets a successful
    /// response's body and content type (for a partial success). Throws ``OTLPExportError`` when it was not
    /// delivered.
    func post(_ encoded: [UInt8], delivered: (ByteBuffer, String?) -> Void) async throws {
        guard encoded.count <= OTLPHTTPExporter.maximumRequestBytes else {
            throw OTLPExportError.requestTooLarge(bytes: encoded.count)
        }
        var body = ByteBuffer(bytes: encoded)
        if configuration.compression == .gzip {
            body = try body.compress(with: .gzip())
        }

        var request = HTTPClientRequest(url: configuration.endpoint.absoluteString)
        request.method = .POST
        request.headers.add(
            name: "Content-Type", value: configuration.transportProtocol == .httpJSON ? "application/json" : "application/x-protobuf")
        request.headers.add(name: "User-Agent", value: OTLPHTTPExporter.userAgent)
        if configuration.compression == .gzip { request.headers.add(name: "Content-Encoding", value: "gzip") }
        for header in configuration.headers { request.headers.add(name: header.name, value: header.value) }

        try await configuration.retryPolicy.run(timeout: configuration.timeout) { deadline in
            request.body = .bytes(body)
            switch await send(request, deadline: deadline) {
            case .delivered(let responseBody, let contentType):
                delivered(responseBody, contentType)
                return .delivered
            case .rejected(let status, let message):
                throw OTLPExportError.rejected(statusCode: status, message: message)
            case .retryable(let description, let retryAfter):
                return .retryable(reason: description, retryAfter: retryAfter)
            }
        }
    }

    private enum Outcome {
        case delivered(body: ByteBuffer, contentType: String?)
        case rejected(status: Int, message: String)
        case retryable(description: String, retryAfter: Duration?)
    }

    private func send(_ request: HTTPClientRequest, deadline: ContinuousClock.Instant) async -> Outcome {
        let remaining = ContinuousClock().now.duration(to: deadline)
        let timeout = TimeAmount.nanoseconds(max(1_000_000, remaining.nanoseconds))
        do {
            let response = try await httpClient.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: 4 << 20)
            let status = Int(response.status.code)
            switch status {
            case 200..<300:
                return .delivered(body: body, contentType: response.headers.first(name: "Content-Type"))
            case 429, 502, 503, 504:
                return .retryable(
                    description: "HTTP \(status)",
                    retryAfter: response.headers.first(name: "Retry-After").flatMap(Self.parseRetryAfter))
            default:
                return .rejected(
                    status: status, message: Self.errorMessage(in: body, contentType: response.headers.first(name: "Content-Type")))
            }
        } catch is CancellationError {
            return .rejected(status: 0, message: "export cancelled")
        } catch {
            return .retryable(description: "\(error)", retryAfter: nil)
        }
    }

    /// `Retry-After` as delay-seconds or an HTTP-date.
    static func parseRetryAfter(_ value: String) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        let seconds = max(0, date.timeIntervalSinceNow)
        return .milliseconds(Int(seconds * 1000))
    }

    /// The message of a `google.rpc.Status` body (protobuf or JSON), or the body as text.
    static func errorMessage(in body: ByteBuffer, contentType: String?) -> String {
        let bytes = Array(body.readableBytesView)
        if contentType?.lowercased().hasPrefix("application/x-protobuf") == true,
            let message = (try? GoogleRPCStatus(serializedBytes: bytes))?.message
        {
            return message
        }
        if contentType?.lowercased().hasPrefix("application/json") == true,
            let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            let message = object["message"] as? String
        {
            return message
        }
        return String(decoding: bytes.prefix(512), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
