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

/// OTLP/HTTP `POST /v1/traces`: protobuf or JSON, optionally gzipped. A request is stored whole or not at all;
/// bad input gets 400 (malformed), 413 (too large, gzip bombs included) or 415 (content type) with a message,
/// in the encoding the client used, as the OTLP specification asks.
public struct OTLPHTTPReceiver: Sendable {
    public let store: any TraceStore
    /// Largest accepted body, before and after decompression.
    public let maximumBodyBytes: Int

    public init(store: any TraceStore, maximumBodyBytes: Int = 64 << 20) {
        self.store = store
        self.maximumBodyBytes = maximumBodyBytes
    }

    enum Encoding {
        case protobuf, json
    }

    struct Rejection: Error {
        var status: HTTPResponse.Status
        var message: String
    }

    public func addRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/traces") { request, _ -> Response in
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
            do {
                let body = try await readBody(request)
                let exportRequest: OTLPExportTraceServiceRequest
                do {
                    switch encoding {
                    case .protobuf: exportRequest = try OTLPExportTraceServiceRequest(serializedBytes: Array(body.readableBytesView))
                    case .json: exportRequest = try OTLPJSON.decodeRequest(Data(body.readableBytesView))
                    }
                } catch {
                    throw Rejection(status: .badRequest, message: "malformed OTLP request: \(error)")
                }
                let spans: [FinishedSpan]
                do {
                    spans = try OTLPMapping.finishedSpans(from: exportRequest)
                } catch {
                    throw Rejection(status: .badRequest, message: "\(error)")
                }
                do {
                    try await store.write(spans)
                } catch {
                    // The store failed (disk full, I/O error): 503 is retryable under the OTLP specification, so the
                    // exporter keeps the spans and sends them again instead of dropping them.
                    throw Rejection(status: .serviceUnavailable, message: "spans not stored, retry later: \(error)")
                }
                return Self.successResponse(encoding)
            } catch let rejection as Rejection {
                return Self.errorResponse(rejection.status, rejection.message, encoding)
            }
        }
    }

    private func readBody(_ request: Request) async throws -> ByteBuffer {
        var body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maximumBodyBytes)
        } catch {
            throw Rejection(status: .contentTooLarge, message: "request body exceeds \(maximumBodyBytes) bytes")
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

    static func successResponse(_ encoding: Encoding) -> Response {
        switch encoding {
        case .protobuf:
            let bytes: [UInt8] = (try? OTLPExportTraceServiceResponse().serializedBytes()) ?? []
            return Response(status: .ok, headers: [.contentType: "application/x-protobuf"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        case .json:
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
    }

    /// A `google.rpc.Status`-shaped error body: protobuf for protobuf clients, JSON otherwise.
    static func errorResponse(_ status: HTTPResponse.Status, _ message: String, _ encoding: Encoding) -> Response {
        let code = status == .contentTooLarge ? 8 : (status == .serviceUnavailable ? 14 : 3)
        switch encoding {
        case .protobuf:
            let rpcCode: RPCError.Code =
                status == .contentTooLarge ? .resourceExhausted : (status == .serviceUnavailable ? .unavailable : .invalidArgument)
            let bytes: [UInt8] = (try? GoogleRPCStatus(code: rpcCode, message: message, details: []).serializedBytes()) ?? []
            return Response(status: status, headers: [.contentType: "application/x-protobuf"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        case .json:
            let payload = (try? JSONSerialization.data(withJSONObject: ["code": code, "message": message])) ?? Data()
            return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: payload)))
        }
    }
}
