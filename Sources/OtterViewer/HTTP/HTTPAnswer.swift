import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The query port's JSON answers: values encoded one way everywhere, and errors in the Jaeger envelope that every
/// client of this port (Jaeger UI, Grafana, scripts) already reads.
enum HTTPAnswer {
    /// `value` as JSON (keys sorted, non-finite doubles as strings), or a 500 in the envelope if it cannot be encoded.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        do {
            let data = try encoded(value)
            return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        } catch {
            let body = ByteBuffer(
                string: #"{"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":500,"msg":"cannot encode the answer as JSON"}]}"#)
            return Response(status: .internalServerError, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
        }
    }

    /// `value` as the JSON answers write it.
    static func encoded(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // NaN and the infinities are valid span values but not JSON numbers: they go as strings, as protobuf JSON writes them.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try encoder.encode(value)
    }

    /// `value` as JSON to embed in an HTML `<script type="application/json">` block: every `<` (only ever inside a JSON
    /// string) is written `\u003c`, so no value can end the block or open a comment. `null` if it cannot be encoded.
    static func jsonForScriptBlock(_ value: some Encodable) -> String {
        guard let data = try? encoded(value) else { return "null" }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(data.count)
        for byte in data {
            if byte == UInt8(ascii: "<") {
                bytes.append(contentsOf: Array(#"\u003c"#.utf8))
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// An error in the Jaeger envelope: `{"data":null,…,"errors":[{"code":…,"msg":…}]}`.
    static func error(_ status: HTTPResponse.Status, _ message: String, traceID: String? = nil) -> Response {
        let envelope = JaegerEnvelope<[String]>(
            data: nil, total: 0, errors: [.init(code: Int(status.code), msg: message, traceID: traceID)])
        return json(envelope, status: status)
    }
}
