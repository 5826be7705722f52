/// The Jaeger v1 API envelope: `{"data":…,"total":…,"limit":0,"offset":0,"errors":null}`.
struct JaegerEnvelope<Payload: Encodable>: Encodable {
    struct ErrorEntry: Codable {
        var code: Int?
        var msg: String
        var traceID: String?
    }

    var data: Payload?
    var total: Int
    var limit = 0
    var offset = 0
    var errors: [ErrorEntry]?

    enum CodingKeys: String, CodingKey { case data, total, limit, offset, errors }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if let data { try container.encode(data, forKey: .data) } else { try container.encodeNil(forKey: .data) }
        try container.encode(total, forKey: .total)
        try container.encode(limit, forKey: .limit)
        try container.encode(offset, forKey: .offset)
        if let errors { try container.encode(errors, forKey: .errors) } else { try container.encodeNil(forKey: .errors) }
    }
}

extension JaegerEnvelope: Decodable where Payload: Decodable {
    /// Reads an envelope as Jaeger writes it; `total`, `limit`, `offset` and `errors` may be missing.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        data = try container.decodeIfPresent(Payload.self, forKey: .data)
        total = try container.decodeIfPresent(Int.self, forKey: .total) ?? 0
        limit = try container.decodeIfPresent(Int.self, forKey: .limit) ?? 0
        offset = try container.decodeIfPresent(Int.self, forKey: .offset) ?? 0
        errors = try container.decodeIfPresent([ErrorEntry].self, forKey: .errors)
    }
}
