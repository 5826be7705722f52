/// Span durations counted in log-linear buckets: each power of two is cut into 8 equal buckets, so a quantile read
/// from the buckets is within 6.25 % of the true value (the bucket's middle is returned), whatever the scale, from
/// nanoseconds to days. Buckets are sparse; the encoding (6 bytes per non-empty bucket) is what the store keeps per
/// operation and minute.
struct DurationHistogram: Equatable, Sendable {
    /// Non-empty buckets: bucket index → count.
    private(set) var counts: [UInt16: UInt64] = [:]
    private(set) var total: UInt64 = 0

    static let subBuckets = 8
    /// Bucket 0 holds zero durations; 1 + 64 × 8 buckets cover every UInt64.
    static let bucketCount = 1 + 64 * subBuckets

    init() {}

    mutating func record(_ nanoseconds: UInt64, count: UInt64 = 1) {
        let bucket = Self.bucket(of: nanoseconds)
        counts[bucket, default: 0] &+= count
        total &+= count
    }

    mutating func merge(_ other: DurationHistogram) {
        for (bucket, count) in other.counts { counts[bucket, default: 0] &+= count }
        total &+= other.total
    }

    /// Removes counts that were merged in before (a sliding window's minute leaving it).
    mutating func subtract(_ other: DurationHistogram) {
        for (bucket, count) in other.counts {
            let remaining = (counts[bucket] ?? 0) - min(counts[bucket] ?? 0, count)
            counts[bucket] = remaining > 0 ? remaining : nil
        }
        total -= min(total, other.total)
    }

    /// The duration at quantile `q` (0...1), in nanoseconds; nil when the histogram is empty.
    func quantile(_ q: Double) -> Double? {
        guard total > 0, q.isFinite else { return nil }
        let rank = max(1, (min(max(q, 0), 1) * Double(total)).rounded(.up))
        var seen: UInt64 = 0
        for bucket in counts.keys.sorted() {
            seen &+= counts[bucket] ?? 0
            if Double(seen) >= rank { return Self.middle(of: bucket) }
        }
        return counts.keys.max().map(Self.middle(of:))
    }

    /// The bucket of a duration: the exponent of its top bit and the next three bits.
    static func bucket(of nanoseconds: UInt64) -> UInt16 {
        guard nanoseconds > 0 else { return 0 }
        let exponent = 63 - nanoseconds.leadingZeroBitCount
        let fraction = exponent >= 3 ? (nanoseconds >> (exponent - 3)) & 7 : (nanoseconds << (3 - exponent)) & 7
        return UInt16(1 + exponent * subBuckets + Int(fraction))
    }

    /// The middle of a bucket's range, in nanoseconds.
    static func middle(of bucket: UInt16) -> Double {
        guard bucket > 0 else { return 0 }
        let exponent = Int(bucket - 1) / subBuckets
        let fraction = Double(Int(bucket - 1) % subBuckets)
        let base = Double(sign: .plus, exponent: exponent, significand: 1)
        let lower = base * (1 + fraction / 8)
        let upper = base * (1 + (fraction + 1) / 8)
        // Below 8 ns the buckets are finer than integers: the smallest integer in the bucket is the honest answer.
        return exponent < 3 ? lower.rounded(.up) : (lower + upper) / 2
    }

    /// Little-endian pairs of (bucket: UInt16, count: UInt32), by bucket; counts above UInt32.max are split.
    var encoded: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(counts.count * 6)
        for bucket in counts.keys.sorted() {
            var remaining = counts[bucket] ?? 0
            while remaining > 0 {
                let part = UInt32(min(remaining, UInt64(UInt32.max)))
                remaining -= UInt64(part)
                bytes += [UInt8(bucket & 0xff), UInt8(bucket >> 8)]
                bytes += [UInt8(part & 0xff), UInt8((part >> 8) & 0xff), UInt8((part >> 16) & 0xff), UInt8(part >> 24)]
            }
        }
        return bytes
    }

    /// Decodes ``encoded``; nil for bytes it could not have written (a stored value is untrusted like any input).
    init?(encoded bytes: some Collection<UInt8>) {
        let bytes = Array(bytes)
        guard bytes.count % 6 == 0 else { return nil }
        var offset = 0
        while offset < bytes.count {
            let bucket = UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
            let count =
                UInt64(bytes[offset + 2]) | UInt64(bytes[offset + 3]) << 8 | UInt64(bytes[offset + 4]) << 16 | UInt64(bytes[offset + 5])
                << 24
            guard Int(bucket) < Self.bucketCount else { return nil }
            counts[bucket, default: 0] &+= count
            total &+= count
            offset += 6
        }
    }
}
