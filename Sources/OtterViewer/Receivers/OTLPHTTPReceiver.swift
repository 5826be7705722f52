import CompressNIO
import Foundation
import GRPCCore
import GRPCProtobuf
import HTTPTypes
import Hummingbird
import NIOCore
import Otter
import OtterOTLP
import SwiftProtobuf

/// OTLP/HTTP `POST /v1/traces` and `POST /v1/logs`: protobuf or JSON, optionally gzipped. The valid spans or log
/// records of a request are stored and the invalid ones (bad ids) counted in the answer's `partial_success`, as the
/// OTLP specification asks; a body that cannot be read gets 400 (malformed), 413 (too large: by Content-Length before
/// reading, after decompression, or by message count) or 415 (content type) with a message, in the encoding the client
/// used. Without a log store, `/v1/logs` answers 404 with a message.
package struct OTLPHTTPReceiver: Sendable {
    package let store: any TraceStore
    package let logStore: (any LogStore)?
    /// Largest accepted body, before and after decompression.
    package let maximumBodyBytes: Int
    /// Request bytes held at once, shared with the gRPC receivers.
    package let budget: MemoryBudget

    package init(
        store: any TraceStore, logStore: (any LogStore)? = nil, maximumBodyBytes: Int = 64 << 20,
        budget: MemoryBudget = MemoryBudget(limit: 512 << 20)
    ) {
        self.store = store
        self.logStore = logStore
        self.maximumBodyBytes = maximumBodyBytes
        self.budget = budget
    }

    enum Encoding {
        case protobuf, json
    }

    struct Rejection: Error {
        var status: HTTPResponse.Status
        var message: String
    }

    package func addRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/traces") { request, _ -> Response in
            await receive(request) { body, encoding in
                let traces = try Self.decode(body, encoding)
                do {
                    return Self.successResponse(
                        encoding, response: OTLPExportTraceServiceResponse(rejections: try await store.write(traces)))
                } catch {
                    // The store failed (disk full, I/O error): 503 is retryable under the OTLP specification, so the
                    // exporter keeps the spans and sends them again instead of dropping them.
                    throw Rejection(status: .serviceUnavailable, message: "spans not stored, retry later: \(error)")
                }
            }
        }
        router.post("/v1/logs") { request, _ -> Response in
            await receive(request) { body, encoding in
                guard let logStore else {
                    throw Rejection(status: .notFound, message: "this viewer stores no log records (its store keeps spans only)")
                }
                let logs = try Self.decodeLogs(body, encoding)
                do {
                    return Self.successResponse(
                        encoding, response: OTLPExportLogsServiceResponse(rejections: try await logStore.write(logs)))
                } catch {
                    throw Rejection(status: .serviceUnavailable, message: "log records not stored, retry later: \(error)")
                }
            }
        }
    }

    /// Checks the content type, reads the body and hands it to `store`; a ``Rejection`` becomes its status and message.
    private func receive(_ request: Request, store: (ByteBuffer, Encoding) async throws -> Response) async -> Response {
        let contentType = request.headers[.contentType]?.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        let encoding: Encoding
        switch contentType {
        case "application/x-protobuf", "application/protobuf": encoding = .protobuf
        case "application/json": encoding = .json
        default:
            return Self.errorResponse(
                .unsupportedMediaType,
                "unsupported content type \(contentType ?? "(none)"): use application/x-protobuf or application/json", .json)
        }
        // What the body will hold: its declared length (a gzipped one decompresses to up to ten times that), or the
        // limit for a body of unknown length.
        let declared = request.headers[.contentLength].flatMap { Int($0) }.map { min(max($0, 0), maximumBodyBytes) } ?? maximumBodyBytes
        let gzipped = request.headers[.contentEncoding]?.lowercased() == "gzip"
        let expected = gzipped ? min(declared.multipliedReportingOverflow(by: 10).partialValue, maximumBodyBytes) : declared
        let reserved = expected.multipliedReportingOverflow(by: MemoryBudget.reservedBytesPerRequestByte)
        guard let reservation = budget.reserve(reserved.overflow ? .max : reserved.partialValue) else {
            var response = Self.errorResponse(
                .tooManyRequests, "the viewer is receiving \(budget.limit >> 20) MB of requests already: retry shortly", encoding)
            response.headers[.retryAfter] = "1"
            return response
        }
        defer { withExtendedLifetime(reservation) {} }
        do {
            return try await store(try await readBody(request), encoding)
        } catch let rejection as Rejection {
            var response = Self.errorResponse(rejection.status, rejection.message, encoding)
            // The store could not take the request now (full, pruning): exporters retry, and should wait a moment.
            if rejection.status == .serviceUnavailable { response.headers[.retryAfter] = "1" }
            return response
        } catch {
            return Self.errorResponse(.internalServerError, "\(error)", encoding)
        }
    }

    /// The request's spans; protobuf bodies keep their bytes, which the store then keeps as they are.
    static func decode(_ body: ByteBuffer, _ encoding: Encoding) throws -> OTLPTraces {
        try decoding {
            switch encoding {
            case .protobuf: return try OTLPTraces(protobuf: Array(body.readableBytesView))
            case .json: return try OTLPTraces(json: Data(body.readableBytesView))
            }
        }
    }

    /// The request's log records; protobuf bodies keep their bytes.
    static func decodeLogs(_ body: ByteBuffer, _ encoding: Encoding) throws -> OTLPLogs {
        try decoding {
            switch encoding {
            case .protobuf: return try OTLPLogs(protobuf: Array(body.readableBytesView))
            case .json: return try OTLPLogs(json: Data(body.readableBytesView))
            }
        }
    }

    /// `decode`'s errors as the statuses they call for: 413 for a request over the limits, 400 for anything malformed.
    private static func decoding<Decoded>(_ decode: () throws -> Decoded) throws -> Decoded {
        do {
            return try decode()
        } catch let exceeded as OTLPRequestLimits.Exceeded {
            throw Rejection(status: .contentTooLarge, message: "request too large: \(exceeded.description)")
        } catch {
            throw Rejection(status: .badRequest, message: "malformed OTLP request: \(error)")
        }
    }

    private func readBody(_ request: Request) async throws -> ByteBuffer {
        // A declared length over the limit is refused before a byte of the body is read.
        if let declared = request.headers[.contentLength], let length = UInt64(declared), length > UInt64(maximumBodyBytes) {
            throw Rejection(status: .contentTooLarge, message: "request body of \(length) bytes exceeds \(maximumBodyBytes) bytes")
        }
        var body: ByteBuffer
        do throws(RequestBodyError) {
            body = try await request.collectBody(upTo: maximumBodyBytes)
        } catch {
            throw Rejection(status: error.status, message: error.description)
        }
        switch request.headers[.contentEncoding]?.lowercased() {
        case nil, "identity":
            return body
        case "gzip":
            let tooLarge = Rejection(status: .contentTooLarge, message: "decompressed body exceeds \(maximumBodyBytes) bytes")
            let decompressed: ByteBuffer
            do {
                // One byte over the limit tells a body that fits from one that was cut at the limit.
                decompressed = try body.decompress(with: .gzip(), maxSize: maximumBodyBytes + 1)
            } catch let error as CompressNIOError where error == .bufferOverflow {
                throw tooLarge
            } catch {
                throw Rejection(status: .badRequest, message: "body is not valid gzip")
            }
            guard decompressed.readableBytes <= maximumBodyBytes else { throw tooLarge }
            return decompressed
        case let other?:
            throw Rejection(status: .unsupportedMediaType, message: "unsupported content encoding \(other): use gzip or none")
        }
    }

    static func successResponse(_ encoding: Encoding, response: some SwiftProtobuf.Message) -> Response {
        switch encoding {
        case .protobuf:
            let bytes: [UInt8] = (try? response.serializedBytes()) ?? []
            return Response(
                status: .ok, headers: [.contentType: "application/x-protobuf"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        case .json:
            let text = (try? response.jsonString()) ?? "{}"
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }

    /// A `google.rpc.Status`-shaped error body: protobuf for protobuf clients, JSON otherwise.
    static func errorResponse(_ status: HTTPResponse.Status, _ message: String, _ encoding: Encoding) -> Response {
        let code =
            status == .contentTooLarge || status == .tooManyRequests
            ? 8 : (status == .serviceUnavailable ? 14 : status == .notFound ? 5 : 3)
        switch encoding {
        case .protobuf:
            let rpcCode: RPCError.Code =
                status == .contentTooLarge || status == .tooManyRequests
                ? .resourceExhausted : (status == .serviceUnavailable ? .unavailable : status == .notFound ? .notFound : .invalidArgument)
            let bytes: [UInt8] = (try? GoogleRPCStatus(code: rpcCode, message: message, details: []).serializedBytes()) ?? []
            return Response(
                status: status, headers: [.contentType: "application/x-protobuf"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        case .json:
            let payload = (try? JSONSerialization.data(withJSONObject: ["code": code, "message": message])) ?? Data()
            return Response(
                status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: payload)))
        }
    }
}

extension OTLPExportTraceServiceResponse {
    /// Success, with OTLP's `partial_success` when some spans were left out: how many, and the first reason.
    init(rejections: [String]) {
        self.init()
        guard let first = rejections.first else { return }
        partialSuccess.rejectedSpans = Int64(rejections.count)
        partialSuccess.errorMessage = rejections.count == 1 ? first : "\(first) (and \(rejections.count - 1) more spans rejected)"
    }
}

extension OTLPExportLogsServiceResponse {
    /// Success, with OTLP's `partial_success` when some log records were left out: how many, and the first reason.
    init(rejections: [String]) {
        self.init()
        guard let first = rejections.first else { return }
        partialSuccess.rejectedLogRecords = Int64(rejections.count)
        partialSuccess.errorMessage =
            rejections.count == 1 ? first : "\(first) (and \(rejections.count - 1) more log records rejected)"
    }
}
